"""The columnar kernels equal the per-account reference, to the fen, on random portfolios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cardbatch.domain.cycle.period import run_account_period
from cardbatch.domain.product import COMPONENTS, MINIMUM_COMPONENTS, ProductTerms, cmb_like
from cardbatch.jobs import cycle_kernels
from tests.reference.cycle_reference import RefAccount, RefResult, Txn, period_bounds, run_period
from tests.reference.frames import empty_lots, new_accounts_frame, txns_frame, with_instalments

RATES = ("0.0005", "0.00035", "0.000456", "0.0001")


@st.composite
def product_terms(draw: st.DrawFn) -> ProductTerms:
    orders = st.permutations(COMPONENTS).map(tuple)
    return cmb_like(
        due_days=draw(st.integers(10, 25)),
        grace_days=draw(st.integers(0, 2)),
        daily_rate=Decimal(draw(st.sampled_from(RATES))),
        interest_mode=draw(st.sampled_from(["full_balance", "unpaid_only"])),
        cash_from_transaction_date=draw(st.booleans()),
        charge_interest_on_fees=draw(st.booleans()),
        waiver_threshold_fen=draw(st.sampled_from([0, 1000, 5000])),
        min_payment_percent=Decimal(draw(st.sampled_from(["10", "5", "12.5"]))),
        min_payment_floor_fen=draw(st.sampled_from([0, 1000])),
        min_payment_full_components=tuple(
            draw(st.lists(st.sampled_from(MINIMUM_COMPONENTS), unique=True))
        ),
        late_fee_percent=Decimal(draw(st.sampled_from(["5", "3.3"]))),
        late_fee_floor_fen=draw(st.sampled_from([0, 1000])),
        late_fee_cap_fen=draw(st.sampled_from([None, 2000])),
        allocation_order_current=draw(orders),
        allocation_order_delinquent=draw(orders),
        delinquent_from_dpd=draw(st.sampled_from([1, 5, 20, 91])),
    )


@dataclass(frozen=True)
class ChargeSpec:
    """A purchase, cash advance, fee or credit on day ``day % (period days)`` of a period."""

    day: int
    kind: str
    amount_fen: int


@dataclass(frozen=True)
class PaymentSpec:
    """A payment of ``kind`` (full, minimum, nearly, over, some); ``near_due`` days from the
    last due date when there is one, else on day ``day % (period days)``."""

    kind: str
    fraction_fen: int
    day: int
    near_due: int | None = None


@dataclass(frozen=True)
class AccountSpec:
    statement_day: int
    credit_limit_fen: int
    opened_days: int  # after 2024-01-01


@dataclass(frozen=True)
class AccountPeriod:
    charges: tuple[ChargeSpec, ...] = ()
    payments: tuple[PaymentSpec, ...] = ()
    instalment: tuple[int, int] = (0, 0)  # principal and fee billed on the statement date


@dataclass(frozen=True)
class Portfolio:
    """Accounts and, per period, each account's activity: plain values, so a failing
    portfolio can be kept as an explicit ``@example``."""

    accounts: tuple[AccountSpec, ...]
    periods: tuple[tuple[AccountPeriod, ...], ...]


def _payment_amount(kind: str, result: RefResult | None, fraction_fen: int) -> int:
    if result is None:
        return fraction_fen
    closing_fen = max(0, result.statement.closing_balance_fen)
    if kind == "full":
        return closing_fen
    if kind == "minimum":
        return result.statement.minimum_payment_fen
    if kind == "nearly":  # leaves a little unpaid: around the waiver threshold
        return max(0, closing_fen - fraction_fen % 6000)
    if kind == "over":
        return closing_fen + fraction_fen
    return fraction_fen


def period_txns(
    spec: AccountPeriod, start: date, end: date, due: date | None, last: RefResult | None
) -> list[Txn]:
    """The transactions of one account's period, from its spec."""
    span = (end - start).days + 1
    txns = [
        Txn(start + timedelta(days=c.day % span), seq, c.kind, c.amount_fen)
        for seq, c in enumerate(spec.charges)
    ]
    for seq, p in enumerate(spec.payments, start=10):
        amount_fen = _payment_amount(p.kind, last, p.fraction_fen)
        if amount_fen <= 0:
            continue
        if due is not None and p.near_due is not None:
            day = min(max(due + timedelta(days=p.near_due), start), end)
        else:
            day = start + timedelta(days=p.day % span)
        txns.append(Txn(day, seq, "payment", amount_fen))
    return txns


CHARGE_KINDS = ["purchase", "purchase", "cash_advance", "fee", "credit"]
PAYMENT_CHOICES = ["full", "minimum", "nearly", "over", "some", "none"]


