"""The columnar kernels equal the per-account reference, to the fen, on random portfolios."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings
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


@st.composite
def period_txns(
    draw: st.DrawFn, start: date, end: date, due: date | None, last: RefResult | None
) -> list[Txn]:
    span_days = (end - start).days
    txns: list[Txn] = []
    for seq in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["purchase", "purchase", "cash_advance", "fee", "credit"]))
        day = start + timedelta(days=draw(st.integers(0, span_days)))
        txns.append(Txn(day, seq, kind, draw(st.integers(1, 300_000))))
    for seq in range(10, 10 + draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["full", "minimum", "nearly", "over", "some", "none"]))
        amount_fen = _payment_amount(kind, last, draw(st.integers(1, 200_000)))
        if kind == "none" or amount_fen <= 0:
            continue
        near = due if due is not None and draw(st.booleans()) else None
        if near is not None:
            day = near + timedelta(days=draw(st.integers(-3, 5)))
            day = min(max(day, start), end)
        else:
            day = start + timedelta(days=draw(st.integers(0, span_days)))
        txns.append(Txn(day, seq, "payment", amount_fen))
    return txns


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
@given(data=st.data(), terms=product_terms())
def test_kernels_equal_reference_over_random_months(data: st.DataObject, terms: ProductTerms):
    count = data.draw(st.integers(1, 5), label="accounts")
    accounts = [
        RefAccount(
            account_id=100 + i,
            statement_day=data.draw(st.integers(1, 31)),
            credit_limit_fen=data.draw(st.sampled_from([50_000, 500_000, 5_000_000])),
            terms=terms,
            opened=date(2024, 1, 1) + timedelta(days=data.draw(st.integers(0, 400))),
            unbilled_instalment_fen=1_000_000,
        )
        for i in range(count)
    ]
    frame = new_accounts_frame(accounts)
    lots = empty_lots()
    last: dict[int, RefResult] = {}
    for _ in range(data.draw(st.integers(2, 5), label="periods")):
        period_rows: list[tuple[int, Txn]] = []
        billed: dict[int, tuple[int, int]] = {}
        results: dict[int, RefResult] = {}
        for account in accounts:
            start, end = period_bounds(account)
            previous = last.get(account.account_id)
            due = previous.statement.due_date if previous else None
            txns = data.draw(period_txns(start, end, due, previous))
            billed[account.account_id] = data.draw(
                st.sampled_from([(0, 0), (50_000, 360), (33_333, 0)])
            )
            results[account.account_id] = run_period(account, txns, *billed[account.account_id])
            period_rows.extend((account.account_id, t) for t in txns)
        frame = with_instalments(frame, billed)
        txns = txns_frame(period_rows)
        result = cycle_kernels.run_period(frame, lots, txns, terms)
        _check_item_by_item(frame, lots, txns, results, terms)
        _check_equal(results, result.statements, terms)
        frame, lots, last = result.accounts, result.lots, results
