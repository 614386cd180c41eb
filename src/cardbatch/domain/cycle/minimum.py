"""Minimum payment (最低还款额), CMB formula with the product's settings.

minimum = percent x (general balance, less what is over the limit when
``over_limit`` counts in full) + 100 % of each component listed in
``min_payment_full_components`` (instalments, previous unpaid minimum,
over-limit amount, fees, interest at CMB). General balance = the components not
listed in full. The exact result is rounded once, half-up; then the floor
applies, and the minimum never exceeds the statement balance (nor goes below 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cardbatch.domain.product import (
    COMPONENTS,
    OVER_LIMIT,
    PREVIOUS_UNPAID_MINIMUM,
    ProductTerms,
)
from cardbatch.money import percent_of, round_half_up_fen


@dataclass(frozen=True, slots=True)
class MinimumInputs:
    """What the minimum is computed from, at the statement date."""

    balances_fen: dict[str, int]  # component -> closing balance of that component
    closing_balance_fen: int
    previous_unpaid_minimum_fen: int = 0
    credit_limit_fen: int | None = None

    @property
    def over_limit_fen(self) -> int:
        if self.credit_limit_fen is None:
            return 0
        return max(0, self.closing_balance_fen - self.credit_limit_fen)


@dataclass(frozen=True, slots=True)
class MinimumBreakdown:
    """The minimum payment and how it came about (for explanations)."""

    general_fen: int  # balance counted at the percentage
    percent: Decimal
    percent_part_exact_fen: Decimal
    full_parts_fen: dict[str, int]  # what counted in full, by name
    floor_fen: int
    minimum_fen: int


def minimum_payment(inputs: MinimumInputs, terms: ProductTerms) -> MinimumBreakdown:
    """Minimum payment of a statement, with its breakdown."""
    full = set(terms.min_payment_full_components)
    general_fen = sum(inputs.balances_fen.get(c, 0) for c in COMPONENTS if c not in full)
    full_parts = {c: inputs.balances_fen.get(c, 0) for c in COMPONENTS if c in full}
    if PREVIOUS_UNPAID_MINIMUM in full:
        full_parts[PREVIOUS_UNPAID_MINIMUM] = inputs.previous_unpaid_minimum_fen
    if OVER_LIMIT in full:
        over_fen = min(inputs.over_limit_fen, general_fen)
        full_parts[OVER_LIMIT] = over_fen
        general_fen -= over_fen
    percent_exact = percent_of(general_fen, terms.min_payment_percent)
    computed_fen = round_half_up_fen(percent_exact + sum(full_parts.values()))
    minimum_fen = min(max(computed_fen, terms.min_payment_floor_fen), inputs.closing_balance_fen)
    return MinimumBreakdown(
        general_fen=general_fen,
        percent=terms.min_payment_percent,
        percent_part_exact_fen=percent_exact,
        full_parts_fen=full_parts,
        floor_fen=terms.min_payment_floor_fen,
        minimum_fen=max(0, minimum_fen),
    )
