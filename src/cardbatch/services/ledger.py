"""Ledger use cases: post journal entries, check the ledger, read an account's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from cardbatch.domain.ledger import JournalEntry, is_gl_account
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.ledger_repo import (
    LedgerCheck,
    PostResult,
    account_balances,
    account_postings,
    check_ledger,
    post_entries,
)
from cardbatch.store.tables import card_accounts, deposit_accounts

HISTORY_ROWS_MAX = 10_000


class UnknownAccount(LookupError):
    """No card, deposit or GL account has this id."""


def post(store: Store, entries: Sequence[JournalEntry], actor: str) -> PostResult:
    """Post entries in one transaction (all or nothing)."""
    with store.write() as conn:
        return post_entries(conn, entries, actor=actor, now=utc_now())


def check(store: Store) -> LedgerCheck:
    with store.read() as conn:
        return check_ledger(conn)


@dataclass(frozen=True)
class HistoryLine:
    """One line of an account's transaction details (交易明细), in the account's own sign."""

    entry_id: int
    business_date: date
    kind: str
    description: str
    amount_fen: int
    balance_after_fen: int
    run_id: str | None
    components: dict[str, int]


@dataclass(frozen=True)
class AccountHistory:
    account_id: str
    account_kind: str  # card | deposit | gl
    sign_convention: str
    balance_fen: int
    lines: list[HistoryLine]


# Cards show what the holder owes; deposits what the bank owes the holder; GL debit-positive.
_SIGN = {"card": (1, "owed by the holder"), "deposit": (-1, "held for the holder"),
         "gl": (1, "debit-positive")}  # fmt: skip


def history(store: Store, account_id: str, rows_max: int = HISTORY_ROWS_MAX) -> AccountHistory:
    """The transaction details of an account with the balance after each entry."""
    with store.read() as conn:
        kind = _account_kind(conn, account_id)
        rows = account_postings(conn, account_id, rows_max)
        total_fen = sum(account_balances(conn, account_id).values())
    sign, convention = _SIGN[kind]
    running_fen = 0
    lines = []
    for row in rows:
        running_fen += row.amount_fen
        lines.append(
            HistoryLine(row.entry_id, row.business_date, row.kind, row.description,
                        sign * row.amount_fen, sign * running_fen, row.run_id,
                        {c: sign * v for c, v in row.components.items()})
        )  # fmt: skip
    return AccountHistory(account_id, kind, convention, sign * total_fen, lines)


def _account_kind(conn: Connection, account_id: str) -> str:
    if is_gl_account(account_id):
        return "gl"
    card = conn.execute(
        select(card_accounts.c.account_id).where(card_accounts.c.account_id == account_id)
    ).first()
    if card is not None:
        return "card"
    deposit = conn.execute(
        select(deposit_accounts.c.account_id).where(deposit_accounts.c.account_id == account_id)
    ).first()
    if deposit is not None:
        return "deposit"
    raise UnknownAccount(f"no card, deposit or GL account {account_id!r}")
