"""Reference implementation of one statement period, per account, in plain Python.

The test oracle for :mod:`cardbatch.jobs.cycle_kernels`. It keeps every balance
item separately with its end-of-day balance history, applies each event in
order (late fee at the start of the day after due date + grace), and accrues
interest day by day with exact ``Decimal`` arithmetic before the one rounding.
The kernels use closed-form integer sums over whole partitions instead; on any
portfolio both must give the same fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from cardbatch.domain.cycle import allocation, delinquency, interest, late_fee, minimum
from cardbatch.domain.cycle.dates import days_inclusive, next_statement_date
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
from cardbatch.money import accrue, round_half_up_fen

ONE_DAY = timedelta(days=1)
KIND_COMPONENT = {"purchase": PURCHASE, "cash_advance": CASH, "fee": FEE}
PAYMENT_KINDS = ("payment", "credit")
SEQ_LATE_FEE = -1
SEQ_INSTALMENT = 10**9


@dataclass(frozen=True)
class Txn:
    """One transaction of the period."""

    txn_date: date
    seq: int
    kind: str  # purchase, cash_advance, fee, payment, credit
    amount_fen: int


@dataclass
class RefItem:
    component: str
    post_date: date
    seq: int
    remaining_fen: int
    history: list[tuple[date, int]] = field(default_factory=list)

    def set_remaining(self, on: date, remaining_fen: int) -> None:
        self.remaining_fen = remaining_fen
        if self.history and self.history[-1][0] == on:
            self.history[-1] = (on, remaining_fen)
        else:
            self.history.append((on, remaining_fen))

    def balance_on(self, day: date) -> int:
        balance_fen = 0
        for when, remaining_fen in self.history:
            if when > day:
                break
            balance_fen = remaining_fen
        return balance_fen


@dataclass
class RefAccount:
    account_id: int
    statement_day: int
    credit_limit_fen: int
    terms: ProductTerms
    opened: date
    items: list[RefItem] = field(default_factory=list)
    overpaid_fen: int = 0
    last_statement: date | None = None
    previous_start: date | None = None
    due_state: delinquency.DueState | None = None
    unbilled_instalment_fen: int = 0


@dataclass(frozen=True)
class RefResult:
    statement: Statement
    interest_exact_fen: Decimal
    dpd: int
    bucket: str
    five_category: str


def period_bounds(account: RefAccount) -> tuple[date, date]:
    """First and last day of the account's next statement period."""
    start = account.last_statement + ONE_DAY if account.last_statement else account.opened
    return start, next_statement_date(start - ONE_DAY, account.statement_day)


def _charge(account: RefAccount, component: str, on: date, seq: int, amount_fen: int) -> None:
    net_fen = min(amount_fen, account.overpaid_fen)
    account.overpaid_fen -= net_fen
    item = RefItem(component, on, seq, 0)
    item.set_remaining(on, amount_fen - net_fen)
    account.items.append(item)


def _pay(account: RefAccount, kind: str, on: date, amount_fen: int, paid_fen: int) -> None:
    terms = account.terms
    dpd = 0
    if account.due_state is not None:
        dpd = delinquency.dpd_on(on, account.due_state, paid_fen, terms)
    open_items = [item for item in account.items if item.remaining_fen > 0]
    views = [allocation.Item(i.component, i.post_date, i.seq, i.remaining_fen) for i in open_items]
    result = allocation.allocate(amount_fen, views, allocation.order_for(kind, dpd, terms))
    for item, paid_item_fen in zip(open_items, result.paid_fen, strict=True):
        if paid_item_fen:
            item.set_remaining(on, item.remaining_fen - paid_item_fen)
    account.overpaid_fen += result.overpaid_fen


def _late_fee(account: RefAccount, paid_by_grace_fen: int) -> int:
    state = account.due_state
    if state is None:
        return 0
    fee = late_fee.late_fee(
        state.minimum_fen, state.statement_balance_fen, paid_by_grace_fen, account.terms
    )
    return fee.fee_fen


def _interest_exact(account: RefAccount, start: date, end: date, applies: bool) -> Decimal:
    terms = account.terms
    grace = None
    if account.due_state is not None:
        grace = account.due_state.due + timedelta(days=terms.grace_days)
    period = interest.Period(start, end, account.previous_start, grace)
    total = Decimal(0)
    for item in account.items:
        first = interest.bearing_from(item.component, item.post_date, period, applies, terms)
        if first is None:
            continue
        hold = terms.interest_mode == "unpaid_only" and item.post_date < start
        for offset in range(days_inclusive(first, end)):
            day = first + timedelta(days=offset)
            look = max(day, grace) if hold and grace is not None else day
            total += accrue(item.balance_on(look), terms.daily_rate, 1)
    return total