@st.composite
def account_periods(draw: st.DrawFn) -> AccountPeriod:
    charges = draw(
        st.lists(
            st.builds(
                ChargeSpec,
                st.integers(0, 30),
                st.sampled_from(CHARGE_KINDS),
                st.integers(1, 300_000),
            ),
            max_size=7,
        )
    )
    payments = [
        PaymentSpec(
            kind,
            draw(st.integers(1, 200_000)),
            draw(st.integers(0, 30)),
            draw(st.none() | st.integers(-3, 5)),
        )
        for kind in draw(st.lists(st.sampled_from(PAYMENT_CHOICES), max_size=3))
        if kind != "none"
    ]
    instalment = draw(st.sampled_from([(0, 0), (50_000, 360), (33_333, 0)]))
    return AccountPeriod(tuple(charges), tuple(payments), instalment)


@st.composite
def portfolios(draw: st.DrawFn) -> Portfolio:
    accounts = draw(
        st.lists(
            st.builds(
                AccountSpec,
                st.integers(1, 31),
                st.sampled_from([50_000, 500_000, 5_000_000]),
                st.integers(0, 400),
            ),
            min_size=1,
            max_size=5,
        )
    )
    count = draw(st.integers(2, 5))
    periods = [tuple(draw(account_periods()) for _ in accounts) for _ in range(count)]
    return Portfolio(tuple(accounts), tuple(periods))


def _check_equal(ref: dict[int, RefResult], kernel: pl.DataFrame, terms: ProductTerms) -> None:
    for row in kernel.iter_rows(named=True):
        expected = ref[row["account_id"]]
        got = {k: row[k] for k in expected.statement.as_dict()}
        got["statement_date"] = row["statement_date"].isoformat()
        got["due_date"] = row["due_date"].isoformat()
        assert got == expected.statement.as_dict()
        assert (row["dpd"], row["bucket"], row["five_category"]) == (
            expected.dpd,
            expected.bucket,
            expected.five_category,
        )
        exact_fen = Decimal(row["interest_fen_days"]) * terms.daily_rate
        assert exact_fen == expected.interest_exact_fen


def _check_item_by_item(
    frame: pl.DataFrame,
    lots: pl.DataFrame,
    txns: pl.DataFrame,
    ref: dict[int, RefResult],
    terms: ProductTerms,
) -> None:
    """The per-account, item-by-item period (what explanations use) agrees too."""
    for account_id, expected in ref.items():
        inputs = cycle_kernels.account_period_inputs(frame, lots, txns, account_id)
        outcome = run_account_period(*inputs, terms)
        assert outcome.statement == expected.statement
        assert outcome.dpd == expected.dpd
        assert outcome.interest_exact_fen == expected.interest_exact_fen


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(terms=product_terms(), portfolio=portfolios())
# A credit with no purchases to lower leaves an overpayment beside unpaid cash; the next
# cash advance is paid by it as it posts (not the oldest cash advance): mode B interest
# on the interest-free cash lots of the next period depends on which one stays unpaid.
@example(
    terms=cmb_like(interest_mode="unpaid_only", cash_from_transaction_date=False),
    portfolio=Portfolio(
        accounts=(AccountSpec(statement_day=5, credit_limit_fen=5_000_000, opened_days=65),),
        periods=(
            (
                AccountPeriod(
                    charges=(
                        ChargeSpec(4, "cash_advance", 100_000),
                        ChargeSpec(6, "credit", 50_000),
                        ChargeSpec(14, "cash_advance", 80_000),
                    )
                ),
            ),
            (AccountPeriod(),),
        ),
    ),
)
def test_kernels_equal_reference_over_random_months(terms: ProductTerms, portfolio: Portfolio):
    accounts = [
        RefAccount(
            account_id=100 + i,
            statement_day=spec.statement_day,
            credit_limit_fen=spec.credit_limit_fen,
            terms=terms,
            opened=date(2024, 1, 1) + timedelta(days=spec.opened_days),
            unbilled_instalment_fen=1_000_000,
        )
        for i, spec in enumerate(portfolio.accounts)
    ]
    frame = new_accounts_frame(accounts)
    lots = empty_lots()
    last: dict[int, RefResult] = {}
    for period in portfolio.periods:
        period_rows: list[tuple[int, Txn]] = []
        billed: dict[int, tuple[int, int]] = {}
        results: dict[int, RefResult] = {}
        for account, spec in zip(accounts, period, strict=True):
            start, end = period_bounds(account)
            previous = last.get(account.account_id)
            due = previous.statement.due_date if previous else None
            txns = period_txns(spec, start, end, due, previous)
            billed[account.account_id] = spec.instalment
            results[account.account_id] = run_period(account, txns, *spec.instalment)
            period_rows.extend((account.account_id, t) for t in txns)
        frame = with_instalments(frame, billed)
        txns_all = txns_frame(period_rows)
        result = cycle_kernels.run_period(frame, lots, txns_all, terms)
        _check_item_by_item(frame, lots, txns_all, results, terms)
        _check_equal(results, result.statements, terms)
        frame, lots, last = result.accounts, result.lots, results
