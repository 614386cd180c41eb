"""Rule files: the examples load, and every documented key refuses a bad value exactly."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cardbatch.rules.load import (
    RuleError,
    RuleSetInvalid,
    check_rules_text,
    parse_rules,
    validate_rules,
)
from cardbatch.rules.model import RuleSet

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rules"


def _standard_data() -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / "standard.toml").read_text(encoding="utf-8"))


def test_standard_example_loads_with_cmb_like_terms() -> None:
    rules = parse_rules((EXAMPLES / "standard.toml").read_text(encoding="utf-8"))
    assert rules.product.code == "STD"
    assert rules.cycle.due_days == 18
    assert rules.cycle.grace_days == 3
    assert rules.interest.daily_rate == Decimal("0.0005")
    assert rules.interest.mode == "full_balance"
    assert rules.interest.waiver_threshold_fen == 1000
    assert rules.interest.charge_interest_on_fees is False
    assert rules.minimum_payment.percent == Decimal(10)
    assert rules.late_fee.percent == Decimal(5)
    assert rules.late_fee.floor_fen == 1000
    assert rules.late_fee.cap_fen is None
    assert rules.allocation.order_current == [
        "interest",
        "fee",
        "late_fee",
        "cash",
        "instalment",
        "purchase",
    ]
    assert rules.allocation.order_delinquent[:3] == ["cash", "instalment", "purchase"]
    assert rules.allocation.delinquent_from_dpd == 91
    assert rules.autopay.attempt_offset_days == 0
    assert rules.delinquency.bucket_edges == [1, 31, 61, 91, 121, 151, 181]
    assert rules.delinquency.five_category_edges == [1, 91, 121, 181]


def test_ccb_like_example_loads_with_its_differences() -> None:
    rules = parse_rules((EXAMPLES / "ccb_like.toml").read_text(encoding="utf-8"))
    assert rules.product.code == "CCB_LIKE"
    assert rules.cycle.due_days == 20
    assert rules.autopay.retry_days == 5
    assert rules.interest.mode == "unpaid_only"


# (key path, bad value, exact message). A value of _DELETE removes the key.
_DELETE = object()
BAD_VALUES: list[tuple[str, object, str]] = [
    ("product.code", "9 std", "must match ^[A-Za-z][A-Za-z0-9_-]{0,31}$, got '9 std'"),
    ("product.name", "", "must not be empty"),
    ("product.currency", "USD", "must be one of 'CNY', got 'USD'"),
    ("cycle.due_days", 0, "must be at least 1, got 0"),
    ("cycle.grace_days", "3", "must be an integer, got '3'"),
    (
        "cycle.grace_days",
        10,
        "due_days + grace_days must be at most 27 (the late fee falls inside the next"
        " statement period), got 28",
    ),
    ("cycle.due_days", 28, "must be at most 27, got 28"),
    (
        "interest.daily_rate",
        0.0005,
        'must be an exact decimal string such as "0.0005", got 0.0005',
    ),
    (
        "interest.mode",
        "full",
        "must be one of 'full_balance', 'unpaid_only', got 'full'",
    ),
    ("interest.cash_from_transaction_date", "yes", "must be true or false, got 'yes'"),
    ("interest.waiver_threshold_fen", -1, "must be at least 0, got -1"),
    ("interest.charge_interest_on_fees", 1, "must be true or false, got 1"),
    ("minimum_payment.percent", "0", "percent must be above 0 and at most 100, got '0'"),
    ("minimum_payment.floor_fen", 10.0, "must be an integer, got 10.0"),
    (
        "minimum_payment.full_components",
        ["fee", "fee"],
        "lists 'fee' more than once",
    ),
    ("late_fee.percent", "abc", "not a non-negative decimal: 'abc'"),
    ("late_fee.floor_fen", _DELETE, "required key is missing"),
    ("late_fee.cap_fen", 500, "must not be below floor_fen (1000), got 500"),
    (
        "allocation.order_current",
        ["interest", "fee", "purchase"],
        "must list every component, missing: cash, late_fee, instalment",
    ),
    (
        "allocation.order_delinquent",
        "purchases",
        "must be a list, got 'purchases'",
    ),
    ("allocation.delinquent_from_dpd", 0, "must be at least 1, got 0"),
    ("autopay.attempt_offset_days", 6, "must be at most 5, got 6"),
    ("autopay.retry_days", -2, "must be at least 0, got -2"),
    ("autopay.fallback_to_minimum", "true", "must be true or false, got 'true'"),
    ("autopay.allow_partial", None, "must be true or false, got None"),
    (
        "delinquency.bucket_edges",
        [1, 31, 31, 91, 121, 151, 181],
        "edges must increase strictly, got 31 then 31",
    ),
    ("delinquency.five_category_edges", [1, 91, 121], "must list exactly 4 edges, got 3"),
    (
        "delinquency.block_from_bucket",
        "M8",
        "must be one of 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', got 'M8'",
    ),
    (
        "delinquency.freeze_from_bucket",
        "m2",
        "must be one of 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', got 'm2'",
    ),
    ("delinquency.charge_off_dpd", 0, "must be at least 1, got 0"),
    ("autopay.mode", "nightly", "must be one of 'due_date', 'sweep', got 'nightly'"),
    (
        "instalment.early_payoff_fee",
        "waive",
        "must be one of 'waive_remaining_fees', 'charge_remaining_fees', got 'waive'",
    ),
]


def _set(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    section, key = path.split(".")
    if value is _DELETE:
        del changed[section][key]
    elif value is None:
        changed[section][key] = None
    else:
        changed.setdefault(section, {})[key] = value
    return changed


@pytest.mark.parametrize(("path", "value", "message"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_value_is_reported_with_key_path_and_exact_message(
    path: str, value: object, message: str
) -> None:
    rules, errors = validate_rules(_set(_standard_data(), path, value))
    assert rules is None
    assert errors == [RuleError(path, message)]


def test_every_documented_key_has_a_bad_value_case() -> None:
    covered = {path for path, _, _ in BAD_VALUES}
    keys = {
        f"{section}.{key}"
        for section, info in RuleSet.model_fields.items()
        for key in info.annotation.model_fields  # type: ignore[union-attr]
    }
    assert keys == covered


def test_every_documented_key_is_in_the_docs() -> None:
    docs = (EXAMPLES.parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    for path, _, _ in BAD_VALUES:
        assert f"`{path.split('.')[1]}`" in docs, path


def test_unknown_keys_and_sections_are_errors() -> None:
    data = _standard_data()
    data["cycle"]["due_dayz"] = 18
    data["extras"] = {"x": 1}
    _, errors = validate_rules(data)
    assert errors == [
        RuleError("cycle.due_dayz", "unknown key"),
        RuleError("extras", "unknown key"),
    ]


def test_missing_section_and_list_item_paths() -> None:
    data = _standard_data()
    del data["cycle"]
    data["allocation"]["order_current"][2] = "fees"
    _, errors = validate_rules(data)
    assert RuleError("cycle", "required key is missing") in errors
    assert (
        RuleError(
            "allocation.order_current[2]",
            "must be one of 'purchase', 'cash', 'interest', 'fee', 'late_fee', 'instalment',"
            " got 'fees'",
        )
        in errors
    )


def test_all_errors_of_a_file_are_reported_together() -> None:
    data = _standard_data()
    data["cycle"]["due_days"] = 0
    data["interest"]["mode"] = "x"
    data["late_fee"]["percent"] = 5.0
    _, errors = validate_rules(data)
    assert [e.path for e in errors] == ["cycle.due_days", "interest.mode", "late_fee.percent"]


def test_toml_syntax_error_is_one_error_with_its_line() -> None:
    rules, errors = check_rules_text("[product]\ncode = \n")
    assert rules is None
    assert len(errors) == 1
    assert errors[0].path == ""
    assert "line 2" in errors[0].message


def test_parse_rules_raises_with_every_error() -> None:
    with pytest.raises(RuleSetInvalid) as caught:
        parse_rules("[product]\ncode = 'x'\n", source="bad.toml")
    assert caught.value.source == "bad.toml"
    assert RuleError("cycle", "required key is missing") in caught.value.errors
    assert "bad.toml" in str(caught.value)


def test_defaults_follow_the_2017_rules() -> None:
    data = _standard_data()
    del data["interest"]["charge_interest_on_fees"]
    del data["delinquency"]
    del data["autopay"]["allow_partial"]
    rules, errors = validate_rules(data)
    assert errors == []
    assert rules is not None
    assert rules.interest.charge_interest_on_fees is False
    assert rules.autopay.allow_partial is False
    assert rules.delinquency.bucket_edges == [1, 31, 61, 91, 121, 151, 181]
