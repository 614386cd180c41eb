"""Instalments (账单分期 / 消费分期): an amount turned into N monthly instalments with a fee.

The principal is split into N equal parts of whole fen; the fen left over go to
the first instalment. The fee is ``monthly_fee_percent`` of the converted
principal per month, computed exactly over the whole plan, rounded once
half-up, and split like the principal. Instalment k is billed on the k-th
statement date of the schedule. Early payoff bills every unbilled principal at
once, with the unbilled fees charged or waived as the product says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from cardbatch.domain.cycle.dates import next_statement_date
from cardbatch.money import percent_of, round_half_up_fen

INSTALMENT_COUNTS: tuple[int, ...] = (3, 6, 9, 12, 18, 24, 36)
PayoffFeePolicy = Literal["charge_remaining_fees", "waive_remaining_fees"]


class InstalmentError(ValueError):
    """A conversion the product does not allow; the message says which value."""


@dataclass(frozen=True, slots=True)
class InstalmentLine:
    """Instalment ``number`` (1-based): billed on ``bill_date``."""

    number: int
    bill_date: date
    principal_fen: int
    fee_fen: int


@dataclass(frozen=True, slots=True)
class InstalmentPlan:
    """A converted amount and its schedule."""

    principal_fen: int
    count: int
    monthly_fee_percent: Decimal
    lines: tuple[InstalmentLine, ...]

    @property
    def fee_fen(self) -> int:
        return sum(line.fee_fen for line in self.lines)

    def billed_on(self, statement_date: date) -> InstalmentLine | None:
        """The line billed on ``statement_date``, if any."""
        return next((line for line in self.lines if line.bill_date == statement_date), None)

    def unbilled_principal_fen(self, after: date) -> int:
        """Principal of the lines billed after ``after`` (the unbilled instalment balance)."""
        return sum(line.principal_fen for line in self.lines if line.bill_date > after)


def split_evenly(amount_fen: int, count: int) -> list[int]:
    """``amount_fen`` in ``count`` whole-fen parts; the remainder goes to the first part."""
    part_fen, left_fen = divmod(amount_fen, count)
    return [part_fen + left_fen, *([part_fen] * (count - 1))]


def convert(
    principal_fen: int,
    count: int,
    monthly_fee_percent: Decimal,
    *,
    first_bill_date: date,
    statement_day: int,
) -> InstalmentPlan:
    """Plan for converting ``principal_fen`` into ``count`` monthly instalments."""
    if principal_fen <= 0:
        raise InstalmentError(f"amount to convert must be positive, got {principal_fen} fen")
    if count not in INSTALMENT_COUNTS:
        raise InstalmentError(f"instalment count must be one of {INSTALMENT_COUNTS}, got {count}")
    fee_total_fen = round_half_up_fen(percent_of(principal_fen, monthly_fee_percent) * count)
    bill_dates = [first_bill_date]
    while len(bill_dates) < count:
        bill_dates.append(next_statement_date(bill_dates[-1], statement_day))
    lines = tuple(
        InstalmentLine(number, when, principal, fee)
        for number, (when, principal, fee) in enumerate(
            zip(
                bill_dates,
                split_evenly(principal_fen, count),
                split_evenly(fee_total_fen, count),
                strict=True,
            ),
            start=1,
        )
    )
    return InstalmentPlan(principal_fen, count, monthly_fee_percent, lines)


@dataclass(frozen=True, slots=True)
class Payoff:
    """What an early payoff bills now."""

    principal_fen: int
    fee_fen: int
    waived_fee_fen: int


def early_payoff(plan: InstalmentPlan, on: date, policy: PayoffFeePolicy) -> Payoff:
    """Bill every line not yet billed on ``on`` (lines dated ``on`` or earlier are billed)."""
    open_lines = [line for line in plan.lines if line.bill_date > on]
    principal_fen = sum(line.principal_fen for line in open_lines)
    fee_fen = sum(line.fee_fen for line in open_lines)
    if policy == "waive_remaining_fees":
        return Payoff(principal_fen, 0, fee_fen)
    return Payoff(principal_fen, fee_fen, 0)
