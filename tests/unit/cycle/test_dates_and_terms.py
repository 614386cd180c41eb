"""Statement dates in short months, due date and grace end; product terms validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from cardbatch.domain.cycle import dates
from cardbatch.domain.product import ProductTerms, ProductTermsError, cmb_like
from cardbatch.jobs.cycle_kernels import next_statement_date_expr


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        (2024, 2, 31, date(2024, 2, 29)),
        (2023, 2, 30, date(2023, 2, 28)),
        (2024, 4, 31, date(2024, 4, 30)),
        (2024, 5, 31, date(2024, 5, 31)),
        (2024, 5, 5, date(2024, 5, 5)),
    ],
)
def test_statement_date_clamps_to_month_end(year, month, day, expected):
    assert dates.statement_date_in(year, month, day) == expected


def test_next_and_previous_statement_dates_across_short_months():
    assert dates.next_statement_date(date(2024, 1, 31), 31) == date(2024, 2, 29)
    assert dates.next_statement_date(date(2024, 2, 29), 31) == date(2024, 3, 31)
    assert dates.next_statement_date(date(2024, 12, 5), 5) == date(2025, 1, 5)
    assert dates.next_statement_date(date(2024, 3, 4), 5) == date(2024, 3, 5)
    assert dates.previous_statement_date(date(2024, 3, 1), 30) == date(2024, 2, 29)
    assert dates.is_statement_date(date(2023, 2, 28), 30)


def test_kernel_next_statement_date_agrees_with_the_domain():
    days = list(range(1, 32))
    starts = [dates.statement_date_in(2024, m, d) for m in range(1, 13) for d in days]
    frame = pl.DataFrame(
        {"t": starts, "day": [d for _ in range(1, 13) for d in days]},
        schema={"t": pl.Date, "day": pl.Int64},
    )
    got = frame.select(next_statement_date_expr(pl.col("t"), pl.col("day")).alias("n"))["n"]
    expected = [
        dates.next_statement_date(t, d) for t, d in zip(frame["t"], frame["day"], strict=True)
    ]
    assert got.to_list() == expected


def test_due_date_grace_end_and_late_fee_date():
    terms = cmb_like()
    statement = date(2024, 4, 5)
    assert dates.due_date(statement, terms) == date(2024, 4, 23)
    assert dates.grace_end(statement, terms) == date(2024, 4, 26)
    assert dates.late_fee_date(statement, terms) == date(2024, 4, 27)
    assert dates.days_inclusive(date(2024, 3, 30), date(2024, 4, 22)) == 24
    assert dates.days_past_due(date(2024, 4, 23), date(2024, 4, 23)) == 0


def test_statement_day_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"statement day must be 1\.\.31, got 32"):
        dates.statement_date_in(2024, 1, 32)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_days": 25, "grace_days": 3}, "due_days \\+ grace_days must be at most 27, got 28"),
        ({"interest_mode": "daily"}, "interest_mode must be full_balance or unpaid_only"),
        ({"allocation_order_current": ("interest", "fee")}, "allocation_order_current must"),
        ({"late_fee_cap_fen": 500}, "late_fee_cap_fen must not be below late_fee_floor_fen"),
        ({"bucket_edges": (1, 31, 61)}, "bucket_edges must list 7 edges"),
        ({"five_category_edges": (1, 91, 91, 181)}, "five_category_edges must increase"),
        ({"min_payment_full_components": ("tips",)}, "unknown tips"),
        ({"daily_rate": Decimal("-0.1")}, "daily_rate must be an exact Decimal"),
    ],
)
def test_bad_terms_are_refused_with_the_field_named(changes, message):
    with pytest.raises(ProductTermsError, match=message):
        cmb_like(**changes)


def test_cmb_like_defaults_and_field_mapping():
    terms = cmb_like()
    assert isinstance(terms, ProductTerms)
    assert (terms.due_days, terms.grace_days, terms.daily_rate) == (18, 3, Decimal("0.0005"))
    assert terms.allocation_order(91) == (
        "cash",
        "instalment",
        "purchase",
        "interest",
        "fee",
        "late_fee",
    )
    with pytest.raises(ProductTermsError, match="unknown product terms field"):
        cmb_like(overdraft=True)


def test_allocation_components_are_the_ledger_card_components():
    from cardbatch.domain.ledger import CARD_COMPONENTS
    from cardbatch.domain.product import COMPONENTS

    assert tuple(str(c) for c in CARD_COMPONENTS) == COMPONENTS
