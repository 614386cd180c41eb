"""The write floor: how long the store's fastest path takes to insert a batch's ledger rows.

A benchmark reads back the journal entries and postings its run wrote (by idempotency key
pattern) and times inserting the same rows into an identical, freshly migrated, empty
schema in one transaction: one executemany per table on SQLite, COPY on PostgreSQL. Its
``vs_write_floor`` is its own time over this one; no run can write the same rows faster
through the store.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from bench.common import PG_ADMIN_URL
from cardbatch.store import Store, open_store
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
    with _empty_schema(backend, db) as url:
        store = open_store(url)
        started = time.perf_counter()
        with store.write() as conn:
            _bulk(conn, "journal_entries", ENTRY_COLUMNS, entries)
            _bulk(conn, "postings", POSTING_COLUMNS, postings)
        seconds = time.perf_counter() - started
        store.dispose()
    return seconds


def _bulk(conn: Connection, table: str, columns: tuple[str, ...], rows: Rows) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def on_server(url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``url``."""
    return url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def _empty_schema(backend: str, db: str | None) -> Iterator[str]:
    if backend == "sqlite":
        FLOOR_FOLDER.mkdir(parents=True, exist_ok=True)
        path = FLOOR_FOLDER / f"floor-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        try:
            _migrate(url)
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = db or PG_ADMIN_URL
    name = f"cardbatch_floor_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = on_server(admin, name)
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
