"""The customer's view of a stored cycle statement (read-only; see docs/statements.md).

The figures are the ``statements`` row the nightly cycle wrote
(:func:`cardbatch.jobs.cycle_service.statement_of`); the card number is masked
(:func:`cardbatch.domain.masking.mask_card`); the lines are the ledger's entries
on the account from the period's first day to the statement date, one line per
entry (a payment spread over several balance components is one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from cardbatch.domain.masking import mask_card
from cardbatch.jobs.cycle_service import CycleError, statement_of
from cardbatch.store.accounts_read import card_with_holder
from cardbatch.store.tables import journal_entries, postings

LINES_MAX = 5000  # one statement period of one card; more means something upstream is wrong


class StatementError(LookupError):
    """No card account, no stored statement for that date, or a period too large to show."""


@dataclass(frozen=True)
class StatementLine:
    """One ledger entry of the period on the card: charges positive, payments and credits
    negative."""

    entry_date: date
    kind: str
    description: str
    amount_fen: int


@dataclass(frozen=True)
class CustomerStatement:
    """What the cardholder's statement shows; ``amounts`` holds every ``*_fen`` field of the
    stored statement (issue 6's list)."""

    account_id: str
    card_number_masked: str
    holder_name: str
    product_code: str
    statement_date: date
    period_start: date
    due_date: date
    amounts: dict[str, int]
    lines: tuple[StatementLine, ...]


def customer_statement(conn: Connection, account_id: str, on: date) -> CustomerStatement:
    """The statement of ``account_id`` on ``on``, or :class:`StatementError`."""
    card = card_with_holder(conn, account_id)
    if card is None:
        raise StatementError(f"no card account {account_id!r}")
    try:
        stored = statement_of(conn, account_id, on)
    except CycleError as exc:
        raise StatementError(str(exc)) from exc
    amounts = {k: int(v) for k, v in stored.items() if k.endswith("_fen")}
    return CustomerStatement(
        account_id=account_id,
        card_number_masked=mask_card(str(card.card_number)),
        holder_name=str(card.name),
        product_code=str(card.product_code),
        statement_date=_day(stored["statement_date"]),
        period_start=_day(stored["period_start"]),
        due_date=_day(stored["due_date"]),
        amounts=amounts,
        lines=entry_lines(conn, account_id, _day(stored["period_start"]), on),
    )


def entry_lines(
    conn: Connection, account_id: str, first: date, last: date
) -> tuple[StatementLine, ...]:
    """The account's ledger entries from ``first`` to ``last``, in posting order."""
    je, p = journal_entries.c, postings.c
    query = (
        select(je.entry_id, je.business_date, je.kind, je.description, func.sum(p.amount_fen))
        .join(journal_entries, je.entry_id == p.entry_id)
        .where(p.account_id == account_id, je.business_date >= first, je.business_date <= last)
        .group_by(je.entry_id, je.business_date, je.kind, je.description)
        .order_by(je.business_date, je.entry_id)
        .limit(LINES_MAX + 1)
    )
    rows = conn.execute(query).all()
    if len(rows) > LINES_MAX:
        raise StatementError(
            f"account {account_id} has more than {LINES_MAX} entries from {first} to {last}"
        )
    return tuple(
        StatementLine(_day(d), str(kind), str(text or ""), int(amount))
        for _entry, d, kind, text, amount in rows
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
