"""Cycle dates: statement dates for a statement day, due date, grace end, day counts.

A statement day is 1..31; in a month shorter than the day the statement falls on
the month's last day (day 31 gives 2024-02-29, 2024-04-30). The due date is the
statement date plus the product's ``due_days``; payments up to the due date
plus ``grace_days`` (the grace end) count as on time. Day counts in interest
include both ends of a period (DOMAIN.md).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from cardbatch.domain.product import ProductTerms

STATEMENT_DAY_MAX = 31


def check_statement_day(statement_day: int) -> int:
    """Return ``statement_day`` if it is 1..31, else raise ValueError naming it."""
    if not 1 <= statement_day <= STATEMENT_DAY_MAX:
        raise ValueError(f"statement day must be 1..{STATEMENT_DAY_MAX}, got {statement_day}")
    return statement_day


def statement_date_in(year: int, month: int, statement_day: int) -> date:
    """The statement date of ``year``-``month`` for ``statement_day`` (clamped to month end)."""
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(check_statement_day(statement_day), last_day))


def next_statement_date(after: date, statement_day: int) -> date:
    """The first statement date strictly after ``after``."""
    candidate = statement_date_in(after.year, after.month, statement_day)
    if candidate > after:
        return candidate
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return statement_date_in(year, month, statement_day)


def previous_statement_date(before: date, statement_day: int) -> date:
    """The last statement date strictly before ``before``."""
    candidate = statement_date_in(before.year, before.month, statement_day)
    if candidate < before:
        return candidate
    year, month = (before.year - 1, 12) if before.month == 1 else (before.year, before.month - 1)
    return statement_date_in(year, month, statement_day)


def is_statement_date(day: date, statement_day: int) -> bool:
    """Whether ``day`` is a statement date for ``statement_day``."""
    return statement_date_in(day.year, day.month, statement_day) == day


def due_date(statement_date: date, terms: ProductTerms) -> date:
    """Due date (到期还款日) = statement date + ``due_days``."""
    return statement_date + timedelta(days=terms.due_days)


def grace_end(statement_date: date, terms: ProductTerms) -> date:
    """Last day on which a payment still counts as on time: due date + ``grace_days``."""
    return due_date(statement_date, terms) + timedelta(days=terms.grace_days)


def late_fee_date(statement_date: date, terms: ProductTerms) -> date:
    """The day a late fee is charged: the day after the grace end."""
    return grace_end(statement_date, terms) + timedelta(days=1)


def days_inclusive(first: date, last: date) -> int:
    """Number of days from ``first`` to ``last``, both included (0 if ``last`` < ``first``)."""
    return max(0, (last - first).days + 1)


def days_past_due(business_date: date, due: date) -> int:
    """Days past due: business date - due date; the due date itself and earlier are 0."""
    return max(0, (business_date - due).days)
