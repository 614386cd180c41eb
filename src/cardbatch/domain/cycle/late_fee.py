"""Late fee (违约金): charged the day after due date + grace.

When the payments and credits received from the statement up to and including
due date + grace do not cover the minimum payment, and the unpaid statement
balance is above the waiver threshold, the fee is ``late_fee_percent`` of the
unpaid part of the minimum, rounded once half-up, at least ``late_fee_floor_fen``
and at most ``late_fee_cap_fen`` when set. A later payment does not undo it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cardbatch.domain.product import ProductTerms
from cardbatch.money import percent_of, round_half_up_fen


@dataclass(frozen=True, slots=True)
class LateFee:
    """A late-fee decision: the fee (0 if none) and why."""

    fee_fen: int
    unpaid_minimum_fen: int
    percent_part_exact_fen: Decimal
    reason: str  # "charged", "minimum_covered", "waived_under_threshold"


def late_fee(
    minimum_fen: int, statement_balance_fen: int, paid_by_grace_end_fen: int, terms: ProductTerms
) -> LateFee:
    """Late fee for a statement given what was paid up to its due date + grace."""
    unpaid_minimum_fen = max(0, minimum_fen - paid_by_grace_end_fen)
    if unpaid_minimum_fen == 0:
        return LateFee(0, 0, Decimal(0), "minimum_covered")
    if statement_balance_fen - paid_by_grace_end_fen <= terms.waiver_threshold_fen:
        return LateFee(0, unpaid_minimum_fen, Decimal(0), "waived_under_threshold")
    exact = percent_of(unpaid_minimum_fen, terms.late_fee_percent)
    fee_fen = max(round_half_up_fen(exact), terms.late_fee_floor_fen)
    if terms.late_fee_cap_fen is not None:
        fee_fen = min(fee_fen, terms.late_fee_cap_fen)
    return LateFee(fee_fen, unpaid_minimum_fen, exact, "charged")
