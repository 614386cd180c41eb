"""Pure parts of issuance and actions: card numbers, limit rules, templates, buckets, due dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardbatch.actions.limits import RuleError, new_limit, parse_rule
from cardbatch.actions.notice_service import next_due_date
from cardbatch.actions.notices import TemplateError, bucket_of, load_template
from cardbatch.domain.identity import luhn_valid
from cardbatch.issuance.numbers import (
    SerialsExhausted,
    card_number,
    embossed_expiry,
    expiry_month,
    serial_of,
    statement_day_for,
)


@given(st.integers(min_value=1, max_value=10**9 - 1))
def test_card_numbers_carry_the_bin_pass_luhn_and_give_back_their_serial(serial: int) -> None:
    number = card_number("622588", 16, serial)
    assert len(number) == 16 and number.startswith("622588") and luhn_valid(number)
    assert serial_of(number, "622588") == serial


def test_serials_are_bounded_by_the_card_length() -> None:
    with pytest.raises(SerialsExhausted):
        card_number("622588", 16, 10**9)
    with pytest.raises(SerialsExhausted):
        card_number("622588", 16, 0)


def test_expiry_and_statement_day_policy() -> None:
    assert expiry_month(date(2026, 3, 16), 5) == "2031-03"
    assert embossed_expiry("2031-03") == "03/31"
    assert [statement_day_for(s, (5, 10, 15)) for s in range(1, 7)] == [10, 15, 5, 10, 15, 5]


@pytest.mark.parametrize(
    ("rule", "before_fen", "after_fen"),
    [
        ("+20%", 1_000_000, 1_200_000),
        ("+20% cap 50000", 4_500_000, 5_000_000),
        ("+20% cap 50000", 6_000_000, 6_000_000),  # above the cap already: never lowered
        ("+5000", 1_000_000, 1_500_000),
        ("+12.5% step 0.01", 1_000_001, 1_125_001),
        ("+10%", 1_234_500, 1_350_000),  # 13,579.50 rounded down to 100 yuan
        ("-10% floor 9500", 1_000_000, 950_000),
        ("-50000", 1_000_000, 0),
    ],
)
def test_new_limits(rule: str, before_fen: int, after_fen: int) -> None:
    assert new_limit(parse_rule(rule), before_fen) == after_fen


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("20%", "start with"),
        ("+20% cap", "needs an amount"),
        ("+20% ceiling 5", "unknown or repeated"),
        ("+20% cap 1 cap 2", "unknown or repeated"),
        ("+20% cap 100 floor 200", "cap is below floor"),
        ("+1.234", "two decimals"),
    ],
)
def test_bad_rules(rule: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rule(rule)


def test_buckets_follow_the_domain_edges() -> None:
    cases = {
        0: "M0",
        1: "M1",
        30: "M1",
        31: "M2",
        90: "M3",
        91: "M4",
        121: "M5",
        180: "M6",
        181: "M7",
    }
    assert {d: bucket_of(d) for d in cases} == cases


def test_next_due_date() -> None:
    assert next_due_date(5, date(2026, 3, 20), 18) == date(2026, 3, 23)
    assert next_due_date(5, date(2026, 3, 24), 18) == date(2026, 4, 23)
    assert next_due_date(25, date(2026, 1, 5), 18) == date(2026, 1, 12)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.sms.txt", "# select: all\n尊敬的${id_number}", "unknown field"),
        ("a.sms.txt", "尊敬的${name}", "select"),
        ("a.sms.txt", "# select: bucket M9\n${name}", "select must be"),
        ("a.sms.txt", "# select: all\n${name}\n第二行", "one line"),
        ("a.fax.txt", "# select: all\n${name}", "sms.txt or .letter.txt"),
        ("a.sms.txt", "# select: all\n100$", "write \\$\\$"),
    ],
)
def test_bad_templates(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError, match=message):
        load_template(path)
