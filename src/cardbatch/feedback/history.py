"""Rule-impact facts from the recorded history: the cycle's stored statements.

The rule-impact report (:mod:`cardbatch.feedback.impact`) works over one fact per
account and statement period. Where the nightly cycle has stored statements,
:func:`facts_from_statements` makes those facts from them: each statement is
recomputed item by item from its stored inputs under the rule version it was
billed with (:func:`cardbatch.jobs.cycle_service.recompute`), and

- ``balance_fen`` is the period's interest base as balance-days (fen x days,
  with ``days`` = 1), so that ``accrue(balance_fen, rate, days)`` is exactly that
  interest before its one rounding, whatever the day pattern; the period's own
  cash advances, which bear interest whatever was paid, are apart in
  ``new_cash_fen_days``;
- ``unpaid_fen`` is the previous statement's balance less the payments and
  credits received by its due date + grace (0 on an account's first statement);
- ``minimum_unpaid_fen`` is the part of the previous minimum payment not paid by then;
- ``segment`` is the delinquency bucket at the statement (M0..M7).

Under the rule version the history was billed with, the facts give back the
interest and late fees the cycle charged (see docs/feedback.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection, select

from cardbatch.domain.cycle.interest import InterestLine, period_interest_exact
from cardbatch.domain.cycle.period import PAYMENT_KINDS
from cardbatch.domain.product import ProductTerms
from cardbatch.feedback.impact import PeriodFact
from cardbatch.feedback.model import FeedbackError
from cardbatch.jobs.cycle_service import Recomputed, recompute
from cardbatch.store.tables_cycle import statements

STATEMENTS_MAX = 500_000  # one report's history; a larger one should be split by dates


def facts_from_statements(
    conn: Connection, first: date | None = None, last: date | None = None
) -> list[PeriodFact]:
    """One fact per stored statement dated from ``first`` to ``last`` (both optional)."""
    s = statements.c
    query = select(s.account_id, s.statement_date, s.bucket, s.rule_version, s.inputs_json)
    if first is not None:
        query = query.where(s.statement_date >= first)
    if last is not None:
        query = query.where(s.statement_date <= last)
    query = query.order_by(s.statement_date, s.account_id).limit(STATEMENTS_MAX + 1)
    rows = conn.execute(query).all()
    if len(rows) > STATEMENTS_MAX:
        raise FeedbackError(
            f"more than {STATEMENTS_MAX} stored statements in the period; give --from and --to"
        )
    cache: dict[str, ProductTerms] = {}
    facts = []
    for account_id, statement_date, bucket, version, inputs in rows:
        done = recompute(conn, str(inputs), str(version), cache)
        facts.append(period_fact(str(account_id), str(bucket), statement_date, done))
    return facts


def period_fact(
    account_id: str, segment: str, statement_date: date, done: Recomputed
) -> PeriodFact:
    """The impact fact of one recomputed statement."""
    outcome, state = done.outcome, done.state
    own: list[InterestLine] = []
    carried: list[InterestLine] = []
    for line in outcome.interest_lines:
        posted_in_period = line.post_date is not None and line.post_date >= state.period_start
        (own if posted_in_period else carried).append(line)
    fen_days = outcome.retro_fen_days + period_interest_exact(carried, Decimal(1))
    new_cash_fen_days = period_interest_exact(own, Decimal(1))
    unpaid_fen = minimum_unpaid_fen = 0
    if state.due is not None:
        grace_end = state.due.due + timedelta(days=done.terms.grace_days)
        paid_fen = sum(
            t.amount_fen for t in done.txns if t.kind in PAYMENT_KINDS and t.txn_date <= grace_end
        )
        unpaid_fen = max(0, state.due.statement_balance_fen - paid_fen)
        minimum_unpaid_fen = max(0, state.due.minimum_fen - paid_fen)
    product_code = done.rule_version.partition("@")[0]
    return PeriodFact(account_id, product_code, segment, statement_date, int(fen_days), 1,
                      unpaid_fen, minimum_unpaid_fen, int(new_cash_fen_days))  # fmt: skip
