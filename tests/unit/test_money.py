"""Money parsing, formatting and the one rounding function."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardbatch.money import (
    AMOUNT_FEN_MAX,
    MoneyError,
    accrue,
    check_fen,
    format_fen,
    parse_rate,
    parse_yuan,
    percent_of,
    round_half_up_fen,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,234.50", 123450),
        ("1234.5", 123450),
        ("1234", 123400),
        ("0.01", 1),
        ("0.1", 10),
        ("12.", 1200),
        ("  88.00 ", 8800),
        ("-5.25", -525),
        ("+5.25", 525),
        ("¥1,000.00", 100000),
        ("RMB 300.00", 30000),
        ("１２３４．５０", 123450),  # full-width digits and point
        ("１，２３４.５", 123450),  # full-width comma
        ("300元", 30000),
        ("1,234,567.89", 123456789),
    ],
)
def test_parse_yuan_accepts_usual_forms(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not an amount"),
        ("abc", "not an amount"),
        ("1.234", "more than two decimals"),
        ("12,34.00", "not an amount"),
        ("1.2.3", "not an amount"),
        ("--1", "not an amount"),
        ("1e3", "not an amount"),
        ("100000000000000.00", "too large"),
    ],
)
def test_parse_yuan_refuses_bad_text(text: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_yuan(text)


def test_parse_yuan_refuses_float() -> None:
    with pytest.raises(MoneyError, match="must be text"):
        parse_yuan(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fen", "text", "plain"),
    [
        (0, "0.00", "0.00"),
        (1, "0.01", "0.01"),
        (123450, "1,234.50", "1234.50"),
        (-525, "-5.25", "-5.25"),
        (100000000, "1,000,000.00", "1000000.00"),
    ],
)
def test_format_fen(fen: int, text: str, plain: str) -> None:
    assert format_fen(fen) == text
    assert format_fen(fen, grouping=False) == plain


@given(st.integers(min_value=-AMOUNT_FEN_MAX, max_value=AMOUNT_FEN_MAX))
def test_format_then_parse_round_trips(amount_fen: int) -> None:
    assert parse_yuan(format_fen(amount_fen)) == amount_fen
    assert parse_yuan(format_fen(amount_fen, grouping=False)) == amount_fen


@pytest.mark.parametrize(
    ("exact", "fen"),
    [
        (Decimal("0.5"), 1),  # half-fen tie goes up
        (Decimal("1.5"), 2),
        (Decimal("2.5"), 3),  # not banker's rounding
        (Decimal("0.49999"), 0),
        (Decimal("1784.5"), 1785),
        (Decimal("-0.5"), -1),  # ties away from zero
        (Decimal("-1.4"), -1),
        (7, 7),
    ],
)
def test_round_half_up_fen(exact: Decimal, fen: int) -> None:
    assert round_half_up_fen(exact) == fen


def test_round_refuses_float() -> None:
    with pytest.raises(MoneyError):
        round_half_up_fen(0.5)  # type: ignore[arg-type]


def test_rates_are_exact_and_never_float() -> None:
    assert parse_rate("0.0005") == Decimal("0.0005")
    assert parse_rate("０．０００５") == Decimal("0.0005")
    with pytest.raises(MoneyError, match="not float"):
        parse_rate(0.0005)  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="non-negative"):
        parse_rate("-0.1")
    with pytest.raises(MoneyError, match="not a decimal"):
        parse_rate("five")


def test_domain_oracle_o1_interest_rounds_once() -> None:
    """DOMAIN.md O1: 1000 x r x 24 + 900 x r x 13 = 12.00 + 5.85 = 17.85, rounded once."""
    rate = parse_rate("0.0005")
    exact = accrue(100000, rate, 24) + accrue(90000, rate, 13)
    assert exact == Decimal("1785")
    assert round_half_up_fen(exact) == 1785
    assert round_half_up_fen(accrue(90000, rate, 37)) == 1665  # mode B
    assert round_half_up_fen(accrue(100000, rate, 37)) == 1850  # no payment


def test_domain_oracle_o3_late_fee() -> None:
    """DOMAIN.md O3: 5% of 375.20 unpaid = 18.76; 5% of 75.20 = 3.76, under the 10.00 floor."""
    assert round_half_up_fen(percent_of(37520, Decimal("5"))) == 1876
    assert round_half_up_fen(percent_of(7520, Decimal("5"))) == 376


def test_rounding_once_differs_from_rounding_each_day() -> None:
    """Rounding per day drifts; the exact sum rounded once is the rule."""
    rate = parse_rate("0.0005")
    per_day = sum(round_half_up_fen(accrue(333, rate)) for _ in range(30))
    once = round_half_up_fen(accrue(333, rate, 30))
    assert (per_day, once) == (0, 5)


def test_check_fen() -> None:
    assert check_fen(5) == 5
    for bad in (True, 1.0, "5", AMOUNT_FEN_MAX + 1):
        with pytest.raises(MoneyError):
            check_fen(bad)
