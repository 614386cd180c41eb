"""The decision table and the pure decision: edge ages, scorecard, limits, bad policies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardbatch.applications.decision import Facts, age_years, anniversary, decide
from cardbatch.applications.intake import Application
from cardbatch.applications.policy import PolicyError, parse_policy
from cardbatch.domain.identity import ric_check_char

POLICY_TEXT = (
    Path(__file__).resolve().parents[3] / "examples" / "decision" / "standard_policy.toml"
).read_text(encoding="utf-8")
POLICY = parse_policy(POLICY_TEXT)
DAY = date(2026, 3, 15)


def _app(
    birth: str,
    income_fen: int = 2_000_000,
    employer: str = "某公司",
    product: str = "standard",
    name: str = "张三",
) -> Application:
    body = f"110105{birth}001"
    return Application(
        2, name, body + ric_check_char(body), "13812345678", employer, income_fen, product, "北京"
    )


@pytest.mark.parametrize(
    ("birth", "outcome", "reasons"),
    [
        ("20080316", "decline", ("age_below_min",)),  # 17 years 364 days
        ("20080315", "approve", ()),  # 18 today
        ("19610315", "approve", ()),  # 65 today
        ("19610314", "decline", ("age_above_max",)),  # 65 years and 1 day
        ("20080229", "approve", ()),  # 29 Feb: 18 on 1 March 2026
    ],
)
def test_edge_ages(birth: str, outcome: str, reasons: tuple[str, ...]) -> None:
    decision = decide(
        _app(birth, employer="星河", income_fen=4_000_000),
        Facts(payroll_employer=True),
        POLICY,
        DAY,
    )
    assert (decision.outcome.value, decision.reasons) == (outcome, reasons)


def test_age_helpers() -> None:
    assert anniversary(date(2008, 2, 29), 18) == date(2026, 3, 1)
    assert age_years(date(2008, 3, 16), DAY) == 17
    assert age_years(date(1961, 3, 14), DAY) == 65


def test_every_failing_hard_rule_is_listed_in_order() -> None:
    facts = Facts(blocked=True, customer_name="李四", open_application=True, existing_card=True)
    decision = decide(_app("20100101", product="nope"), facts, POLICY, DAY)
    assert decision.reasons == (
        "product_unknown",
        "age_below_min",
        "blocked",
        "name_mismatch",
        "open_application",
        "existing_card",
    )
    assert decision.score is None and decision.credit_limit_fen is None


def test_scorecard_points_and_limit_band() -> None:
    facts = Facts(customer_name="张三", has_deposit_account=True)
    decision = decide(
        _app("19900101", income_fen=1_000_000, employer="国家电网有限公司"), facts, POLICY, DAY
    )
    assert dict(decision.points) == {
        "income": 30,
        "employer": 15,
        "age_band": 20,
        "relationship": 20,
    }
    assert (decision.outcome.value, decision.score, decision.credit_limit_fen) == (
        "approve",
        85,
        3_000_000,
    )


def test_limit_is_rounded_down_to_the_step() -> None:
    decision = decide(
        _app("19900101", income_fen=1_234_567), Facts(payroll_employer=True), POLICY, DAY
    )
    assert decision.credit_limit_fen == 3_700_000  # 12,345.67 x 3 = 37,037.01 -> 37,000


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("age_max_years = 65", "age_max_years = 10", "age_min_years is above age_max_years"),
        ('bin = "622588"', 'bin = "62x588"', "products.0.bin"),
        (
            "card_length = 16\nvalidity_years = 5\nstatement_days = [5, 10, 15, 20, 25]",
            "card_length = 16\nvalidity_years = 5\nstatement_days = [5, 29]",
            "statement days",
        ),
        ('income_multiple = "3"', "income_multiple = 3.5", "bands.0.income_multiple"),
        ('income_multiple = "3"', 'income_multiple = "x"', "rate"),
        ("limit_min_fen = 500000", "limit_min_fen = 50000000", "limit_min_fen is above"),
        ("step_fen = 10000", "step_fen = 0", "limits.step_fen"),
        ('outcome = "refer"', 'outcome = "maybe"', "bands.2.outcome"),
        ("[hard_rules]", "[hard_rule]", "hard_rule"),
    ],
)
def test_bad_policies_name_the_key(old: str, new: str, message: str) -> None:
    assert old in POLICY_TEXT
    with pytest.raises(PolicyError, match=message):
        parse_policy(POLICY_TEXT.replace(old, new, 1), "p.toml")


def test_not_toml_is_refused() -> None:
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("[policy\n", "p.toml")
