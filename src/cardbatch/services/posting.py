"""Posting the card switch's daily transactions to the ledger, in bulk and idempotently."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, select

from cardbatch.domain.transactions import TxnKind, transaction_entry
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.tables import balances

BALANCE_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class TxnLine:
    txn_id: str
    account_id: str
    kind: TxnKind
    amount_fen: int
    business_date: date
    description: str = ""


@dataclass
class PostingSummary:
    business_date: date
    run_id: str
    entries_written: int = 0
    entries_replayed: int = 0
    count_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    amount_fen_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def post_transactions(
    store: Store, lines: Sequence[TxnLine], business_date: date, actor: str, run_id: str
) -> PostingSummary:
    """Post one day's transactions in one transaction; replaying the same lines changes nothing.

    Payments are allocated against the card balances as they stand, updated line
    by line in file order, so a payment after a purchase the same day pays it.
    """
    summary = PostingSummary(business_date, run_id)
    with store.write() as conn:
        card_balances = _card_balances(conn, {ln.account_id for ln in lines})
        entries = []
        for line in lines:
            entry = transaction_entry(
                line.txn_id, line.account_id, line.kind, line.amount_fen, line.business_date,
                line.description, card_balances[line.account_id], run_id,
            )  # fmt: skip
            for posting in entry.postings:
                if posting.account_id == line.account_id:
                    held = card_balances[line.account_id]
                    held[posting.component] = held.get(posting.component, 0) + posting.amount_fen
            entries.append(entry)
            summary.count_by_kind[line.kind] += 1
            summary.amount_fen_by_kind[line.kind] += line.amount_fen
        result = post_entries(conn, entries, actor=actor, now=utc_now())
    summary.entries_written = result.written
    summary.entries_replayed = result.replayed
    return summary


def _card_balances(conn: Connection, account_ids: set[str]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = defaultdict(dict)
    ids = sorted(account_ids)
    for start in range(0, len(ids), BALANCE_LOOKUP_CHUNK):
        chunk = ids[start : start + BALANCE_LOOKUP_CHUNK]
        query = select(balances.c.account_id, balances.c.component, balances.c.balance_fen).where(
            balances.c.account_id.in_(chunk)
        )
        for account_id, component, amount_fen in conn.execute(query):
            found[account_id][component] = amount_fen
    return found
