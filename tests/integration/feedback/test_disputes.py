"""Disputes on a real store (SQLite and PostgreSQL): found through feedback, corrected once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from cardbatch.engine import EngineSettings, RunRequest, get_job, run_job
from cardbatch.engine.runner import AlreadyCompleted
from cardbatch.feedback import explain, service
from cardbatch.feedback.job import run_corrections
from cardbatch.feedback.model import Category, Channel, CorrectionKind, FeedbackError
from cardbatch.feedback.reports import rates
from cardbatch.rules.versions import approve_version, load_version
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts, journal_entries, postings
from cardbatch.store.tables_engine import item_results
from tests.feedback_helpers import (
    DAY,
    DOUBLE_AMOUNT_FEN,
    FEE_AMOUNT_FEN,
    FIX_DAY,
    post_fee,
    seed_double_debit,
)

MAKER, CHECKER = "agent01", "super01"


def _dispute(store: Store, card: str) -> service.FeedbackRecord:
    return service.add_feedback(
        store, account_id=card, channel=Channel.CALL_CENTRE, category=Category.DOUBLE_DEBIT,
        text="扣款不对: charged twice at Mall 1", business_date=FIX_DAY, actor=MAKER,
    )  # fmt: skip


def _uphold(store: Store, record: service.FeedbackRecord, key: str) -> int:
    resolved = service.resolve(
        store, record.feedback_id, "duplicate from the switch; reversed", MAKER,
        corrections_wanted=[(CorrectionKind.REVERSAL, key)], business_date=FIX_DAY,
    )  # fmt: skip
    return resolved.corrections[0].correction_id


def _settings(tmp_path: Path) -> EngineSettings:
    return EngineSettings(chunk_size=1, inbox_dir=tmp_path / "inbox", out_dir=tmp_path / "out")


def _entries_with_key(store: Store, key: str) -> int:
    with store.read() as conn:
        query = select(func.count()).where(journal_entries.c.idempotency_key == key)
        return int(conn.execute(query).scalar_one())


def test_double_debit_found_through_feedback_is_reversed_once(store: Store, tmp_path: Path) -> None:
    card, (first, second) = seed_double_debit(store, tmp_path)
    record = _dispute(store, card)
    assert [link.entry_key for link in record.links] == [first, second]
    assert all(link.run_id and link.item_key for link in record.links)
    correction_id = _uphold(store, record, second)
    service.approve_correction(store, correction_id, CHECKER)

    report = run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))
    assert (report.status, report.items_succeeded) == ("completed", 1)
    with pytest.raises(AlreadyCompleted):
        run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))

    assert _entries_with_key(store, f"reversal:{second}") == 1
    assert _entries_with_key(store, second) == 1  # the original is kept
    with store.read() as conn:
        ref, kind, day = conn.execute(
            select(journal_entries.c.reference_key, journal_entries.c.kind,
                   journal_entries.c.business_date)
            .where(journal_entries.c.idempotency_key == f"reversal:{second}")
        ).one()  # fmt: skip
    assert (ref, kind, day) == (second, "reversal", FIX_DAY)
    assert ledger.check(store).balanced
    history = ledger.history(store, card)
    reversal = [line for line in history.lines if line.kind == "reversal"]
    assert [line.amount_fen for line in reversal] == [-DOUBLE_AMOUNT_FEN]
    assert reversal[0].run_id == report.run_id
    assert history.balance_fen == DOUBLE_AMOUNT_FEN + 20_00


def test_a_rerun_skips_the_posted_correction(store: Store, tmp_path: Path) -> None:
    card, (_first, second) = seed_double_debit(store, tmp_path)
    correction_id = _uphold(store, _dispute(store, card), second)
    service.approve_correction(store, correction_id, CHECKER)
    run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))
    before = ledger.history(store, card).balance_fen
    # Re-approving is refused, and the correction row cannot be made twice.
    with pytest.raises(FeedbackError, match="not pending"):
        service.approve_correction(store, correction_id, CHECKER)
    with pytest.raises(FeedbackError, match="already has correction"):
        _uphold(store, _dispute(store, card), second)
    request = RunRequest(get_job("corrections"), FIX_DAY, {}, CHECKER, _settings(tmp_path))
    again = run_job(store, replace(request, rerun=True))
    assert (again.items_succeeded, again.items_skipped) == (0, 1)
    with store.read() as conn:
        reasons = conn.execute(
            select(item_results.c.reason_code).where(item_results.c.run_id == again.run_id)
        ).scalars().all()  # fmt: skip
    assert reasons == ["already_posted"]
    assert ledger.history(store, card).balance_fen == before
    assert _entries_with_key(store, f"reversal:{second}") == 1


def test_corrections_need_a_second_person(store: Store, tmp_path: Path) -> None:
    card, (_first, second) = seed_double_debit(store, tmp_path)
    correction_id = _uphold(store, _dispute(store, card), second)
    with pytest.raises(FeedbackError, match="different user"):
        service.approve_correction(store, correction_id, MAKER)
    report = run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))
    assert report.items_total == 0  # pending corrections are not posted
    assert _entries_with_key(store, f"reversal:{second}") == 0
    approved = service.approve_correction(store, correction_id, CHECKER)
    assert (approved.status, approved.approved_by) == ("approved", CHECKER)
    rerun = run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))
    assert rerun.items_succeeded == 1
    assert _entries_with_key(store, f"reversal:{second}") == 1


def test_fee_dispute_is_waived_and_income_given_back(store: Store, tmp_path: Path) -> None:
    card, _keys = seed_double_debit(store, tmp_path)
    fee_key = post_fee(store, card)
    record = service.add_feedback(
        store, account_id=card, channel=Channel.APP, category=Category.FEE_DISPUTE,
        text="违约金有异议", business_date=FIX_DAY, actor=MAKER,
    )  # fmt: skip
    assert [link.entry_key for link in record.links] == [fee_key]
    with pytest.raises(FeedbackError, match="can be waived"):
        service.resolve(store, record.feedback_id, "x", MAKER, business_date=FIX_DAY,
                        corrections_wanted=[(CorrectionKind.WAIVER, "txn:DUP-A")])  # fmt: skip
    resolved = service.resolve(
        store, record.feedback_id, "first year fee waived", MAKER, business_date=FIX_DAY,
        corrections_wanted=[(CorrectionKind.WAIVER, fee_key)],
    )  # fmt: skip
    service.approve_correction(store, resolved.corrections[0].correction_id, CHECKER)
    run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))
    with store.read() as conn:
        legs = conn.execute(
            select(postings.c.account_id, postings.c.component, postings.c.amount_fen)
            .join(journal_entries, journal_entries.c.entry_id == postings.c.entry_id)
            .where(journal_entries.c.idempotency_key == f"waiver:{fee_key}")
            .order_by(postings.c.account_id)
        ).all()  # fmt: skip
    assert sorted(legs) == sorted(
        [(card, "fee", -FEE_AMOUNT_FEN), ("GL:fee_income", "balance", FEE_AMOUNT_FEN)]
    )
    assert ledger.check(store).balanced


def test_explain_tells_what_happened(store: Store, tmp_path: Path) -> None:
    card, (first, second) = seed_double_debit(store, tmp_path)
    record = _dispute(store, card)
    service.approve_correction(store, _uphold(store, record, second), CHECKER)
    report = run_corrections(store, FIX_DAY, CHECKER, _settings(tmp_path))
    story = explain.explain(store, record.feedback_id)
    assert story.feedback.status == "resolved"
    assert [e.entry_key for e in story.entries] == [first, second]
    dup = story.entries[1]
    assert dup.run is not None and dup.run["job"] == "post-transactions"
    assert dup.run["business_date"] == DAY
    assert dup.item is not None and dup.item["status"] == "succeeded"
    assert dup.item["amount_fen"] == DOUBLE_AMOUNT_FEN
    assert {p["amount_fen"] for p in dup.postings} == {DOUBLE_AMOUNT_FEN, -DOUBLE_AMOUNT_FEN}
    assert [(c["entry_key"], c["run_id"]) for c in dup.corrected_by] == [
        (f"reversal:{second}", report.run_id)
    ]
    assert story.entries[0].corrected_by == []


def test_status_moves_and_bad_values(store: Store, tmp_path: Path) -> None:
    card, _keys = seed_double_debit(store, tmp_path)
    record = service.add_feedback(
        store, account_id=card, channel=Channel.BRANCH, category=Category.NOTICE_NOT_WANTED,
        text="no more SMS", business_date=FIX_DAY, actor=MAKER,
    )  # fmt: skip
    assert record.links == []
    assert service.investigate(store, record.feedback_id, MAKER).status == "investigating"
    rejected = service.reject(store, record.feedback_id, "notices are required by law", CHECKER)
    assert (rejected.status, rejected.resolved_by) == ("rejected", CHECKER)
    with pytest.raises(FeedbackError, match="cannot move"):
        service.investigate(store, record.feedback_id, MAKER)
    with pytest.raises(FeedbackError, match="no card or deposit account"):
        service.add_feedback(store, account_id="CA404", channel=Channel.APP,
                             category=Category.OTHER, text="?", business_date=FIX_DAY,
                             actor=MAKER)  # fmt: skip
    with pytest.raises(FeedbackError, match="does not touch"):
        service.add_feedback(store, account_id=card, channel=Channel.APP,
                             category=Category.OTHER, text="?", business_date=FIX_DAY,
                             actor=MAKER, entry_keys=["txn:OTHER-1"])  # fmt: skip
    assert [r.feedback_id for r in service.list_feedback(store, status="rejected")] == [
        record.feedback_id
    ]


def test_rates_count_feedback_per_job_category_and_rule_version(
    store: Store, tmp_path: Path
) -> None:
    card, _keys = seed_double_debit(store, tmp_path)
    standard = Path(__file__).resolve().parents[3] / "examples" / "rules" / "standard.toml"
    with store.write() as conn:
        load_version(conn, standard.read_text(), date(2026, 1, 1), MAKER, "standard.toml")
        approve_version(conn, "STD", 1, CHECKER)
        conn.execute(update(card_accounts).where(card_accounts.c.account_id == card)
                     .values(product_code="STD"))  # fmt: skip
    _dispute(store, card)
    report = rates(store, DAY, FIX_DAY)
    assert [(v.rule_version, v.category, v.feedback) for v in report.rule_versions] == [
        ("STD@1", "double_debit", 1)
    ]
    assert [(c.category, c.feedback, c.open) for c in report.categories] == [("double_debit", 1, 1)]
    post = next(r for r in report.jobs if r.job == "post-transactions")
    assert (post.items, post.failed, post.feedback) == (4, 0, 1)
    assert post.feedback_per_10k_items == "2500.0"