def run_period(
    account: RefAccount,
    txns: list[Txn],
    instalment_principal_fen: int = 0,
    instalment_fee_fen: int = 0,
) -> RefResult:
    """Run the account through its next statement period; mutate it; return the statement."""
    terms = account.terms
    start, end = period_bounds(account)
    state = account.due_state
    grace = state.due + timedelta(days=terms.grace_days) if state else None
    ordered = sorted(txns, key=lambda t: (t.txn_date, t.seq))
    assert all(start <= t.txn_date <= end for t in ordered), "transaction outside period"
    paid_fen = 0
    late_fee_fen = 0
    fee_done = grace is None
    for txn in [*ordered, None]:
        if not fee_done and grace is not None and (txn is None or txn.txn_date > grace):
            late_fee_fen = _late_fee(account, paid_fen)
            if late_fee_fen:
                _charge(account, LATE_FEE, grace + ONE_DAY, SEQ_LATE_FEE, late_fee_fen)
            fee_done = True
        if txn is None:
            break
        if txn.kind in PAYMENT_KINDS:
            _pay(account, txn.kind, txn.txn_date, txn.amount_fen, paid_fen)
            paid_fen += txn.amount_fen
        else:
            _charge(account, KIND_COMPONENT[txn.kind], txn.txn_date, txn.seq, txn.amount_fen)
    paid_by_grace_fen = sum(
        t.amount_fen for t in ordered if t.kind in PAYMENT_KINDS and grace and t.txn_date <= grace
    )
    if instalment_principal_fen:
        _charge(account, INSTALMENT, end, SEQ_INSTALMENT, instalment_principal_fen)
    if instalment_fee_fen:
        _charge(account, FEE, end, SEQ_INSTALMENT + 1, instalment_fee_fen)
    applies = state is not None and interest.interest_applies(
        state.statement_balance_fen, paid_by_grace_fen, terms
    )
    exact = _interest_exact(account, start, end, applies)
    interest_fen = round_half_up_fen(exact)
    if interest_fen:
        _charge(account, INTEREST, end, SEQ_INSTALMENT + 2, interest_fen)
    return _close(
        account,
        ordered,
        start,
        end,
        interest_fen,
        exact,
        late_fee_fen,
        instalment_principal_fen,
        instalment_fee_fen,
        paid_fen,
    )


def _close(
    account: RefAccount,
    ordered: list[Txn],
    start: date,
    end: date,
    interest_fen: int,
    exact: Decimal,
    late_fee_fen: int,
    instalment_principal_fen: int,
    instalment_fee_fen: int,
    paid_fen: int,
) -> RefResult:
    terms = account.terms
    state = account.due_state

    def total(kind: str) -> int:
        return sum(t.amount_fen for t in ordered if t.kind == kind)

    balances = dict.fromkeys(COMPONENTS, 0)
    for item in account.items:
        balances[item.component] += item.remaining_fen
    closing_fen = sum(balances.values()) - account.overpaid_fen
    previous_unpaid = max(0, state.minimum_fen - paid_fen) if state else 0
    minimum_fen = minimum.minimum_payment(
        minimum.MinimumInputs(balances, closing_fen, previous_unpaid, account.credit_limit_fen),
        terms,
    ).minimum_fen
    account.unbilled_instalment_fen -= instalment_principal_fen
    due = end + timedelta(days=terms.due_days)
    statement = Statement(
        account_id=account.account_id,
        statement_date=end,
        due_date=due,
        opening_balance_fen=state.statement_balance_fen if state else 0,
        purchases_fen=total("purchase"),
        cash_fen=total("cash_advance"),
        instalment_fen=instalment_principal_fen,
        payments_fen=total("payment"),
        credits_fen=total("credit"),
        interest_fen=interest_fen,
        fees_fen=total("fee") + instalment_fee_fen,
        late_fee_fen=late_fee_fen,
        closing_balance_fen=closing_fen,
        minimum_payment_fen=minimum_fen,
        unbilled_instalment_fen=account.unbilled_instalment_fen,
    ).check_identity()
    dpd = delinquency.dpd_on(end, state, paid_fen, terms) if state else 0
    arrears = (
        delinquency.arrears_after(end, state, paid_fen, terms) if state else delinquency.Arrears()
    )
    account.due_state = delinquency.DueState(due, minimum_fen, closing_fen, arrears)
    account.items = [i for i in account.items if i.remaining_fen > 0 or i.post_date >= start]
    account.previous_start = start
    account.last_statement = end
    return RefResult(
        statement,
        exact,
        dpd,
        delinquency.bucket(dpd, terms.bucket_edges),
        delinquency.five_category(dpd, terms.five_category_edges),
    )
