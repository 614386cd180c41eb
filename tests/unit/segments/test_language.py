"""The screening language: expected results over a fixture portfolio, and bad expressions."""

from __future__ import annotations

import pytest

from cardbatch.segments.ast import ExprError
from cardbatch.segments.compile import select_rows
from cardbatch.segments.evaluate import matches
from cardbatch.segments.typecheck import ExprErrors, compile_check

from .portfolio import BUSINESS_DATE, portfolio_frame, portfolio_rows

# (expression, account ids selected)
EXPECTED: list[tuple[str, list[str]]] = [
    ("dpd >= 1 and dpd <= 30 and credit_score >= 650", ["A03", "A10"]),
    ('dpd >= 1 and dpd <= 30 and credit_score >= 650 and city in ("上海", "北京")', ["A03"]),
    ("dpd between 1 and 30", ["A02", "A03", "A10"]),
    ("dpd not between 1 and 30", ["A01", "A04", "A05", "A06", "A07", "A08", "A09"]),
    ('city startswith "上海"', ["A01", "A03", "A08"]),
    ("city is null", ["A05"]),
    ("credit_score is not null and credit_score < 600", ["A07"]),
    ('city not in ("上海", "北京")', ["A04", "A07", "A08", "A10"]),
    ("not (credit_score >= 650)", ["A02", "A07", "A09"]),
    ("credit_score >= 650 or city is null", ["A01", "A03", "A05", "A06", "A08", "A10"]),
    ("utilisation > 0.9", ["A02", "A04", "A09"]),
    ("utilisation >= 1", ["A04", "A09"]),
    ("balance_fen > credit_limit_fen", ["A04", "A09"]),
    ("balance_fen - credit_limit_fen >= -100000 and balance_fen > 0", ["A02", "A04", "A09"]),
    ("last_payment_date < today - 30", ["A02", "A04", "A07", "A08"]),
    ("today - last_payment_date <= 1", ["A06", "A10"]),
    ('open_date >= date("2024-01-01")', ["A05", "A10"]),
    ("open_date + 30 > today", ["A05"]),
    ("months_on_book >= 60 and status = 'active'", ["A08", "A09"]),
    ('bucket in ("M4", "M5", "M6", "M7")', ["A04", "A09"]),
    ("five_class != 'normal' and autopay_mode = 'none'", ["A03", "A04", "A09"]),
    ("statement_day = 5 AND age >= 40", ["A04", "A07"]),
    ("age between 18 and 25 or age > 60", ["A06", "A07", "A10"]),
    ("gender = 'F' and not city = '北京'", ["A03", "A07"]),
    ("product = 'CCB_LIKE' and dpd > 0", ["A03", "A09"]),
    ("utilisation < 0.1 or utilisation is null", ["A05", "A06", "A07"]),
    ("credit_score in (640, 700.0)", ["A01", "A02"]),
    ("-dpd < -100", ["A09"]),
    ("true", [f"A{n:02d}" for n in range(1, 11)]),
    ("dpd > 1000", []),
]


