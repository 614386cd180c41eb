"""Exact interest for a statement period (批量计息).

Interest of the period that ends on statement date T_n is the sum, over the
balance items that bear interest, of base x daily rate x days, with both ends
of a day range counted (DOMAIN.md). It is carried exactly and rounded once,
half-up, with :func:`cardbatch.money.round_half_up_fen`.

Which items bear interest in the period (previous statement S, its due date +
grace = E, ``applies`` = the unpaid part of S after E is above the waiver
threshold; paid in full gives unpaid 0, so no interest):

- items billed on S or earlier (principal: cash advances, purchases, instalments;
  fees too when ``charge_interest_on_fees``), only if ``applies``: purchases
  posted in S's own period (and cash when ``cash_from_transaction_date`` is
  false) from their posting date, the rest from the day after S;
- cash advances posted in this period, when ``cash_from_transaction_date``,
  from their transaction date, whatever happens to S;
- interest never bears interest; this period's purchases wait for the next one.

The base on a day: ``full_balance`` (mode A) the item's balance at the end of
that day, so a repayment lowers the base from its date on; ``unpaid_only``
(mode B) the balance at the end of E for days up to E (what stays unpaid after
the due date + grace, from the posting date) and the day's balance after E.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from cardbatch.domain.cycle.dates import days_inclusive
from cardbatch.domain.product import CASH, FEE, INSTALMENT, LATE_FEE, PURCHASE, ProductTerms
from cardbatch.money import accrue

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """A statement period: ``start`` (day after the previous statement) .. ``end`` (T_n).

    ``previous_start`` is the first day of the previous statement's own period
    (``None`` for an account's first statement); ``grace_end`` is the previous
    statement's due date + grace (``None`` if there was none).
    """

    start: date
    end: date
    previous_start: date | None
    grace_end: date | None


@dataclass(frozen=True, slots=True)
class Segment:
    """``base_fen`` bears interest on each day from ``first`` to ``last`` (both included)."""

    first: date
    last: date
    base_fen: int

    @property
    def days(self) -> int:
        return days_inclusive(self.first, self.last)

    def exact_fen(self, rate: Decimal) -> Decimal:
        return accrue(self.base_fen, rate, self.days)


def interest_applies(
    statement_balance_fen: int, paid_by_grace_end_fen: int, terms: ProductTerms
) -> bool:
    """Whether the previous statement's balance bears interest: unpaid after grace > waiver."""
    return statement_balance_fen - paid_by_grace_end_fen > terms.waiver_threshold_fen


def interest_free_kind(component: str, terms: ProductTerms) -> bool:
    """Whether new items of ``component`` wait for the interest-free period."""
    return component == PURCHASE or (component == CASH and not terms.cash_from_transaction_date)


def bearing_components(terms: ProductTerms) -> frozenset[str]:
    """Components whose billed balance bears interest when the statement is not paid."""
    base = {CASH, PURCHASE, INSTALMENT}
    return frozenset(base | {FEE, LATE_FEE}) if terms.charge_interest_on_fees else frozenset(base)


def bearing_from(
    component: str, post_date: date, period: Period, applies: bool, terms: ProductTerms
) -> date | None:
    """First day an item bears interest in ``period``, or ``None`` if it bears none."""
    if post_date >= period.start:
        if component == CASH and terms.cash_from_transaction_date:
            return post_date
        return None
    if not applies or component not in bearing_components(terms):
        return None
    billed_last = period.previous_start is not None and post_date >= period.previous_start
    if billed_last and interest_free_kind(component, terms):
        return post_date
    return period.start


def base_segments(
    history: Sequence[tuple[date, int]], first: date, last: date, hold_until: date | None
) -> list[Segment]:
    """Segments of an item's base from ``first`` to ``last``.

    ``history`` lists (date, balance at the end of that date) at each change,
    in date order. With ``hold_until`` (mode B), days before it take the balance
    at the end of ``hold_until``.
    """
    dates = [when for when, _ in history]

    def balance_on(day: date) -> int:
        position = bisect_right(dates, day)
        return history[position - 1][1] if position else 0

    changes = {when for when in dates if first < when <= last}
    if hold_until is not None:
        changes = {when for when in changes if when > hold_until}
        if first < hold_until <= last:
            changes.add(hold_until)
    cuts = sorted({first, *changes})
    segments: list[Segment] = []
    for position, start in enumerate(cuts):
        end = cuts[position + 1] - ONE_DAY if position + 1 < len(cuts) else last
        look = max(start, hold_until) if hold_until is not None else start
        base_fen = balance_on(look)
        if base_fen:
            segments.append(Segment(start, end, base_fen))
    return segments


def exact_interest(segments: Sequence[Segment], rate: Decimal) -> Decimal:
    """Exact interest in fen over ``segments`` (not rounded)."""
    return sum((segment.exact_fen(rate) for segment in segments), Decimal(0))


@dataclass(frozen=True, slots=True)
class ItemHistory:
    """A balance item with its balance at the end of each day it changed, in date order."""

    component: str
    post_date: date
    seq: int
    history: tuple[tuple[date, int], ...]


@dataclass(frozen=True, slots=True)
class InterestLine:
    """The interest-bearing segments of one item in a period (``post_date`` None: the
    balance carried from before the last statement)."""

    component: str
    post_date: date | None
    segments: tuple[Segment, ...]

    def exact_fen(self, rate: Decimal) -> Decimal:
        return exact_interest(self.segments, rate)


def period_interest_lines(
    items: Sequence[ItemHistory], period: Period, applies: bool, terms: ProductTerms
) -> list[InterestLine]:
    """The bearing segments of every item that bears interest in ``period``."""
    hold = period.grace_end if terms.interest_mode == "unpaid_only" else None
    lines: list[InterestLine] = []
    for item in items:
        first = bearing_from(item.component, item.post_date, period, applies, terms)
        if first is None:
            continue
        carried = item.post_date < period.start
        segments = base_segments(item.history, first, period.end, hold if carried else None)
        if segments:
            lines.append(InterestLine(item.component, item.post_date, tuple(segments)))
    return lines


def period_interest_exact(lines: Sequence[InterestLine], rate: Decimal) -> Decimal:
    """Exact interest of a period, in fen, before the one rounding."""
    return sum((line.exact_fen(rate) for line in lines), Decimal(0))
