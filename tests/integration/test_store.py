"""Opening stores: clear errors, schema checks, migrations that match the code."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cardbatch.store import SchemaMissing, StoreUnavailable, open_store
from cardbatch.store.all_tables import metadata
from cardbatch.store.db import SCHEMA_HEAD, normalise_url, redact_url
from cardbatch.store.migrate import current_revision, head_revision, upgrade


def test_unreachable_postgres_is_one_clear_line() -> None:
    with pytest.raises(StoreUnavailable) as info:
        open_store("postgresql://cb:secret@127.0.0.1:1/nowhere")
    message = str(info.value)
    assert message.startswith("cannot reach database postgresql+psycopg://cb:***@127.0.0.1:1")
    assert "secret" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("mysql://x@h/db", "unsupported database"), ("nonsense", "not a database URL"),
     ("sqlite://", "in-memory")],
)  # fmt: skip
def test_bad_urls_are_refused(url: str, fragment: str) -> None:
    with pytest.raises(StoreUnavailable, match=fragment):
        open_store(url)


def test_sqlite_in_missing_folder_is_unavailable(tmp_path: object) -> None:
    with pytest.raises(StoreUnavailable, match="cannot reach database"):
        open_store("sqlite:////nonexistent-folder/x/cardbatch.db")


def test_schema_missing_says_what_to_run(db_url: str) -> None:
    with pytest.raises(SchemaMissing, match="cardbatch db upgrade"):
        open_store(db_url)


def test_upgrade_is_idempotent_and_matches_the_code(db_url: str) -> None:
    store = open_store(db_url, require_schema=False)
    try:
        assert upgrade(store) == (None, head_revision())
        assert upgrade(store) == (head_revision(), head_revision())
        assert current_revision(store) == head_revision()
        with store.read() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diffs == []
    finally:
        store.dispose()


def test_url_helpers() -> None:
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    assert redact_url("postgresql://u:pw@h/d") == "postgresql://u:***@h/d"


def test_the_schema_head_constant_is_the_newest_migration() -> None:
    """Commands compare the database with SCHEMA_HEAD; it must name Alembic's single head."""
    assert head_revision() == SCHEMA_HEAD


def test_a_sqlite_read_sees_one_snapshot_and_keeps_the_engine_free_of_events(
    sqlite_url: str,
) -> None:
    store = open_store(sqlite_url, require_schema=False)
    try:
        upgrade(store)
        count = "SELECT COUNT(*) FROM alembic_version"
        with store.read() as conn:
            before = conn.exec_driver_sql(count).scalar_one()
            with store.write() as other:
                other.exec_driver_sql("INSERT INTO alembic_version VALUES ('snapshot')")
            assert conn.exec_driver_sql(count).scalar_one() == before  # still the snapshot
        with store.read() as conn:
            assert conn.exec_driver_sql(count).scalar_one() == before + 1
        assert not store.engine._has_events  # no per-statement event dispatch on reads
    finally:
        store.dispose()
