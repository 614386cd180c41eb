"""Appending to and reading the hash-chained audit trail (``audit_events``).

Appends are serialised: SQLite's write transaction already holds the database
write lock (``BEGIN IMMEDIATE``); on PostgreSQL the writer takes a
transaction-level advisory lock on the chain's tail before reading it. The
unique constraint on ``prev_hash`` refuses a fork should two writers ever
read the same tail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, text

from cardbatch.domain.audit_chain import GENESIS_HASH, ChainRow, row_hash
from cardbatch.store.tables import audit_events
from cardbatch.store.tables_console import users  # noqa: F401  (declares the chain columns)

# pg_advisory_xact_lock key for the audit chain's tail ("cardbaud" in ASCII).
AUDIT_TAIL_LOCK_KEY = 0x6361726462617564
READ_CHUNK_ROWS = 5_000


def append_event(
    conn: Connection, at: datetime, actor: str, action: str, subject: str, detail: str
) -> ChainRow:
    """Append one row at the tail of the chain, inside the caller's write transaction."""
    is_pg = conn.dialect.name == "postgresql"
    if is_pg:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_TAIL_LOCK_KEY})
    c = audit_events.c
    tail = conn.execute(select(c.event_id, c.row_hash).order_by(c.event_id.desc()).limit(1)).first()
    prev_hash = GENESIS_HASH if tail is None else str(tail.row_hash)
    if is_pg:
        event_id = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence('audit_events', 'event_id'))")
        ).scalar_one()
    else:
        event_id = (tail.event_id if tail is not None else 0) + 1
    digest = row_hash(event_id, at, actor, action, subject, detail, prev_hash)
    conn.execute(
        audit_events.insert().values(event_id=event_id, at=at, actor=actor, action=action,
                                     subject=subject, detail=detail, prev_hash=prev_hash,
                                     row_hash=digest)
    )  # fmt: skip
    return ChainRow(event_id, at, actor, action, subject, detail, prev_hash, digest)


def iter_chain(conn: Connection, chunk_rows: int = READ_CHUNK_ROWS) -> Iterator[ChainRow]:
    """Every row in event_id order, read in chunks (keyset pagination)."""
    c = audit_events.c
    after = -1
    while True:
        batch = conn.execute(
            select(c.event_id, c.at, c.actor, c.action, c.subject, c.detail, c.prev_hash,
                   c.row_hash)
            .where(c.event_id > after).order_by(c.event_id).limit(chunk_rows)
        ).all()  # fmt: skip
        for r in batch:
            yield ChainRow(r.event_id, r.at, r.actor, r.action, r.subject, r.detail,
                           r.prev_hash, r.row_hash)  # fmt: skip
        if len(batch) < chunk_rows:
            return
        after = batch[-1].event_id


@dataclass(frozen=True)
class EventFilter:
    actor: str | None = None
    action: str | None = None
    before_id: int | None = None  # for paging back from the newest


def recent_events(conn: Connection, rows_max: int, where: EventFilter) -> list[ChainRow]:
    """The newest rows first, at most ``rows_max``, optionally by actor and action."""
    c = audit_events.c
    query = select(c.event_id, c.at, c.actor, c.action, c.subject, c.detail, c.prev_hash,
                   c.row_hash)  # fmt: skip
    if where.actor:
        query = query.where(c.actor == where.actor)
    if where.action:
        query = query.where(c.action == where.action)
    if where.before_id is not None:
        query = query.where(c.event_id < where.before_id)
    rows = conn.execute(query.order_by(c.event_id.desc()).limit(rows_max)).all()
    return [ChainRow(r.event_id, r.at, r.actor, r.action, r.subject, r.detail, r.prev_hash,
                     r.row_hash) for r in rows]  # fmt: skip


def count_events(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())