@pytest.mark.parametrize(("text", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_expression_selects_expected_accounts(text: str, expected: list[str]) -> None:
    checked = compile_check(text)
    polars_ids = select_rows(portfolio_frame(), checked, BUSINESS_DATE)["account_id"].to_list()
    python_ids = [
        str(row["account_id"]) for row in portfolio_rows() if matches(checked, row, BUSINESS_DATE)
    ]
    assert polars_ids == expected
    assert python_ids == expected


# (expression, [(column, message), ...])
BAD: list[tuple[str, list[tuple[int, str]]]] = [
    ("", [(1, "empty expression")]),
    ("dpdd > 1", [(1, "unknown field 'dpdd' (did you mean 'dpd'?)")]),
    ("dpd > 1 and xyz = 2", [(13, "unknown field 'xyz'")]),
    ("dpd >", [(6, "expected a value, found end of expression")]),
    ("dpd >= 1 and", [(13, "expected a value, found end of expression")]),
    ("(dpd > 1", [(9, "expected ')', found end of expression")]),
    ("dpd > 1)", [(8, "unexpected ')'")]),
    ("dpd = = 1", [(7, "expected a value, found '='")]),
    ("city in 上海", [(9, "unexpected character '上'")]),
    ("city in ('a' 'b')", [(14, "expected ',' or ')' in the list, found string 'b'")]),
    ("city in (dpd)", [(10, "list items must be literal values")]),
    ('city = "上海', [(8, "string is not closed")]),
    ("dpd > 1.", [(7, "a number needs digits after its decimal point")]),
    ("dpd > 12abc", [(9, "unexpected 'a' after a number")]),
    ("dpd > 1 ; drop", [(9, "unexpected character ';'")]),
    ("dpd not 3", [(9, "expected 'in' or 'between' after 'not', found '3'")]),
    ("dpd between 1 or 3", [(15, "expected 'and' in 'between ... and ...', found 'or'")]),
    ("dpd is 3", [(8, "expected 'null', found '3'")]),
    ('open_date > date("2024-02-30")', [(18, "not a date (YYYY-MM-DD): '2024-02-30'")]),
    ("city > 'a'", [(6, "'>' does not apply to str; use = or !=")]),
    ("city = 3", [(6, "cannot compare str with int")]),
    ("dpd = '3'", [(5, "cannot compare int with str")]),
    ("open_date > 30", [(11, "cannot compare date with int")]),
    ("open_date + open_date > today", [(11, "cannot compute date + date")]),
    ("30 - open_date > 1", [(4, "cannot compute int - date")]),
    ("city + 1 = 2", [(6, "cannot compute str + int")]),
    ("-city = 'x'", [(1, "'-' needs a number, not str")]),
    ("balance_fen", [(1, "the expression is int, not a condition")]),
    (
        "dpd and city",
        [(1, "'and' needs a condition, not int"), (9, "'and' needs a condition, not str")],
    ),
    ("not dpd", [(5, "'not' needs a condition, not int")]),
    ("dpd in (1, 'a')", [(12, "list item is str, but the value is int")]),
    ("bucket between 'M1' and 'M3'", [(8, "between does not apply to str")]),
    ("dpd between 1 and 'x'", [(19, "between bound is str, but the value is int")]),
    ("city startswith 1", [(6, "startswith needs two strings, not str and int")]),
    ("dpd > 9999999999999999", [(7, "number larger than 1000000000000000")]),
    (
        "cty = 'a' and dpd > 'x' or age < 1",
        [(1, "unknown field 'cty' (did you mean 'city'?)"), (19, "cannot compare int with str")],
    ),
]


@pytest.mark.parametrize(("text", "errors"), BAD, ids=[b[0] or "<empty>" for b in BAD])
def test_bad_expression_is_reported_with_its_column(
    text: str, errors: list[tuple[int, str]]
) -> None:
    with pytest.raises(ExprErrors) as caught:
        compile_check(text)
    assert [(e.column, e.message) for e in caught.value.errors] == errors


def test_too_deep_nesting_is_refused() -> None:
    with pytest.raises(ExprErrors) as caught:
        compile_check("(" * 100 + "dpd > 1" + ")" * 100)
    assert caught.value.errors[0].message == "nested deeper than 64 levels"


def test_too_long_expression_is_refused() -> None:
    with pytest.raises(ExprErrors) as caught:
        compile_check("dpd > 1 and " * 400 + "dpd > 1")
    assert caught.value.errors[0].message == "longer than 4000 characters"


def test_pointer_shows_a_caret_under_the_column() -> None:
    error = ExprError(5, "unknown field 'x'")
    assert error.pointer("dpd and x") == "dpd and x\n    ^ unknown field 'x'"


def test_keywords_are_case_insensitive_and_quotes_escape() -> None:
    checked = compile_check("city = 'it\\'s' OR NOT dpd BETWEEN 1 AND 2 and city IS NOT NULL")
    assert checked.node is not None
