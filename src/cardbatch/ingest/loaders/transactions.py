"""Loading the card switch's transactions: each row becomes a journal entry on the ledger.

The entry is built by :func:`cardbatch.domain.transactions.transaction_entry`
(purchase, cash advance, refund, counter payment) with the idempotency key
``txn:<txn_id>`` and posted through the foundation's idempotent
``post_entries``: a transaction id already posted with the same content is
``unchanged``; with different content it is rejected (``duplicate_txn_id``).

A row names its card account by ``account_id``, by ``card_number`` or both
(``unknown_account``, ``unknown_card``, ``card_mismatch``); the account must be
open (``account_closed``), and a blocked or frozen card takes no new purchases or
cash advances (``card_blocked``, ``card_frozen``; refunds and payments still
post), as in the engine's post-transactions job. The posting date may not be after the import's
business date (``post_date_future``) nor before the transaction date
(``post_before_txn``). Payments are allocated against the card's balances as
they stand, row by row in file order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from cardbatch.domain.ledger import JournalEntry
from cardbatch.domain.masking import mask_card
from cardbatch.domain.transactions import (
    TxnKind,
    spending_refusal,
    transaction_entry,
    transaction_key,
)
from cardbatch.ingest.loaders.base import LoadContext, LoadOutcome
from cardbatch.store.ingest_repo import KEY_LOOKUP_CHUNK, lookup
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.tables import balances, card_accounts, journal_entries

_CLOSED = ("closed", "charged_off")
_ACCOUNT_COLUMNS = ("account_id", "card_number", "status")


class TransactionsLoader:
    """Posts transactions to card accounts through idempotent journal entries."""

    def __init__(self, conn: Connection, ctx: LoadContext) -> None:
        self.ctx = ctx

    def finish(self, conn: Connection) -> None:
        return None

    def abort(self, error: BaseException) -> None:
        return None

    def load(self, conn: Connection, frame: pl.DataFrame) -> LoadOutcome:
        out = LoadOutcome()
        rows = list(frame.iter_rows(named=True))
        by_id = lookup(
            conn,
            card_accounts,
            "account_id",
            [r["account_id"] for r in rows if r["account_id"]],
            _ACCOUNT_COLUMNS,
        )
        by_card = lookup(
            conn,
            card_accounts,
            "card_number",
            [r["card_number"] for r in rows if r["card_number"]],
            _ACCOUNT_COLUMNS,
        )
        keys = [transaction_key(r["txn_id"]) for r in rows]
        posted = lookup(conn, journal_entries, "idempotency_key", keys,
                        ("idempotency_key", "content_hash"))  # fmt: skip
        status = {a["account_id"]: a["status"] for a in [*by_id.values(), *by_card.values()]}
        accounts = set(status)
        held = self._balances(conn, accounts)
        entries: list[JournalEntry] = []
        for row in rows:
            account_id = self._account(row, by_id, by_card, out)
            if account_id is None or not self._dates_ok(row, out):
                continue
            kind = TxnKind(row["txn_type"])
            if not self._may_post(row, kind, account_id, status[account_id], out):
                continue
            entry = transaction_entry(
                row["txn_id"], account_id, kind, row["amount"],
                row["post_date"], row["description"] or row["txn_type"],
                held[account_id], self.ctx.run_id,
            )  # fmt: skip
            earlier = posted.get(entry.idempotency_key)
            if earlier is not None:
                if earlier["content_hash"] == entry.content_hash:
                    out.unchanged += 1
                else:
                    out.reject(row, "txn_id", "duplicate_txn_id",
                               f"transaction {row['txn_id']} is already posted with other "
                               "content")  # fmt: skip
                continue
            _apply(held[account_id], entry, account_id)
            entries.append(entry)
        result = post_entries(conn, entries, actor=self.ctx.actor, now=self.ctx.now)
        out.inserted += result.written
        return out

    def _account(
        self,
        row: dict[str, Any],
        by_id: dict[Any, dict[str, Any]],
        by_card: dict[Any, dict[str, Any]],
        out: LoadOutcome,
    ) -> str | None:
        account_id, card_number = row["account_id"], row["card_number"]
        account = by_id.get(account_id) if account_id else by_card.get(card_number)
        if account is None and account_id:
            out.reject(row, "account_id", "unknown_account", f"no card account {account_id}")
        elif account is None:
            out.reject(row, "card_number", "unknown_card",
                       f"no card account has card {mask_card(card_number)}")  # fmt: skip
        elif card_number and account["card_number"] != card_number:
            out.reject(row, "card_number", "card_mismatch",
                       f"card {mask_card(card_number)} is not the card of account "
                       f"{account['account_id']}")  # fmt: skip
        elif account["status"] in _CLOSED:
            out.reject(row, "account_id", "account_closed",
                       f"card account {account['account_id']} is {account['status']}")  # fmt: skip
        else:
            return str(account["account_id"])
        return None

    @staticmethod
    def _may_post(
        row: dict[str, Any], kind: TxnKind, account_id: str, card_status: str, out: LoadOutcome
    ) -> bool:
        refusal = spending_refusal(kind, card_status)
        if refusal is not None:
            message = f"card account {account_id} is {card_status}: no new {kind.value}"
            out.reject(row, "txn_type", refusal, message)
        return refusal is None

    def _dates_ok(self, row: dict[str, Any], out: LoadOutcome) -> bool:
        if row["post_date"] > self.ctx.business_date:
            out.reject(row, "post_date", "post_date_future",
                       f"posting date {row['post_date']} is after the business date "
                       f"{self.ctx.business_date}")  # fmt: skip
            return False
        if row["post_date"] < row["txn_date"]:
            out.reject(row, "post_date", "post_before_txn",
                       f"posting date {row['post_date']} is before the transaction date "
                       f"{row['txn_date']}")  # fmt: skip
            return False
        return True

    def _balances(self, conn: Connection, account_ids: set[str]) -> dict[str, dict[str, int]]:
        held: dict[str, dict[str, int]] = defaultdict(dict)
        ids = sorted(account_ids)
        cols = balances.c
        for start in range(0, len(ids), KEY_LOOKUP_CHUNK):
            part = ids[start : start + KEY_LOOKUP_CHUNK]
            query = select(cols.account_id, cols.component, cols.balance_fen).where(
                cols.account_id.in_(part)
            )
            for account_id, component, amount_fen in conn.execute(query):
                held[account_id][component] = amount_fen
        return held


def _apply(held: dict[str, int], entry: JournalEntry, account_id: str) -> None:
    """Keep the card's balances current so a later payment in the file is allocated right."""
    for posting in entry.postings:
        if posting.account_id == account_id:
            held[posting.component] = held.get(posting.component, 0) + posting.amount_fen
