"""What a feedback record is: its channels, categories and statuses, and the moves between them.

Pure: no I/O. Statuses move ``open -> investigating -> resolved | rejected``
(``open`` may be resolved or rejected directly); ``resolved`` and ``rejected``
are final.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

TEXT_LEN_MAX = 2000
RESOLUTION_LEN_MAX = 2000


class FeedbackError(ValueError):
    """A feedback operation that is not allowed (bad value, wrong status, self-approval...)."""


class Channel(StrEnum):
    CALL_CENTRE = "call_centre"
    ONLINE = "online"
    APP = "app"
    BRANCH = "branch"


class Category(StrEnum):
    WRONG_DEBIT_AMOUNT = "wrong_debit_amount"
    DOUBLE_DEBIT = "double_debit"
    PAYROLL_NOT_RECEIVED = "payroll_not_received"
    FEE_DISPUTE = "fee_dispute"
    INTEREST_DISPUTE = "interest_dispute"
    AUTOPAY_NOT_TAKEN = "autopay_not_taken"
    NOTICE_NOT_WANTED = "notice_not_wanted"
    OTHER = "other"


class Status(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    REJECTED = "rejected"


class CorrectionKind(StrEnum):
    REVERSAL = "reversal"
    WAIVER = "waiver"


class CorrectionStatus(StrEnum):
    PENDING = "pending"  # proposed by the maker, waiting for a checker
    APPROVED = "approved"  # approved by a different user; the corrections job posts it
    POSTED = "posted"  # its journal entry is in the ledger


# The kinds of journal entries each category is usually about: used to find the
# batch items a complaint concerns in the account's transaction details.
CATEGORY_ENTRY_KINDS: dict[Category, frozenset[str]] = {
    Category.WRONG_DEBIT_AMOUNT: frozenset({"autopay", "payment", "loan_deduction", "collection"}),
    Category.DOUBLE_DEBIT: frozenset(
        {"autopay", "payment", "purchase", "cash_advance", "loan_deduction", "collection", "fee"}
    ),
    Category.PAYROLL_NOT_RECEIVED: frozenset({"payroll"}),
    Category.FEE_DISPUTE: frozenset({"fee", "late_fee"}),
    Category.INTEREST_DISPUTE: frozenset({"interest"}),
    Category.AUTOPAY_NOT_TAKEN: frozenset({"autopay", "late_fee"}),
    Category.NOTICE_NOT_WANTED: frozenset(),
    Category.OTHER: frozenset(),
}

_MOVES: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.INVESTIGATING, Status.RESOLVED, Status.REJECTED}),
    Status.INVESTIGATING: frozenset({Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset(),
    Status.REJECTED: frozenset(),
}


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: str, field: str) -> E:
    """``value`` as a member of ``enum``, or a clear error listing the choices."""
    try:
        return enum(value.strip())
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise FeedbackError(f"{field} must be one of {choices}; got {value!r}") from None


def check_move(current: Status, target: Status) -> None:
    if target not in _MOVES[current]:
        raise FeedbackError(f"feedback cannot move from {current} to {target}")


def check_text(text: str, field: str, length_max: int) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise FeedbackError(f"{field} must not be empty")
    if len(cleaned) > length_max:
        raise FeedbackError(f"{field} longer than {length_max} characters ({len(cleaned)})")
    return cleaned
