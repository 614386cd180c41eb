"""The write floor: how long the store's fastest path takes to insert a batch's ledger rows.

A benchmark reads back the journal entries and postings its run wrote (by idempotency key
pattern) and times inserting the same rows into an identical, freshly migrated, empty
schema in one transaction by the store's bulk insert (``frame_io.insert_tuples``: one
executemany per table on SQLite, COPY on PostgreSQL). Its ``vs_write_floor`` is its own
time over this one; no run can write the same rows faster through the store.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import PG_ADMIN_URL, fresh_database
from cardbatch.store import Store, open_store
from cardbatch.store.frame_io import insert_tuples
from cardbatch.store.migrate import upgrade

FLOOR_FOLDER = Path("out/bench")
ENTRY_COLUMNS = (
    "entry_id", "idempotency_key", "content_hash", "business_date", "kind", "description",
    "reference_key", "run_id", "actor", "created_at",
)  # fmt: skip
POSTING_COLUMNS = ("entry_id", "account_id", "component", "amount_fen")

Rows = list[tuple[Any, ...]]


def ledger_rows(store: Store, key_pattern: str) -> tuple[Rows, Rows]:
    """The journal entries whose idempotency key is LIKE ``key_pattern``, and their postings."""
    where = {"k": key_pattern}
    with store.read() as conn:
        entries = [tuple(r) for r in conn.execute(
            text(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM journal_entries "
                 "WHERE idempotency_key LIKE :k"), where)]  # fmt: skip
        postings = [tuple(r) for r in conn.execute(
            text("SELECT p.entry_id, p.account_id, p.component, p.amount_fen FROM postings p "
                 "JOIN journal_entries je ON je.entry_id = p.entry_id "
                 "WHERE je.idempotency_key LIKE :k"), where)]  # fmt: skip
    return entries, postings


def write_floor(backend: str, db: str | None, entries: Rows, postings: Rows) -> float:
    """Seconds to bulk-insert the rows into an empty migrated schema, in one transaction."""
    with fresh_database(backend, FLOOR_FOLDER, db or PG_ADMIN_URL, prefix="floor") as url:
        migrate(url)
        store = open_store(url)
        started = time.perf_counter()
        with store.write() as conn:
            insert_tuples(conn, "journal_entries", ENTRY_COLUMNS, entries)
            insert_tuples(conn, "postings", POSTING_COLUMNS, postings)
        seconds = time.perf_counter() - started
        store.dispose()
    return seconds


def migrate(url: str) -> None:
    """Bring a new, empty database to the current schema."""
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
