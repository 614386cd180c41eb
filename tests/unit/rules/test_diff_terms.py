"""Diff of two rule sets, and the flat product terms handed to the cycle."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cardbatch.rules.diff import ABSENT, KeyChange, diff_rules, flatten_rules
from cardbatch.rules.load import parse_rules
from cardbatch.rules.model import RuleSet

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rules"


def _load(name: str) -> RuleSet:
    return parse_rules((EXAMPLES / name).read_text(encoding="utf-8"))


def test_diff_lists_changed_keys_side_by_side_in_document_order() -> None:
    changes = diff_rules(_load("standard.toml"), _load("ccb_like.toml"))
    assert changes == [
        KeyChange("product.code", '"STD"', '"CCB_LIKE"'),
        KeyChange("product.name", '"Standard card (CMB-like)"', '"Dragon card (CCB-like)"'),
        KeyChange("cycle.due_days", "18", "20"),
        KeyChange("interest.mode", '"full_balance"', '"unpaid_only"'),
        KeyChange("late_fee.cap_fen", ABSENT, "100000"),
        KeyChange("autopay.retry_days", "3", "5"),
        KeyChange("autopay.allow_partial", "false", "true"),
    ]


def test_diff_of_identical_rules_is_empty_and_defaults_count() -> None:
    text = (EXAMPLES / "standard.toml").read_text(encoding="utf-8")
    without_default = text.replace("charge_interest_on_fees = false", "")
    assert diff_rules(parse_rules(text), parse_rules(without_default)) == []


def test_decimal_rendering_keeps_the_exact_text() -> None:
    flat = flatten_rules(_load("standard.toml"))
    assert flat["interest.daily_rate"] == '"0.0005"'
    assert flat["allocation.order_current"].startswith('["interest", "fee", "late_fee"')


def test_terms_fields_map_every_cycle_parameter() -> None:
    fields = _load("standard.toml").terms_fields()
    assert fields["due_days"] == 18
    assert fields["grace_days"] == 3
    assert fields["daily_rate"] == Decimal("0.0005")
    assert fields["interest_mode"] == "full_balance"
    assert fields["waiver_threshold_fen"] == 1000
    assert fields["min_payment_percent"] == Decimal(10)
    assert fields["late_fee_floor_fen"] == 1000
    assert fields["late_fee_cap_fen"] is None
    assert fields["allocation_order_delinquent"][0] == "cash"
    assert fields["delinquent_from_dpd"] == 91
    assert fields["autopay_attempt_offset_days"] == 0
    assert fields["bucket_edges"] == (1, 31, 61, 91, 121, 151, 181)
    assert fields["five_category_edges"] == (1, 91, 121, 181)
    assert all(not isinstance(value, list) for value in fields.values())
