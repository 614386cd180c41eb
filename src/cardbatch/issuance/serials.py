"""Named counters (application sequence numbers, card serials) in ``serial_counters``.

:func:`allocate` reserves a range inside the caller's write transaction: the
counter row is locked (``FOR UPDATE`` on PostgreSQL; SQLite write transactions
already hold the database lock), so the range commits or rolls back together
with the rows that use it. A crash therefore never consumes serials.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cardbatch.store.tables_apps import serial_counters


def allocate(conn: Connection, name: str, count: int, first_if_new: Callable[[], int]) -> int:
    """Reserve ``count`` consecutive values of counter ``name``; returns the first."""
    assert count >= 1, "allocate at least one value"
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    row = _locked(conn, name)
    if row is None:
        conn.execute(
            insert(serial_counters)
            .values(name=name, next_value=first_if_new())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = _locked(conn, name)
    assert row is not None
    first = int(row)
    done = conn.execute(
        update(serial_counters)
        .where(serial_counters.c.name == name, serial_counters.c.next_value == first)
        .values(next_value=first + count)
    )
    assert done.rowcount == 1, f"counter {name} moved under a lock"
    return first


def peek(conn: Connection, name: str) -> int | None:
    """The next value of a counter without reserving it (dry runs, reports)."""
    value = conn.execute(
        select(serial_counters.c.next_value).where(serial_counters.c.name == name)
    ).scalar_one_or_none()
    return None if value is None else int(value)


def _locked(conn: Connection, name: str) -> int | None:
    query = select(serial_counters.c.next_value).where(serial_counters.c.name == name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    value = conn.execute(query).scalar_one_or_none()
    return None if value is None else int(value)
