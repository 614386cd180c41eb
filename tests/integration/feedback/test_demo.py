"""The demo's feedback step: feedback recorded, one dispute reversed, the report printed."""

from __future__ import annotations

from sqlalchemy import func, select

from cardbatch.feedback.demo import report_lines, run_feedback_demo
from cardbatch.services import ledger
from cardbatch.services.demo import DemoConfig, run_demo
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries


def test_demo_records_feedback_reverses_one_dispute_and_reports(store: Store) -> None:
    run_demo(store, DemoConfig(customers=30, days=2), "demo")
    report = run_feedback_demo(store, "agent01", "super01")
    assert report.correction_status == "completed"
    with store.read() as conn:
        reversals = conn.execute(
            select(journal_entries.c.reference_key).where(journal_entries.c.kind == "reversal")
        ).scalars().all()  # fmt: skip
    assert reversals == [report.reversed_key]
    assert ledger.check(store).balanced
    categories = {c.category: (c.feedback, c.open) for c in report.rates.categories}
    assert categories == {"wrong_debit_amount": (1, 0), "notice_not_wanted": (1, 1),
                          "fee_dispute": (1, 0)}  # fmt: skip
    corrections_row = next(r for r in report.rates.jobs if r.job == "corrections")
    assert (corrections_row.items, corrections_row.failed) == (1, 0)
    lines = report_lines(report)
    assert any(report.reversed_key in line for line in lines)
    with store.read() as conn:
        count = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
    assert count > 0
