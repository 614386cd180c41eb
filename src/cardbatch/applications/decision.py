"""The decision for one application: hard rules, then the scorecard, then the limit.

Pure: everything the store knows about the applicant arrives in a
:class:`Facts` record, so the decision of a row can be tested without a database.
Hard-rule failures decline with every failing reason code, in rule order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from cardbatch.applications.intake import Application
from cardbatch.applications.policy import Policy
from cardbatch.domain.identity import IdentityError, normalize_mobile, normalize_ric, ric_birth_date
from cardbatch.money import round_half_up_fen


class Outcome(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REFER = "refer"


class Reason(StrEnum):
    """Decision reason codes (docs/applications.md)."""

    PRODUCT_UNKNOWN = "product_unknown"
    ID_INVALID = "id_invalid"
    AGE_BELOW_MIN = "age_below_min"
    AGE_ABOVE_MAX = "age_above_max"
    PHONE_INVALID = "phone_invalid"
    BLOCKED = "blocked"
    NAME_MISMATCH = "name_mismatch"
    OPEN_APPLICATION = "open_application"
    EXISTING_CARD = "existing_card"
    SCORE_REFER = "score_refer"
    SCORE_LOW = "score_low"


@dataclass(frozen=True)
class Facts:
    """What the bank already knows about the applicant, looked up before deciding."""

    blocked: bool = False
    customer_name: str | None = None  # the name on file for this resident ID, if a customer
    has_deposit_account: bool = False
    open_application: bool = False  # an earlier open application for the same product
    existing_card: bool = False  # a card of the same product that is not closed
    payroll_employer: bool = False  # the employer is a payroll client of the bank


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[str, ...]
    score: int | None
    credit_limit_fen: int | None
    points: tuple[tuple[str, int], ...] = ()


def anniversary(birth: date, years: int) -> date:
    """The date of the ``years``-th birthday; 29 February falls on 1 March in other years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def age_years(birth: date, on: date) -> int:
    """Completed years of age on a date."""
    years = on.year - birth.year
    return years if on >= anniversary(birth, years) else years - 1


def decide(app: Application, facts: Facts, policy: Policy, business_date: date) -> Decision:
    """The outcome, reasons, score and limit for one application on a business date."""
    reasons = hard_rule_failures(app, facts, policy, business_date)
    if reasons:
        return Decision(Outcome.DECLINE, tuple(r.value for r in reasons), None, None)
    points = score_points(app, facts, policy, business_date)
    score = sum(p for _, p in points)
    band = policy.band_for(score)
    if band is None or band.outcome == "decline":
        return Decision(Outcome.DECLINE, (Reason.SCORE_LOW.value,), score, None, points)
    if band.outcome == "refer":
        return Decision(Outcome.REFER, (Reason.SCORE_REFER.value,), score, None, points)
    limit_fen = assign_limit(
        app.monthly_income_fen,
        band.multiple,
        policy.limits.step_fen,
        band.limit_min_fen or 0,
        band.limit_max_fen or 0,
    )
    return Decision(Outcome.APPROVE, (), score, limit_fen, points)


def hard_rule_failures(
    app: Application, facts: Facts, policy: Policy, business_date: date
) -> list[Reason]:
    rules = policy.hard_rules
    failed: list[Reason] = []
    if policy.product(app.product_code) is None:
        failed.append(Reason.PRODUCT_UNKNOWN)
    try:
        birth = ric_birth_date(normalize_ric(app.id_number))
    except IdentityError:
        failed.append(Reason.ID_INVALID)
    else:
        if business_date < anniversary(birth, rules.age_min_years):
            failed.append(Reason.AGE_BELOW_MIN)
        if business_date > anniversary(birth, rules.age_max_years):
            failed.append(Reason.AGE_ABOVE_MAX)
    try:
        normalize_mobile(app.phone)
    except IdentityError:
        failed.append(Reason.PHONE_INVALID)
    if rules.check_block_list and facts.blocked:
        failed.append(Reason.BLOCKED)
    if facts.customer_name is not None and facts.customer_name != app.name:
        failed.append(Reason.NAME_MISMATCH)
    if rules.one_open_per_product and facts.open_application:
        failed.append(Reason.OPEN_APPLICATION)
    if rules.one_open_per_product and facts.existing_card:
        failed.append(Reason.EXISTING_CARD)
    return failed


def score_points(
    app: Application, facts: Facts, policy: Policy, business_date: date
) -> tuple[tuple[str, int], ...]:
    """Points per scorecard characteristic, in a fixed order."""
    card = policy.scorecard
    income_yuan = app.monthly_income_fen // 100
    income = [b.points for b in card.income if b.from_yuan <= income_yuan][-1]
    age = age_years(ric_birth_date(app.id_number), business_date)
    age_points = [b.points for b in card.age_band if b.from_years <= age][-1]
    employer = card.employer
    if facts.payroll_employer:
        employer_points = employer.payroll_employer
    elif app.employer and app.employer in employer.preferred_employers:
        employer_points = employer.listed
    elif app.employer:
        employer_points = employer.other
    else:
        employer_points = employer.none
    relation = card.relationship
    relationship = (relation.existing_customer if facts.customer_name is not None else 0) + (
        relation.deposit_account if facts.has_deposit_account else 0
    )
    return (
        ("income", income),
        ("employer", employer_points),
        ("age_band", age_points),
        ("relationship", relationship),
    )


def assign_limit(
    income_fen: int, multiple: Decimal, step_fen: int, limit_min_fen: int, limit_max_fen: int
) -> int:
    """Income times the band's multiple, rounded down to the step, kept inside the band."""
    raw_fen = round_half_up_fen(Decimal(income_fen) * multiple)
    stepped_fen = raw_fen - raw_fen % step_fen
    return max(limit_min_fen, min(limit_max_fen, stepped_fen))
