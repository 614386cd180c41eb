"""Cleaning of single cells (DOMAIN.md: identities, full-width, dates, amounts)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardbatch.ingest.clean import (
    CleanError,
    clean_name,
    clean_text,
    clean_value,
    name_expr,
    parse_date,
    text_expr,
)
from cardbatch.ingest.columns import ACCOUNTS, CUSTOMERS, TRANSACTIONS


def test_full_width_digits_letters_punctuation_and_ideographic_space() -> None:
    assert clean_text("　ＡＢＣ１２３，（测试）！　") == "ABC123,(测试)!"


def test_ideographic_punctuation_has_an_explicit_map() -> None:
    assert clean_text("备注。第一、第二【甲】“乙”《丙》") == '备注.第一,第二[甲]"乙"<丙>'


def test_trim_and_empty_is_none() -> None:
    assert clean_text("  x \t") == "x"
    assert clean_text("   ") is None
    assert clean_text(None) is None


def test_formula_apostrophe_written_by_rejects_is_removed() -> None:
    assert clean_text("'=SUM(A1)") == "=SUM(A1)"
    assert clean_text("'-5.00") == "-5.00"
    assert clean_text("'abc") == "'abc"  # an apostrophe before ordinary text stays


def test_names_collapse_inner_space_and_close_gaps_between_chinese_characters() -> None:
    assert clean_name("Zhang   Wei") == "Zhang Wei"
    assert clean_name("张 三 丰") == "张三丰"
    assert clean_name("阿卜杜·热合曼") == "阿卜杜·热合曼"


@pytest.mark.parametrize("text", ["2024-03-05", "2024/3/5", "20240305", "2024.3.5", "2024年3月5日"])
def test_dates_in_the_usual_forms(text: str) -> None:
    assert parse_date(text) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("text", "code"),
    [("2024-02-30", "date_invalid"), ("05/03/2024", "date_format"), ("1800-01-01", "date_range")],
)
def test_bad_dates(text: str, code: str) -> None:
    with pytest.raises(CleanError) as info:
        parse_date(text)
    assert info.value.code == code


def test_resident_id_x_upper_cased_and_errors_masked() -> None:
    column = CUSTOMERS.column("id_number")
    assert clean_value(column, "11010519491231002x") == ("11010519491231002X", None)
    with pytest.raises(CleanError) as info:
        clean_value(column, "110105194912310021")
    assert info.value.code == "ric_checksum"
    assert "110105194912310021" not in info.value.message
    assert "110105********0021" in info.value.message


@pytest.mark.parametrize("text", ["+86 138-0013-8000", "0086 13800138000", "138 0013 8000"])
def test_phones_normalised(text: str) -> None:
    assert clean_value(CUSTOMERS.column("phone"), text) == ("13800138000", None)


def test_luhn_failure_is_a_warning_for_unionpay_and_a_reject_otherwise() -> None:
    column = ACCOUNTS.column("card_number")
    number, warning = clean_value(column, "6222022000000095")
    assert number == "6222022000000095"
    assert warning is not None and warning.code == "card_luhn_warning"
    with pytest.raises(CleanError) as info:
        clean_value(column, "4367420000000018")
    assert info.value.code == "card_luhn"
    assert clean_value(column, "6222 0210 0000 0005") == ("6222021000000005", None)


@pytest.mark.parametrize(
    ("text", "fen"), [("1,000.00", 100_000), ("￥300", 30_000), ("12.5", 1250), ("０.０１", 1)]
)
def test_amounts_in_yuan(text: str, fen: int) -> None:
    assert clean_value(TRANSACTIONS.column("amount"), text) == (fen, None)


@pytest.mark.parametrize(
    ("text", "code"), [("12.345", "amount_format"), ("-1", "amount_negative"), ("0", "amount_zero")]
)
def test_bad_amounts(text: str, code: str) -> None:
    with pytest.raises(CleanError) as info:
        clean_value(TRANSACTIONS.column("amount"), text)
    assert info.value.code == code


def test_choices_accept_chinese_aliases() -> None:
    assert clean_value(TRANSACTIONS.column("txn_type"), "取现") == ("cash_advance", None)
    assert clean_value(ACCOUNTS.column("autopay_mode"), None) == ("none", None)


def test_missing_required_value() -> None:
    with pytest.raises(CleanError) as info:
        clean_value(CUSTOMERS.column("name"), "  ")
    assert info.value.code == "required"


_cells = st.text(
    alphabet=st.sampled_from([*"ab1 　ＡＺ０９，。、'=+-@\t\r\n张三“”《》【】", "\u00a0"]),
    max_size=12,
)


@given(st.lists(_cells, min_size=1, max_size=20))
def test_polars_text_cleaning_equals_the_scalar_rules(cells: list[str]) -> None:
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    vectorised = frame.select(text_expr("c")).get_column("c").to_list()
    assert vectorised == [clean_text(cell) for cell in cells]
    named = frame.select(text_expr("c")).select(name_expr("c")).get_column("c").to_list()
    assert named == [None if (t := clean_text(c)) is None else clean_name(t) for c in cells]
