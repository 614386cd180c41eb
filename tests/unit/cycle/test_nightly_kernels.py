"""Nightly kernels between statements: payment allocation and late fees, equal to the domain."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cardbatch.domain.cycle import allocation, late_fee
from cardbatch.domain.product import COMPONENTS, cmb_like
from cardbatch.jobs import cycle_kernels

TERMS = cmb_like(delinquent_from_dpd=30)
DAY = date(2024, 4, 24)


@settings(max_examples=50, deadline=None)
@given(
    accounts=st.lists(
        st.tuples(
            st.lists(st.integers(0, 50_000), min_size=6, max_size=6),
            st.lists(st.tuples(st.integers(1, 90_000), st.integers(0, 60)), max_size=4),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_allocate_payments_equals_the_domain(accounts):
    balances = pl.DataFrame(
        [
            {
                "account_id": i,
                **{f"balance_{c}_fen": b for c, b in zip(COMPONENTS, bals, strict=True)},
                "overpaid_fen": 0,
            }
            for i, (bals, _) in enumerate(accounts)
        ]
    )
    payments = pl.DataFrame(
        [
            {"account_id": i, "seq": k, "amount_fen": amount, "dpd": dpd}
            for i, (_, pays) in enumerate(accounts)
            for k, (amount, dpd) in enumerate(pays)
        ],
        schema={"account_id": pl.Int64, "seq": pl.Int64, "amount_fen": pl.Int64, "dpd": pl.Int64},
    )
    got = cycle_kernels.allocate_payments(balances, payments, TERMS)
    rows = {(r["account_id"], r["seq"]): r for r in got.payments.iter_rows(named=True)}
    for i, (bals, pays) in enumerate(accounts):
        left = list(bals)
        overpaid_fen = 0
        for k, (amount, dpd) in enumerate(pays):
            items = [allocation.Item(c, DAY, 0, b) for c, b in zip(COMPONENTS, left, strict=True)]
            result = allocation.allocate(amount, items, TERMS.allocation_order(dpd))
            row = rows[(i, k)]
            assert [row[f"{c}_fen"] for c in COMPONENTS] == list(result.paid_fen)
            assert row["overpaid_fen"] == result.overpaid_fen
            left = [b - p for b, p in zip(left, result.paid_fen, strict=True)]
            overpaid_fen += result.overpaid_fen
        after = got.balances.row(i, named=True)
        assert [after[f"balance_{c}_fen"] for c in COMPONENTS] == left
        assert after["overpaid_fen"] == overpaid_fen


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 500_000), st.integers(0, 60_000), st.integers(0, 600_000),
                  st.integers(-5, 5)),
        min_size=1,
        max_size=20,
    )
)  # fmt: skip
def test_late_fees_on_equals_the_domain(rows):
    frame = pl.DataFrame(
        [
            {
                "account_id": i,
                "due_date": DAY - timedelta(days=TERMS.grace_days + 1 + shift),
                "statement_balance_fen": balance,
                "minimum_fen": min(minimum, balance),
                "paid_by_grace_fen": paid,
            }
            for i, (balance, minimum, paid, shift) in enumerate(rows)
        ]
    )
    got = dict(cycle_kernels.late_fees_on(frame, DAY, TERMS).iter_rows())
    for i, (balance, minimum, paid, shift) in enumerate(rows):
        fee = late_fee.late_fee(min(minimum, balance), balance, paid, TERMS).fee_fen
        assert got.get(i, 0) == (fee if shift == 0 else 0)
