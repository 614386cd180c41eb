"""The feedback part of the demo: some complaints, one dispute reversed, the improvement report.

Call :func:`run_feedback_demo` on a store the demo has filled (a bank and some
posted days). It records three pieces of feedback on the sample card, upholds
the dispute about its latest purchase with a reversal (proposed by ``maker``,
approved by ``checker``), posts the correction on the engine, rejects one
complaint, and returns the rates report for the demo's dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from cardbatch.engine.calendar import current_business_date
from cardbatch.feedback import service
from cardbatch.feedback.job import run_corrections
from cardbatch.feedback.model import Category, Channel, CorrectionKind, FeedbackError
from cardbatch.feedback.reports import RatesReport, rates
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries, postings

DEMO_LOOKBACK_DAYS = 31


@dataclass(frozen=True)
class FeedbackDemoReport:
    business_date: date
    feedback_ids: list[int]
    reversed_key: str
    correction_run_id: str
    correction_status: str
    rates: RatesReport


def run_feedback_demo(
    store: Store, maker: str, checker: str, card_account_id: str | None = None
) -> FeedbackDemoReport:
    """Record feedback on a card (default: the last one with a purchase), reverse its latest
    purchase, and report rates. ``maker`` and ``checker`` must be different users."""
    day, purchase_key, card_account_id = _latest_purchase(store, card_account_id)
    dispute = service.add_feedback(
        store, account_id=card_account_id, channel=Channel.CALL_CENTRE,
        category=Category.WRONG_DEBIT_AMOUNT, text="扣款不对: the merchant charged me in error",
        business_date=day, actor=maker, entry_keys=[purchase_key],
    )  # fmt: skip
    notice = service.add_feedback(
        store, account_id=card_account_id, channel=Channel.APP,
        category=Category.NOTICE_NOT_WANTED, text="please stop the SMS notices",
        business_date=day, actor=maker,
    )  # fmt: skip
    fee = service.add_feedback(
        store, account_id=card_account_id, channel=Channel.BRANCH, category=Category.FEE_DISPUTE,
        text="违约金有异议", business_date=day, actor=maker,
    )  # fmt: skip
    service.investigate(store, dispute.feedback_id, maker)
    resolved = service.resolve(
        store, dispute.feedback_id, "merchant confirmed the error; purchase reversed", maker,
        corrections_wanted=[(CorrectionKind.REVERSAL, purchase_key)], business_date=day,
    )  # fmt: skip
    service.approve_correction(store, resolved.corrections[0].correction_id, checker)
    service.reject(store, fee.feedback_id, "no late fee was charged on this card", checker)
    report = run_corrections(store, day, checker)
    return FeedbackDemoReport(
        day, [dispute.feedback_id, notice.feedback_id, fee.feedback_id], purchase_key,
        report.run_id, report.status, rates(store, day - timedelta(days=DEMO_LOOKBACK_DAYS), day),
    )  # fmt: skip


def _latest_purchase(store: Store, account_id: str | None) -> tuple[date, str, str]:
    """The business date to act on, the latest purchase entry key and its card."""
    je, p = journal_entries.c, postings.c
    query = (
        select(je.idempotency_key, je.business_date, p.account_id)
        .join_from(postings, journal_entries, p.entry_id == je.entry_id)
        .where(je.kind == "purchase", p.amount_fen > 0)
        .order_by(je.entry_id.desc())
        .limit(1)
    )
    if account_id is not None:
        query = query.where(p.account_id == account_id)
    with store.read() as conn:
        row = conn.execute(query).first()
        current = current_business_date(conn)
        latest = conn.execute(select(func.max(je.business_date))).scalar_one()
    if row is None:
        raise FeedbackError(f"no purchase to dispute on {account_id or 'any card'}")
    return current or latest or row.business_date, row.idempotency_key, row.account_id


def report_lines(report: FeedbackDemoReport) -> list[str]:
    """The demo's feedback summary and improvement report as printable lines."""
    lines = [
        f"feedback recorded: {len(report.feedback_ids)} (ids {report.feedback_ids})",
        f"dispute upheld: {report.reversed_key} reversed by run {report.correction_run_id} "
        f"({report.correction_status})",
        "improvement report (failure and feedback rates per job):",
    ]
    lines += [
        f"  {r.business_date} {r.job:<18} items {r.items:>7} failed {r.failed:>5} "
        f"({r.failure_pct}%) feedback {r.feedback} ({r.feedback_per_10k_items}/10k)"
        for r in report.rates.jobs
    ]
    lines.append("feedback per category:")
    lines += [
        f"  {c.business_date} {c.category:<22} {c.feedback} ({c.open} open)"
        for c in report.rates.categories
    ]
    return lines
