"""The engine on a real store (SQLite and PostgreSQL): runs, counts, control totals, reruns."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select, text, update

from cardbatch.engine import (
    AlreadyCompleted,
    Item,
    JobContext,
    RunNotResumable,
    RunReport,
    StepInputError,
    run_job,
)
from cardbatch.engine.monitor import build_report
from cardbatch.engine.operations import abandon_run, stop_run
from cardbatch.engine.repo import RunStatus
from cardbatch.engine.runner import ChunkProgress
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries, postings
from cardbatch.store.tables_engine import item_results, job_runs
from tests.engine_helpers import ACTOR, VOLATILE_COLUMNS, dump, migrated, synthetic_request

DAY = date(2026, 3, 5)


def assert_counts_add_up(report: RunReport) -> None:
    """items read = succeeded + failed + skipped, for the run and for every step."""
    assert report.items_read == report.items_succeeded + report.items_failed + report.items_skipped
    for step in report.steps:
        assert step.items_read == step.items_succeeded + step.items_failed + step.items_skipped


def test_a_run_posts_every_item_once_and_its_counts_add_up(store: Store) -> None:
    report = run_job(store, synthetic_request(DAY, items=600))
    assert report.status == "completed", report.reason
    assert_counts_add_up(report)
    charge, settle = report.steps
    expected_failed = sum(1 for i in range(600) if i % 53 == 0 or i % 250 == 249)
    expected_skipped = sum(1 for i in range(600) if i % 71 == 0 and i % 53 and i % 250 != 249)
    assert (charge.items_failed, charge.items_skipped) == (expected_failed, expected_skipped)
    assert charge.items_succeeded == 600 - expected_failed - expected_skipped
    assert charge.entries_written == charge.items_succeeded
    assert charge.debits_fen == charge.credits_fen == charge.amount_fen
    assert settle.items_read == 40 and settle.debits_fen == charge.debits_fen
    reasons = {(f["status"], f["reason_code"]): f["items"] for f in report.failures}
    assert reasons == {
        ("failed", "synthetic_decline"): sum(1 for i in range(600) if i % 53 == 0),
        ("failed", "synthetic_limit"): 2,
        ("skipped", "zero_amount"): expected_skipped,
    }
    check = ledger.check(store)
    assert check.balanced and check.journal_entries == charge.items_succeeded + 40


def test_a_completed_run_is_not_run_again_and_a_rerun_posts_nothing_twice(store: Store) -> None:
    first = run_job(store, synthetic_request(DAY, items=300))
    before = dump(store, VOLATILE_COLUMNS)["journal_entries"]
    with pytest.raises(AlreadyCompleted, match="already completed"):
        run_job(store, synthetic_request(DAY, items=300))
    again = run_job(store, synthetic_request(DAY, items=300, rerun=True))
    assert again.run_id != first.run_id and again.rerun_no == 1
    assert again.status == "completed"
    assert_counts_add_up(again)
    assert dump(store, VOLATILE_COLUMNS)["journal_entries"] == before
    charge = again.steps[0]
    assert charge.entries_written == 0
    assert charge.items_skipped == first.steps[0].items_succeeded + first.steps[0].items_skipped
    assert ledger.check(store).balanced


def test_an_error_on_the_last_item_of_a_chunk_rolls_the_chunk_back_and_resume_completes(
    store: Store,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    monkeypatch.setenv("CARDBATCH_TEST_EXPLODE_ITEM", "i000149")  # last item of chunk 2
    with pytest.raises(RuntimeError, match="exploding"):
        run_job(store, synthetic_request(DAY, items=400))
    with store.read() as conn:
        run = conn.execute(select(job_runs)).one()
        results = conn.execute(select(item_results.c.item_key)).scalars().all()
        keys = conn.execute(select(journal_entries.c.idempotency_key)).scalars().all()
    assert run.status == "failed" and "exploding" in run.reason
    assert run.items_read == 100 and sorted(results)[-1] == "i000099"
    assert not any(k.endswith(f":i{i:06d}") for k in keys for i in range(100, 150))
    monkeypatch.delenv("CARDBATCH_TEST_EXPLODE_ITEM")
    resumed = run_job(store, synthetic_request(DAY, items=400))
    assert resumed.status == "completed" and resumed.run_id == run.run_id
    assert resumed.attempts == 2
    assert_counts_add_up(resumed)
    reference = migrated(_other_url(db_url, tmp_path_factory))
    try:
        run_job(reference, synthetic_request(DAY, items=400))
        assert _ledger_view(store) == _ledger_view(reference)
    finally:
        reference.dispose()


def _other_url(db_url: str, factory: pytest.TempPathFactory) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{factory.mktemp('reference') / 'ref.db'}"
    pytest.skip("the reference comparison runs on SQLite")


def _ledger_view(store: Store) -> dict[str, object]:
    tables = dump(store, VOLATILE_COLUMNS | {"actor"})
    keep = ("journal_entries", "postings", "balances", "item_results", "run_steps", "run_chunks")
    return {name: tables[name] for name in keep}


def test_control_totals_that_disagree_with_the_ledger_stop_the_next_step(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDBATCH_TEST_EXPLODE_ITEM", "TST:0000")  # first item of `settle`
    with pytest.raises(RuntimeError):
        run_job(store, synthetic_request(DAY, items=200))
    monkeypatch.delenv("CARDBATCH_TEST_EXPLODE_ITEM")
    with store.write() as conn:  # someone edits a posted amount on both legs
        entry_id = conn.execute(select(journal_entries.c.entry_id).limit(1)).scalar_one()
        conn.execute(
            update(postings)
            .where(postings.c.entry_id == entry_id)
            .values(amount_fen=postings.c.amount_fen * 2)
        )
    report = run_job(store, synthetic_request(DAY, items=200))
    assert report.status == "failed"
    assert report.reason is not None and "before step settle" in report.reason
    assert "ledger has" in report.reason


def test_failure_rate_over_the_threshold_stops_the_run_for_an_operator(store: Store) -> None:
    strict = {"failure_rate_max_pct": 1, "failure_min_items": 100}
    report = run_job(store, synthetic_request(DAY, items=600, settings=strict))
    assert report.status == "stopped"
    assert report.reason is not None and "failure rate" in report.reason
    assert report.items_read == 100  # judged after the second chunk of 50
    assert_counts_add_up(report)
    lenient = {"failure_rate_max_pct": 10, "failure_min_items": 100}
    resumed = run_job(store, synthetic_request(DAY, items=600, settings=lenient))
    assert resumed.status == "completed" and resumed.run_id == report.run_id
    assert resumed.items_read == 640


def test_stop_abandon_and_a_new_run_after_abandon(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDBATCH_TEST_EXPLODE_ITEM", "i000120")
    with pytest.raises(RuntimeError):
        run_job(store, synthetic_request(DAY, items=300))
    monkeypatch.delenv("CARDBATCH_TEST_EXPLODE_ITEM")
    with store.read() as conn:
        run_id = conn.execute(select(job_runs.c.run_id)).scalar_one()
    assert stop_run(store, run_id, ACTOR) == "stopped"
    with pytest.raises(Exception, match="reason"):
        abandon_run(store, run_id, ACTOR, "  ")
    abandon_run(store, run_id, ACTOR, "input file was wrong")
    with store.read() as conn:
        report = build_report(conn, run_id)
    assert report.status == RunStatus.ABANDONED
    assert report.reason == f"abandoned by {ACTOR}: input file was wrong"
    entries_before = ledger.check(store).journal_entries
    with pytest.raises(RunNotResumable):
        run_job(store, synthetic_request(DAY, items=300, resume_run_id=run_id))
    fresh = run_job(store, synthetic_request(DAY, items=300))
    assert fresh.rerun_no == 1 and fresh.status == "completed"
    charge, settle = fresh.steps
    posted_before = sum(1 for i in range(100) if i % 53 and i % 250 != 249 and i % 71)
    zero = sum(1 for i in range(300) if i % 71 == 0 and i % 53 and i % 250 != 249)
    assert charge.items_skipped == posted_before + zero  # the abandoned run's are not reposted
    written = charge.entries_written + settle.entries_written
    assert ledger.check(store).journal_entries == entries_before + written
    assert ledger.check(store).balanced


def test_monitoring_data_progress_rate_and_step_timings(store: Store) -> None:
    report = run_job(store, synthetic_request(DAY, items=300))
    assert report.progress_pct == 100.0
    for step in report.steps:
        assert step.started_at is not None and step.ended_at is not None
        assert step.ended_at >= step.started_at
        assert step.chunks_done >= 1 and step.eta_s == 0.0
    with store.read() as conn:
        chunks = conn.execute(text("SELECT COUNT(*) FROM run_chunks")).scalar_one()
    assert chunks == 6 + 1


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.integers(0, 260), chunk_size=st.integers(1, 90), day_offset=st.integers(0, 10**5))
def test_items_read_always_equal_succeeded_failed_and_skipped(
    sqlite_store: Store, items: int, chunk_size: int, day_offset: int
) -> None:
    """Any item count (also none) and any chunk size: every item is accounted for once."""
    day = date(2000, 1, 1) + timedelta(days=day_offset)
    try:
        report = run_job(sqlite_store, synthetic_request(day, items=items, chunk_size=chunk_size))
    except AlreadyCompleted:
        return  # hypothesis drew the same date twice
    assert report.status == "completed"
    assert_counts_add_up(report)
    assert report.items_read == report.items_total == items + 40
    with sqlite_store.read() as conn:
        stored = conn.execute(
            select(func.count())
            .select_from(item_results)
            .where(item_results.c.run_id == report.run_id)
        ).scalar_one()
        chunks = conn.execute(
            text("SELECT COUNT(*) FROM run_chunks WHERE run_id = :r"), {"r": report.run_id}
        ).scalar_one()
    assert stored == items + 40
    assert chunks == -(-items // chunk_size) + -(-40 // chunk_size)


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    store = migrated(sqlite_url)
    yield store
    store.dispose()


def test_stop_asks_a_live_runner_to_stop_after_its_chunk_and_resume_finishes(
    store: Store,
) -> None:
    answers: list[str] = []

    def operator_stops_after_third_chunk(progress: ChunkProgress) -> None:
        if progress.step_name == "charge" and progress.chunk_no == 2:
            answers.append(stop_run(store, progress.run_id, ACTOR))  # the runner is live

    stopped = run_job(store, synthetic_request(DAY, items=2000), operator_stops_after_third_chunk)
    assert answers == ["stop requested; the runner stops after its current chunk"]
    assert stopped.status == "stopped" and stopped.reason == "stopped by operator"
    assert stopped.items_read == 150
    assert_counts_add_up(stopped)
    finished = run_job(store, synthetic_request(DAY, items=2000))
    assert finished.status == "completed" and finished.run_id == stopped.run_id
    assert_counts_add_up(finished)


def test_a_step_lists_its_items_with_the_collector_held_and_gives_it_back(store: Store) -> None:
    """Listing makes a step's items at once (often 100,000s of objects without cycles): the
    cyclic garbage collector is held meanwhile and running again afterwards, also when the
    listing fails."""
    request = synthetic_request(DAY, items=120)
    charge, *rest = request.job.steps
    seen: list[bool] = []

    def listing(conn: Connection, ctx: JobContext) -> list[Item]:
        seen.append(gc.isenabled())
        return list(charge.list_items(conn, ctx))

    def broken(_conn: Connection, _ctx: JobContext) -> list[Item]:
        raise StepInputError("the input file is missing")

    job = replace(request.job, steps=(replace(charge, list_items=listing), *rest))
    report = run_job(store, replace(request, job=job))
    assert report.status == "completed", report.reason
    assert seen == [False] and gc.isenabled()
    job = replace(request.job, steps=(replace(charge, list_items=broken), *rest))
    failed = run_job(store, replace(request, job=job, business_date=DAY + timedelta(days=1)))
    assert failed.status == "failed" and "missing" in (failed.reason or "")
    assert gc.isenabled()
