"""One auto-repayment attempt (自动还款): what to debit from the linked deposit account.

The holder chooses ``full`` (the statement balance) or ``minimum``; the amount
is what is still unpaid of it when the attempt runs. A closed deposit account
is declined AC04, a frozen one AC06, short funds AM04 (the only retryable
reason). When funds are short, a full payment falls back to the still-unpaid
minimum (``autopay_fallback_to_minimum``), and otherwise a partial debit of the
available funds is made only with ``autopay_allow_partial``. Attempts run on
due date + ``autopay_attempt_offset_days`` and, after a decline, on each of the
next ``autopay_retry_days`` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from cardbatch.domain.product import ProductTerms

AutopayChoice = Literal["full", "minimum"]
DepositStatus = Literal["active", "closed", "frozen"]
REASON_INSUFFICIENT_FUNDS = "AM04"
REASON_CLOSED = "AC04"
REASON_BLOCKED = "AC06"


@dataclass(frozen=True, slots=True)
class AutopayDecision:
    """The result of one attempt: ``debited``, ``declined`` (with reason) or ``nothing_due``."""

    outcome: Literal["debited", "declined", "nothing_due"]
    amount_fen: int
    basis: Literal["full", "minimum", "partial", "none"]
    reason_code: str | None = None


def attempt_dates(due: date, terms: ProductTerms) -> list[date]:
    """The first attempt date and the retry dates after it."""
    first = due + timedelta(days=terms.autopay_attempt_offset_days)
    return [first + timedelta(days=k) for k in range(terms.autopay_retry_days + 1)]


def decide(
    choice: AutopayChoice,
    *,
    statement_balance_fen: int,
    minimum_fen: int,
    paid_fen: int,
    available_fen: int,
    deposit_status: DepositStatus,
    terms: ProductTerms,
) -> AutopayDecision:
    """Decide one attempt, as of ``paid_fen`` already received since the statement."""
    full_due_fen = max(0, statement_balance_fen - paid_fen)
    minimum_due_fen = min(max(0, minimum_fen - paid_fen), full_due_fen)
    target_fen = full_due_fen if choice == "full" else minimum_due_fen
    if target_fen == 0:
        return AutopayDecision("nothing_due", 0, "none")
    if deposit_status == "closed":
        return AutopayDecision("declined", 0, "none", REASON_CLOSED)
    if deposit_status == "frozen":
        return AutopayDecision("declined", 0, "none", REASON_BLOCKED)
    funds_fen = max(0, available_fen)
    if funds_fen >= target_fen:
        return AutopayDecision("debited", target_fen, choice)
    if choice == "full" and terms.autopay_fallback_to_minimum:
        if minimum_due_fen == 0:
            return AutopayDecision("nothing_due", 0, "none")
        if funds_fen >= minimum_due_fen:
            return AutopayDecision("debited", minimum_due_fen, "minimum")
    if terms.autopay_allow_partial and funds_fen > 0:
        return AutopayDecision("debited", funds_fen, "partial")
    return AutopayDecision("declined", 0, "none", REASON_INSUFFICIENT_FUNDS)
