"""The audit trail: one hash-chained row per state-changing action, with who, when, what.

``record`` appends inside the caller's write transaction (call it last in the
transaction: on PostgreSQL it holds the chain's tail lock until commit).
``verify`` walks the whole chain and names the first row that was edited,
inserted or whose predecessor was deleted. Deleting rows at the very end
leaves a shorter valid chain: compare ``head_hash`` with a copy kept elsewhere
(the nightly report prints it) to catch that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cardbatch.domain.audit_chain import GENESIS_HASH, ChainBreak, ChainRow, first_break
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.audit_repo import (
    EventFilter,
    append_event,
    count_events,
    iter_chain,
    recent_events,
)

LIST_ROWS_MAX = 1_000


def record(conn: Connection, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Append an audit event inside the caller's transaction."""
    append_event(
        conn,
        at=utc_now(),
        actor=actor,
        action=action,
        subject=subject,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
    )


@dataclass(frozen=True)
class Verification:
    rows: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(store: Store) -> Verification:
    """Check every row's hash and every link, in event_id order."""
    with store.read() as conn:
        head = _Head()
        broken = first_break(head.track(iter_chain(conn)))
    return Verification(head.rows, head.hash, broken)


class _Head:
    """Counts rows and remembers the last hash while the chain streams through."""

    def __init__(self) -> None:
        self.rows = 0
        self.hash = GENESIS_HASH

    def track(self, rows: Iterator[ChainRow]) -> Iterator[ChainRow]:
        for row in rows:
            self.rows += 1
            self.hash = row.row_hash or ""
            yield row


def list_events(
    store: Store, rows_max: int = 100, where: EventFilter | None = None
) -> list[ChainRow]:
    """The newest audit events first."""
    if not 1 <= rows_max <= LIST_ROWS_MAX:
        raise ValueError(f"rows_max must be 1..{LIST_ROWS_MAX}")
    with store.read() as conn:
        return recent_events(conn, rows_max, where or EventFilter())


def event_count(store: Store) -> int:
    with store.read() as conn:
        return count_events(conn)
