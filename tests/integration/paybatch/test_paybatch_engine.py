"""A batch's run as the ``paybatch`` job on the engine (SQLite and PostgreSQL): refused rows are
business outcomes that never trip the failure-rate stop, the engine run shows in the run list
with the batch's counts, and a run killed anywhere resumes and pays each row once."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cardbatch.engine import EngineSettings
from cardbatch.engine.faults import FAULT_ENV
from cardbatch.engine.monitor import build_report
from cardbatch.engine.operations import abandon_run
from cardbatch.engine.registry import get_job, night_jobs
from cardbatch.engine.repo import list_runs
from cardbatch.engine.runner import ChunkProgress, RunRequest, run_job
from cardbatch.paybatch import (
    BatchStatus,
    SubmitRequest,
    approve,
    entry_key,
    run_batch,
    show,
    submit,
)
from cardbatch.paybatch.run import DONE_BEFORE, JOB_NAME, STEP_NAME
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_paybatch import paybatch_results, paybatches
from tests.engine_helpers import REPO_ROOT, cli_command, cli_env
from tests.integration.paybatch.test_lifecycle import submit_approved
from tests.integration.paybatch.worlds import (
    DAY,
    EMPLOYER,
    WORLDS,
    available_fen,
    build_world,
    numbered_success_fen,
    numbered_world,
    write_numbered_payroll,
)

ROWS_N = 260  # above the engine's failure_min_items (200); about 30% of the rows are refused
CHUNK_ROWS = 50


class Crash(Exception):
    """Stands in for the process failing right after a chunk committed."""


def approved_batch(store: Store, folder: Path, rows: int = ROWS_N) -> int:
    build_world(store, numbered_world(rows))
    path = folder / "payroll.txt"
    write_numbered_payroll(path, rows)
    outcome = submit(store, SubmitRequest(path, "payroll", EMPLOYER, DAY), "maker")
    assert outcome.status == BatchStatus.VALIDATED, outcome.rejection
    approve(store, outcome.batch_id, "checker")
    return outcome.batch_id


def assert_each_row_paid_once(store: Store, batch_id: int, funds_before: int) -> None:
    summary = show(store, batch_id)
    assert summary.status == BatchStatus.COMPLETED
    with store.read() as conn:
        rows = list(conn.execute(select(paybatch_results.c.row_no)).scalars())
        keys = list(conn.execute(select(journal_entries.c.idempotency_key)).scalars())
    assert sorted(rows) == list(range(1, ROWS_N + 1))
    row_keys = [k for k in keys if k.startswith(f"paybatch:{batch_id}:")]
    assert len(row_keys) == len(set(row_keys)) == summary.success_count
    assert summary.success_total_fen == numbered_success_fen(ROWS_N)
    assert funds_before - available_fen(store, EMPLOYER) == numbered_success_fen(ROWS_N)
    assert ledger.check(store).balanced


def test_the_job_is_registered_outside_the_night() -> None:
    job = get_job(JOB_NAME)
    assert [step.name for step in job.steps] == [STEP_NAME]
    assert job.night_order is None and job not in night_jobs()
    assert job.steps[0].process_frames is not None and job.steps[0].chunk_scale > 1


def test_refused_rows_are_skipped_and_the_run_shows_the_batch_counts(
    store: Store, tmp_path: Path
) -> None:
    batch_id = approved_batch(store, tmp_path)
    before = available_fen(store, EMPLOYER)
    outcome = run_batch(store, batch_id, "operator", chunk_rows=CHUNK_ROWS)
    assert (outcome.chunks_run, outcome.rows_run, outcome.rows_skipped) == (6, ROWS_N, 0)
    assert outcome.failure_count > ROWS_N // 5  # far above the 5% failure-rate stop
    assert_each_row_paid_once(store, batch_id, before)

    with store.read() as conn:
        runs = list_runs(conn, 10, JOB_NAME, None, None)
        assert len(runs) == 1
        report = build_report(conn, runs[0].run_id)
    assert report.status == "completed" and report.params == {"batch_id": str(batch_id)}
    assert report.business_date == DAY
    assert (report.items_total, report.items_read, report.items_failed) == (ROWS_N, ROWS_N, 0)
    assert report.items_succeeded == outcome.success_count
    assert report.items_skipped == outcome.failure_count
    (step,) = report.steps
    assert step.chunks_done == 6 and step.entries_written == outcome.success_count
    assert step.tallies == {"count:paid": outcome.success_count,
                            "amount_fen:paid": outcome.success_total_fen}  # fmt: skip
    assert step.debits_fen == step.credits_fen == outcome.success_total_fen
    by_reason = {f["reason_code"]: (f["items"], f["amount_fen"]) for f in report.failures}
    shown = show(store, batch_id).by_reason
    assert by_reason == {
        key: (int(v["rows"]), int(v["amount_fen"])) for key, v in shown.items() if key != "success"
    }
    assert {f["status"] for f in report.failures} == {"skipped"}


def crash_after(chunk_no: int) -> Callable[[ChunkProgress], None]:
    """A chunk callback that crashes the run once chunk ``chunk_no`` has committed."""

    def die(progress: ChunkProgress) -> None:
        if progress.chunk_no == chunk_no:
            raise Crash

    return die


def test_a_resumed_run_continues_the_same_engine_run(store: Store, tmp_path: Path) -> None:
    batch_id = approved_batch(store, tmp_path)
    before = available_fen(store, EMPLOYER)

    with pytest.raises(Crash):
        run_batch(store, batch_id, "operator", chunk_rows=CHUNK_ROWS, on_chunk=crash_after(1))
    assert show(store, batch_id).status == BatchStatus.RUNNING
    resumed = run_batch(store, batch_id, "operator", chunk_rows=CHUNK_ROWS)
    assert (resumed.rows_skipped, resumed.rows_run) == (2 * CHUNK_ROWS, ROWS_N - 2 * CHUNK_ROWS)
    assert resumed.chunks_run == 4
    assert_each_row_paid_once(store, batch_id, before)
    with store.read() as conn:
        runs = list_runs(conn, 10, JOB_NAME, None, None)
    assert [(r.status, r.items_read, r.attempts) for r in runs] == [("completed", ROWS_N, 2)]


def test_rows_run_by_an_abandoned_engine_run_are_not_run_again(
    store: Store, tmp_path: Path
) -> None:
    batch_id = approved_batch(store, tmp_path)
    before = available_fen(store, EMPLOYER)

    with pytest.raises(Crash):
        run_batch(store, batch_id, "operator", chunk_rows=CHUNK_ROWS, on_chunk=crash_after(0))
    with store.read() as conn:
        (first,) = list_runs(conn, 10, JOB_NAME, None, None)
    abandon_run(store, first.run_id, "operator", "test: start the batch's run afresh")
    resumed = run_batch(store, batch_id, "operator", chunk_rows=CHUNK_ROWS)
    assert (resumed.rows_skipped, resumed.rows_run) == (CHUNK_ROWS, ROWS_N - CHUNK_ROWS)
    assert_each_row_paid_once(store, batch_id, before)
    with store.read() as conn:
        latest = list_runs(conn, 10, JOB_NAME, None, "completed")[0]
        report = build_report(conn, latest.run_id)
    done_before = [f for f in report.failures if f["reason_code"] == DONE_BEFORE]
    assert done_before == [{"step": STEP_NAME, "status": "skipped", "reason_code": DONE_BEFORE,
                            "items": CHUNK_ROWS, "amount_fen": 0}]  # fmt: skip


def test_a_batch_whose_engine_run_completed_is_only_finished(store: Store, tmp_path: Path) -> None:
    """The process died after the engine run completed, before the batch did."""
    batch_id = approved_batch(store, tmp_path)
    before = available_fen(store, EMPLOYER)
    first = run_batch(store, batch_id, "operator", chunk_rows=CHUNK_ROWS)
    with store.write() as conn:
        conn.execute(
            update(paybatches).where(paybatches.c.batch_id == batch_id)
            .values(status=BatchStatus.RUNNING, completed_at=None, success_count=None)
        )  # fmt: skip
    again = run_batch(store, batch_id, "operator")
    assert (again.chunks_run, again.rows_run, again.rows_skipped) == (0, 0, ROWS_N)
    assert again.success_total_fen == first.success_total_fen
    assert_each_row_paid_once(store, batch_id, before)
    with store.read() as conn:
        assert len(list_runs(conn, 10, JOB_NAME, None, None)) == 1


def test_the_job_started_by_hand_on_a_batch_not_running_changes_nothing(
    store: Store, tmp_path: Path
) -> None:
    batch_id = approved_batch(store, tmp_path)
    before = available_fen(store, EMPLOYER)
    request = RunRequest(get_job(JOB_NAME), DAY, {"batch_id": str(batch_id)}, "operator",
                         EngineSettings())  # fmt: skip
    report = run_job(store, request)
    assert report.status == "failed" and "not running" in (report.reason or "")
    assert show(store, batch_id).status == BatchStatus.APPROVED
    assert available_fen(store, EMPLOYER) == before
    with store.read() as conn:
        assert list(conn.execute(select(paybatch_results.c.row_no))) == []
    assert run_batch(store, batch_id, "operator").rows_run == ROWS_N  # resumes that run
    assert_each_row_paid_once(store, batch_id, before)


def test_a_collection_batch_on_the_engine_tallies_what_it_collected(store: Store) -> None:
    name = "pipe_utf8_collection_20240415.txt"
    build_world(store, WORLDS[name])
    batch_id = submit_approved(store, name)
    outcome = run_batch(store, batch_id, "operator", settings=EngineSettings(chunk_size=1))
    with store.read() as conn:
        (run,) = list_runs(conn, 10, JOB_NAME, None, None)
        report = build_report(conn, run.run_id)
    assert report.steps[0].tallies == {
        "count:collected": outcome.success_count,
        "amount_fen:collected": outcome.success_total_fen,
    }
    assert sum(int(f["items"]) for f in report.failures) == outcome.failure_count


def _run_cli(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args, "--json"), capture_output=True, text=True,
                          env=cli_env(db_url, **env), cwd=REPO_ROOT, timeout=300,
                          check=False)  # fmt: skip


@pytest.mark.parametrize(
    "kill_at", ["pay:0:listed", "pay:1:after_post", "pay:2:in_commit", "pay:3:after_commit"]
)
def test_a_killed_batch_run_resumes_and_pays_each_row_once(
    store: Store, db_url: str, tmp_path: Path, kill_at: str
) -> None:
    batch_id = approved_batch(store, tmp_path)
    before = available_fen(store, EMPLOYER)
    run = ("batch", "run", str(batch_id), "--chunk-rows", str(CHUNK_ROWS))
    killed = _run_cli(db_url, *run, **{FAULT_ENV: kill_at})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert show(store, batch_id).status == BatchStatus.RUNNING
    resumed = _run_cli(db_url, *run)
    assert resumed.returncode == 0, resumed.stderr
    outcome = json.loads(resumed.stdout)
    assert outcome["rows_skipped"] + outcome["rows_run"] == ROWS_N
    assert_each_row_paid_once(store, batch_id, before)
    with store.read() as conn:
        paid = set(conn.execute(select(journal_entries.c.idempotency_key)).scalars())
    assert entry_key(batch_id, 1) in paid

    listed = _run_cli(db_url, "run", "list", "--job", JOB_NAME)
    assert listed.returncode == 0, listed.stderr
    (engine_run,) = json.loads(listed.stdout)
    assert (engine_run["status"], engine_run["items_read"], engine_run["items_failed"]) == (
        "completed", ROWS_N, 0,
    )  # fmt: skip
    shown = _run_cli(db_url, "run", "show", engine_run["run_id"])
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["items_succeeded"] == outcome["success_count"]
    assert report["items_skipped"] == outcome["failure_count"]
