"""The audit trail in a real database: chained appends, append-only triggers, concurrent
writers, old rows chained by the migration, and verify finding edits and deletions."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cardbatch.domain.audit_chain import GENESIS_HASH
from cardbatch.services import audit
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade

WRITERS = 4
EVENTS_PER_WRITER = 15


def _record(store: Store, n: int, actor: str = "li.lei") -> None:
    for i in range(n):
        with store.write() as conn:
            audit.record(conn, actor, "test.action", f"thing:{i}", n=i, note="改动")


def _disable_guard(store: Store) -> None:
    """What someone with database rights could do: drop the append-only triggers."""
    with store.write() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_change ON audit_events")


def test_appends_form_a_chain_that_verifies(store: Store) -> None:
    _record(store, 5)
    result = audit.verify(store)
    assert result.ok and result.rows == 5
    events = audit.list_events(store, 10)
    assert [e.event_id for e in events] == sorted((e.event_id for e in events), reverse=True)
    assert events[-1].prev_hash == GENESIS_HASH
    for newer, older in itertools.pairwise(events):
        assert newer.prev_hash == older.row_hash
    assert result.head_hash == events[0].row_hash


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory'",
    "DELETE FROM audit_events",
])  # fmt: skip
def test_the_table_refuses_updates_and_deletes(store: Store, statement: str) -> None:
    _record(store, 2)
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.execute(text(statement))
    assert audit.verify(store).rows == 2


@pytest.mark.parametrize(
    ("statement", "bad_id", "reason"),
    [
        ("UPDATE audit_events SET detail = '{}' WHERE event_id = 3", 3, "edited"),
        ("UPDATE audit_events SET at = at WHERE event_id = 2", None, ""),
        ("DELETE FROM audit_events WHERE event_id = 2", 3, "deleted"),
        ("UPDATE audit_events SET actor = 'x', row_hash = prev_hash WHERE event_id = 4", 4,
         "edited"),
    ],
)  # fmt: skip
def test_verify_names_the_first_bad_row(
    store: Store, statement: str, bad_id: int | None, reason: str
) -> None:
    _record(store, 5)
    _disable_guard(store)
    with store.write() as conn:
        conn.execute(text(statement))
    result = audit.verify(store)
    if bad_id is None:
        assert result.ok  # a no-op update changes nothing
    else:
        assert result.broken is not None and result.broken.event_id == bad_id
        assert reason in result.broken.reason


def test_concurrent_writers_keep_one_chain(db_url: str) -> None:
    bare = open_store(db_url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    stores = [open_store(db_url) for _ in range(WRITERS)]
    errors: list[BaseException] = []

    def write(store: Store, k: int) -> None:
        try:
            _record(store, EVENTS_PER_WRITER, actor=f"writer{k}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, k)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        result = audit.verify(stores[0])
        assert result.ok and result.rows == WRITERS * EVENTS_PER_WRITER
    finally:
        for s in stores:
            s.dispose()


def test_migration_chains_rows_written_before_it(db_url: str) -> None:
    bare = open_store(db_url, require_schema=False)
    try:
        upgrade(bare, "0001")
        with bare.write() as conn:
            for i in range(3):
                conn.execute(
                    text("INSERT INTO audit_events (at, actor, action, subject, detail) "
                         "VALUES (:at, 'old', 'db.upgrade', 'schema', :d)"),
                    {"at": datetime(2026, 1, 1, 8, 0, i, 123456, tzinfo=UTC), "d": f'{{"i": {i}}}'},
                )  # fmt: skip
        upgrade(bare)
        migrated = open_store(db_url)
        _record(migrated, 1)
        result = audit.verify(migrated)
        migrated.dispose()
        assert result.ok and result.rows == 4
    finally:
        bare.dispose()
