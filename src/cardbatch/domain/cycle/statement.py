"""The statement record (账单) and its balance identity.

Every statement satisfies::

    closing = opening + purchases + cash + instalment + interest + fees + late_fee
              - payments - credits

where ``instalment`` is the instalment principal billed this period, ``fees``
every fee of the period except the late fee (instalment fees included), and
``credits`` refunds and other credits. :meth:`Statement.check_identity` asserts
it; a statement that breaks it is a programmer error, never stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

STATEMENT_FIELDS: tuple[str, ...] = (
    "account_id",
    "statement_date",
    "due_date",
    "opening_balance_fen",
    "purchases_fen",
    "cash_fen",
    "instalment_fen",
    "payments_fen",
    "credits_fen",
    "interest_fen",
    "fees_fen",
    "late_fee_fen",
    "closing_balance_fen",
    "minimum_payment_fen",
    "unbilled_instalment_fen",
)


class StatementIdentityError(AssertionError):
    """A statement whose closing balance does not follow from its lines."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's statement for one statement date."""

    account_id: int
    statement_date: date
    due_date: date
    opening_balance_fen: int
    purchases_fen: int
    cash_fen: int
    instalment_fen: int
    payments_fen: int
    credits_fen: int
    interest_fen: int
    fees_fen: int
    late_fee_fen: int
    closing_balance_fen: int
    minimum_payment_fen: int
    unbilled_instalment_fen: int

    def expected_closing_fen(self) -> int:
        """Closing balance as the identity computes it from the statement's lines."""
        return closing_from_lines(
            self.opening_balance_fen,
            debits_fen=(
                self.purchases_fen,
                self.cash_fen,
                self.instalment_fen,
                self.interest_fen,
                self.fees_fen,
                self.late_fee_fen,
            ),
            credits_fen=(self.payments_fen, self.credits_fen),
        )

    def check_identity(self) -> Statement:
        """Return self if the identity holds, else raise :class:`StatementIdentityError`."""
        expected_fen = self.expected_closing_fen()
        if expected_fen != self.closing_balance_fen:
            raise StatementIdentityError(
                f"statement of account {self.account_id} on {self.statement_date}: closing "
                f"{self.closing_balance_fen} fen != lines {expected_fen} fen"
            )
        if not 0 <= self.minimum_payment_fen <= max(0, self.closing_balance_fen):
            raise StatementIdentityError(
                f"statement of account {self.account_id} on {self.statement_date}: minimum "
                f"{self.minimum_payment_fen} fen outside 0..closing balance"
            )
        return self

    def as_dict(self) -> dict[str, object]:
        """The record as a JSON-ready dict (dates as ISO text), fields in documented order."""
        raw = asdict(self)
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in raw.items()}


def closing_from_lines(
    opening_fen: int, *, debits_fen: tuple[int, ...], credits_fen: tuple[int, ...]
) -> int:
    """Opening balance plus the period's debits minus its credits."""
    return opening_fen + sum(debits_fen) - sum(credits_fen)
