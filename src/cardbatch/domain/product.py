"""Product terms: the frozen set of settings the nightly card cycle applies.

One :class:`ProductTerms` record carries every cycle parameter of a product
(due date, grace, interest, minimum payment, late fee, payment allocation,
auto-repayment and delinquency edges). The rules package maps a validated TOML
rule set onto this record field by field (``ProductTerms(**fields)``), so the
field names are the ones of that mapping. :func:`cmb_like` gives the terms of
a CMB-like product, the defaults of ``DOMAIN.md``.

Amounts are ``int`` fen; rates and percentages are exact ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Literal

from cardbatch.domain.ledger import CARD_COMPONENTS, Component

InterestMode = Literal["full_balance", "unpaid_only"]

# Balance components a payment is allocated to: the ledger's card components.
PURCHASE = str(Component.PURCHASE)
CASH = str(Component.CASH)
INTEREST = str(Component.INTEREST)
FEE = str(Component.FEE)
LATE_FEE = str(Component.LATE_FEE)
INSTALMENT = str(Component.INSTALMENT)
COMPONENTS: tuple[str, ...] = tuple(str(c) for c in CARD_COMPONENTS)
# What the minimum payment may count in full; the rest counts at the percentage.
PREVIOUS_UNPAID_MINIMUM = "previous_unpaid_minimum"
OVER_LIMIT = "over_limit"
MINIMUM_COMPONENTS: tuple[str, ...] = (*COMPONENTS, PREVIOUS_UNPAID_MINIMUM, OVER_LIMIT)

STANDARD_BUCKET_EDGES: tuple[int, ...] = (1, 31, 61, 91, 121, 151, 181)
STANDARD_FIVE_CATEGORY_EDGES: tuple[int, ...] = (1, 91, 121, 181)
# The shortest statement period is 28 days (February). A late fee is charged the
# day after due date + grace, which must fall inside the next statement period.
DUE_PLUS_GRACE_DAYS_MAX = 27


class ProductTermsError(ValueError):
    """Product terms that the cycle cannot apply; the message names the field."""


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """The cycle parameters of one product (one rule-set version)."""

    product_code: str
    due_days: int
    grace_days: int
    daily_rate: Decimal
    interest_mode: InterestMode
    cash_from_transaction_date: bool
    waiver_threshold_fen: int
    min_payment_percent: Decimal
    min_payment_floor_fen: int
    min_payment_full_components: tuple[str, ...]
    late_fee_percent: Decimal
    late_fee_floor_fen: int
    allocation_order_current: tuple[str, ...]
    allocation_order_delinquent: tuple[str, ...]
    delinquent_from_dpd: int
    autopay_attempt_offset_days: int
    autopay_retry_days: int
    autopay_fallback_to_minimum: bool
    autopay_allow_partial: bool = False
    charge_interest_on_fees: bool = False
    late_fee_cap_fen: int | None = None
    bucket_edges: tuple[int, ...] = STANDARD_BUCKET_EDGES
    five_category_edges: tuple[int, ...] = STANDARD_FIVE_CATEGORY_EDGES

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise ProductTermsError(f"product {self.product_code}: {problem}")

    def allocation_order(self, dpd: int) -> tuple[str, ...]:
        """The allocation order that applies to a payment received at ``dpd`` days past due."""
        if dpd >= self.delinquent_from_dpd:
            return self.allocation_order_delinquent
        return self.allocation_order_current


def _problems(terms: ProductTerms) -> list[str]:
    problems: list[str] = []
    if terms.due_days < 1 or terms.grace_days < 0:
        problems.append(f"due_days must be >= 1 and grace_days >= 0, got {terms.due_days}")
    if terms.due_days + terms.grace_days > DUE_PLUS_GRACE_DAYS_MAX:
        problems.append(
            f"due_days + grace_days must be at most {DUE_PLUS_GRACE_DAYS_MAX}, "
            f"got {terms.due_days + terms.grace_days}"
        )
    if terms.interest_mode not in ("full_balance", "unpaid_only"):
        problems.append(f"interest_mode must be full_balance or unpaid_only: {terms.interest_mode}")
    if not isinstance(terms.daily_rate, Decimal) or not Decimal(0) <= terms.daily_rate < 1:
        problems.append(f"daily_rate must be an exact Decimal in [0, 1): {terms.daily_rate!r}")
    for name in ("min_payment_percent", "late_fee_percent"):
        value = getattr(terms, name)
        if not isinstance(value, Decimal) or not Decimal(0) <= value <= 100:
            problems.append(f"{name} must be an exact Decimal in [0, 100]: {value!r}")
    for name in ("waiver_threshold_fen", "min_payment_floor_fen", "late_fee_floor_fen"):
        if getattr(terms, name) < 0:
            problems.append(f"{name} must not be negative")
    if terms.late_fee_cap_fen is not None and terms.late_fee_cap_fen < terms.late_fee_floor_fen:
        problems.append("late_fee_cap_fen must not be below late_fee_floor_fen")
    for name in ("allocation_order_current", "allocation_order_delinquent"):
        if sorted(getattr(terms, name)) != sorted(COMPONENTS):
            problems.append(f"{name} must list each of {', '.join(COMPONENTS)} once")
    unknown = set(terms.min_payment_full_components) - set(MINIMUM_COMPONENTS)
    if unknown:
        problems.append(f"min_payment_full_components: unknown {', '.join(sorted(unknown))}")
    problems.extend(_edge_problems("bucket_edges", terms.bucket_edges, 7))
    problems.extend(_edge_problems("five_category_edges", terms.five_category_edges, 4))
    if terms.delinquent_from_dpd < 1:
        problems.append("delinquent_from_dpd must be at least 1")
    return problems


def _edge_problems(name: str, edges: tuple[int, ...], count: int) -> list[str]:
    if len(edges) != count or edges[0] < 1:
        return [f"{name} must list {count} edges starting at 1 day or later"]
    if any(after <= before for before, after in pairwise(edges)):
        return [f"{name} must increase strictly"]
    return []


def cmb_like(**changes: object) -> ProductTerms:
    """Terms of a CMB-like product (DOMAIN.md), with optional field ``changes``."""
    fields: dict[str, object] = {
        "product_code": "STD",
        "due_days": 18,
        "grace_days": 3,
        "daily_rate": Decimal("0.0005"),
        "interest_mode": "full_balance",
        "cash_from_transaction_date": True,
        "waiver_threshold_fen": 1000,
        "charge_interest_on_fees": False,
        "min_payment_percent": Decimal("10"),
        "min_payment_floor_fen": 1000,
        "min_payment_full_components": (
            INSTALMENT,
            PREVIOUS_UNPAID_MINIMUM,
            OVER_LIMIT,
            FEE,
            LATE_FEE,
            INTEREST,
        ),
        "late_fee_percent": Decimal("5"),
        "late_fee_floor_fen": 1000,
        "late_fee_cap_fen": None,
        "allocation_order_current": (INTEREST, FEE, LATE_FEE, CASH, INSTALMENT, PURCHASE),
        "allocation_order_delinquent": (CASH, INSTALMENT, PURCHASE, INTEREST, FEE, LATE_FEE),
        "delinquent_from_dpd": 91,
        "autopay_attempt_offset_days": 0,
        "autopay_retry_days": 3,
        "autopay_fallback_to_minimum": True,
        "autopay_allow_partial": False,
        "bucket_edges": STANDARD_BUCKET_EDGES,
        "five_category_edges": STANDARD_FIVE_CATEGORY_EDGES,
    }
    unknown = set(changes) - set(fields)
    if unknown:
        raise ProductTermsError(f"unknown product terms field(s): {', '.join(sorted(unknown))}")
    fields.update(changes)
    return ProductTerms(**fields)  # type: ignore[arg-type]
