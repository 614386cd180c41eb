"""One statement period of one account, item by item: what ``cycle explain`` shows.

The columnar kernels (:mod:`cardbatch.jobs.cycle_kernels`) compute a period for a
whole partition from sums; this module computes the same period for one account
from the same inputs (the state left by the last statement, the last statement's
interest-free lots, the period's transactions) keeping every balance item, so that
each interest segment, the late fee and the minimum can be explained line by line.
Both must agree to the fen (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from cardbatch.domain.cycle import allocation, delinquency
from cardbatch.domain.cycle.interest import (
    InterestLine,
    base_segments,
    bearing_components,
    interest_applies,
    period_interest_exact,
)
from cardbatch.domain.cycle.late_fee import LateFee, late_fee
from cardbatch.domain.cycle.minimum import MinimumBreakdown, MinimumInputs, minimum_payment
from cardbatch.domain.cycle.statement import Statement
from cardbatch.domain.product import (
    CASH,
    COMPONENTS,
    FEE,
    INSTALMENT,
    INTEREST,
    LATE_FEE,
    PURCHASE,
    ProductTerms,
)
from cardbatch.money import round_half_up_fen

ONE_DAY = timedelta(days=1)
KIND_COMPONENT = {
    "purchase": PURCHASE,
    "cash_advance": CASH,
    "fee": FEE,
    "late_fee": LATE_FEE,
}
PAYMENT_KINDS = ("payment", "credit")
EVENTS_PER_PERIOD_MAX = 10_000
SEQ_STATEMENT_DAY = 10**9  # postings of the statement date itself come after its transactions


@dataclass(frozen=True, slots=True)
class CarriedState:
    """What the last statement left (one row of the kernels' accounts frame)."""

    account_id: int
    credit_limit_fen: int
    period_start: date
    period_end: date
    due: delinquency.DueState | None
    overpaid_fen: int
    balances_fen: dict[str, int]
    retro_fen_days: int = 0
    unbilled_instalment_fen: int = 0
    instalment_principal_fen: int = 0
    instalment_fee_fen: int = 0


@dataclass(frozen=True, slots=True)
class Lot:
    """An item billed on the last statement that waited for the interest-free period."""

    component: str
    post_date: date
    seq: int
    remaining_fen: int


@dataclass(frozen=True, slots=True)
class PeriodTxn:
    txn_date: date
    seq: int
    kind: str  # purchase, cash_advance, fee, payment, credit
    amount_fen: int


@dataclass
class _Item:
    component: str
    post_date: date
    seq: int
    remaining_fen: int
    bears_from: date | None  # first bearing day in this period, None if it never bears
    carried: bool
    history: list[tuple[date, int]] = field(default_factory=list)
    older: bool = False  # the balance from before the last statement's own period

    def set(self, on: date, remaining_fen: int) -> None:
        self.remaining_fen = remaining_fen
        if self.history and self.history[-1][0] == on:
            self.history[-1] = (on, remaining_fen)
        else:
            self.history.append((on, remaining_fen))


@dataclass(frozen=True, slots=True)
class PeriodOutcome:
    """The statement of the period and everything needed to explain it."""

    statement: Statement
    applies: bool
    retro_fen_days: int  # charged balance-days from before the period (mode A), else 0
    interest_lines: tuple[InterestLine, ...]
    interest_exact_fen: Decimal
    late_fee: LateFee | None
    minimum: MinimumBreakdown
    dpd: int


def _carried_items(
    state: CarriedState, lots: Sequence[Lot], applies: bool, terms: ProductTerms
) -> list[_Item]:
    """The last statement's balance as items: per component, the older balance first
    (dated before every lot, so it is paid first), then the lots oldest first."""
    bearing = bearing_components(terms) if applies else frozenset()
    items: list[_Item] = []
    for component in COMPONENTS:
        own = sorted((lot for lot in lots if lot.component == component), key=_lot_key)
        starts = state.period_start if component in bearing else None
        older_day = min([state.period_start, *(lot.post_date for lot in own)]) - ONE_DAY
        older_fen = state.balances_fen.get(component, 0) - sum(lot.remaining_fen for lot in own)
        older = _Item(component, older_day, -1, 0, starts, True, older=True)
        older.set(older_day, older_fen)
        items.append(older)
        for lot in own:
            lot_starts = lot.post_date if starts is not None else None
            item = _Item(component, lot.post_date, lot.seq, 0, lot_starts, True)
            item.set(lot.post_date, lot.remaining_fen)
            items.append(item)
    return items


def _lot_key(lot: Lot) -> tuple[date, int]:
    return (lot.post_date, lot.seq)


def run_account_period(
    state: CarriedState, lots: Sequence[Lot], txns: Sequence[PeriodTxn], terms: ProductTerms
) -> PeriodOutcome:
    """Compute the account's statement for ``state.period_end`` item by item."""
    if len(txns) > EVENTS_PER_PERIOD_MAX:
        raise ValueError(f"more than {EVENTS_PER_PERIOD_MAX} transactions in one period")
    due = state.due
    grace = due.due + timedelta(days=terms.grace_days) if due else None
    ordered = sorted(txns, key=lambda t: (t.txn_date, t.seq))
    paid_by_grace_fen = sum(
        t.amount_fen for t in ordered if t.kind in PAYMENT_KINDS and grace and t.txn_date <= grace
    )
    applies = due is not None and interest_applies(
        due.statement_balance_fen, paid_by_grace_fen, terms
    )
    items = _carried_items(state, lots, applies, terms)
    fee = (
        late_fee(due.minimum_fen, due.statement_balance_fen, paid_by_grace_fen, terms)
        if due
        else None
    )
    run = _Run(state, terms, items, state.overpaid_fen)
    events: list[tuple[date, int, str, int]] = [
        (t.txn_date, t.seq, t.kind, t.amount_fen) for t in ordered
    ]
    if fee is not None and fee.fee_fen and grace is not None:
        events.append((grace + ONE_DAY, -1, "late_fee", fee.fee_fen))
    for when, seq, kind, amount_fen in sorted(events, key=lambda e: (e[0], e[1])):
        if kind in PAYMENT_KINDS:
            run.pay(kind, when, amount_fen)
        else:
            run.charge(KIND_COMPONENT[kind], when, seq, amount_fen)
    end = state.period_end
    run.charge(INSTALMENT, end, SEQ_STATEMENT_DAY, state.instalment_principal_fen)
    run.charge(FEE, end, SEQ_STATEMENT_DAY + 1, state.instalment_fee_fen)
    lines = tuple(run.interest_lines(grace))
    full_balance = terms.interest_mode == "full_balance"
    retro_fen_days = state.retro_fen_days if applies and full_balance else 0
    exact = Decimal(retro_fen_days) * terms.daily_rate + period_interest_exact(
        lines, terms.daily_rate
    )
    interest_fen = round_half_up_fen(exact)
    run.charge(INTEREST, end, SEQ_STATEMENT_DAY + 2, interest_fen)
    return _close(run, ordered, applies, retro_fen_days, lines, exact, fee, interest_fen)


@dataclass
class _Run:
    state: CarriedState
    terms: ProductTerms
    items: list[_Item]
    overpaid_fen: int
    paid_fen: int = 0

    def charge(self, component: str, on: date, seq: int, amount_fen: int) -> None:
        if amount_fen <= 0:
            return
        net_fen = min(amount_fen, self.overpaid_fen)
        self.overpaid_fen -= net_fen
        cash_bears = component == CASH and self.terms.cash_from_transaction_date
        item = _Item(component, on, seq, 0, on if cash_bears else None, False)
        item.set(on, amount_fen - net_fen)
        self.items.append(item)

    def pay(self, kind: str, on: date, amount_fen: int) -> None:
        dpd = 0
        if self.state.due is not None:
            dpd = delinquency.dpd_on(on, self.state.due, self.paid_fen, self.terms)
        open_items = [item for item in self.items if item.remaining_fen > 0]
        views = [
            allocation.Item(i.component, i.post_date, i.seq, i.remaining_fen) for i in open_items
        ]
        order = allocation.order_for(kind, dpd, self.terms)
        result = allocation.allocate(amount_fen, views, order)
        for item, paid_fen in zip(open_items, result.paid_fen, strict=True):
            if paid_fen:
                item.set(on, item.remaining_fen - paid_fen)
        self.overpaid_fen += result.overpaid_fen
        self.paid_fen += amount_fen

    def interest_lines(self, grace: date | None) -> list[InterestLine]:
        hold = grace if self.terms.interest_mode == "unpaid_only" else None
        lines: list[InterestLine] = []
        for item in self.items:
            if item.bears_from is None:
                continue
            first = item.bears_from
            if item.carried and hold is None and first < self.state.period_start:
                first = self.state.period_start  # mode A: the days before are in retro_fen_days
            segments = base_segments(
                item.history, first, self.state.period_end, hold if item.carried else None
            )
            if segments:
                shown = None if item.older else item.post_date
                lines.append(InterestLine(item.component, shown, tuple(segments)))
        return lines


def _close(
    run: _Run,
    ordered: Sequence[PeriodTxn],
    applies: bool,
    retro_fen_days: int,
    lines: tuple[InterestLine, ...],
    exact: Decimal,
    fee: LateFee | None,
    interest_fen: int,
) -> PeriodOutcome:
    state, terms, due = run.state, run.terms, run.state.due

    def total(kind: str) -> int:
        return sum(t.amount_fen for t in ordered if t.kind == kind)

    balances = dict.fromkeys(COMPONENTS, 0)
    for item in run.items:
        balances[item.component] += item.remaining_fen
    closing_fen = sum(balances.values()) - run.overpaid_fen
    previous_unpaid = max(0, due.minimum_fen - run.paid_fen) if due else 0
    breakdown = minimum_payment(
        MinimumInputs(balances, closing_fen, previous_unpaid, state.credit_limit_fen), terms
    )
    statement = Statement(
        account_id=state.account_id,
        statement_date=state.period_end,
        due_date=state.period_end + timedelta(days=terms.due_days),
        opening_balance_fen=due.statement_balance_fen if due else 0,
        purchases_fen=total("purchase"),
        cash_fen=total("cash_advance"),
        instalment_fen=state.instalment_principal_fen,
        payments_fen=total("payment"),
        credits_fen=total("credit"),
        interest_fen=interest_fen,
        fees_fen=total("fee") + state.instalment_fee_fen,
        late_fee_fen=fee.fee_fen if fee else 0,
        closing_balance_fen=closing_fen,
        minimum_payment_fen=breakdown.minimum_fen,
        unbilled_instalment_fen=state.unbilled_instalment_fen - state.instalment_principal_fen,
    ).check_identity()
    dpd = delinquency.dpd_on(state.period_end, due, run.paid_fen, terms) if due else 0
    return PeriodOutcome(statement, applies, retro_fen_days, lines, exact, fee, breakdown, dpd)
