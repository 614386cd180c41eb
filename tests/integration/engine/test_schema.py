"""The engine's migration creates exactly the tables the code declares (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cardbatch.store import Store
from cardbatch.store.all_tables import metadata
from cardbatch.store.tables_engine import business_calendar, item_results, job_runs, run_locks

ENGINE_TABLES = {t.name for t in (business_calendar, item_results, job_runs, run_locks)}


def test_migrations_match_the_declared_tables(store: Store) -> None:
    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert set(metadata.tables) >= ENGINE_TABLES
