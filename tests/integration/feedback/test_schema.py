"""Migration 0009 creates exactly the feedback tables the code declares, and drops them again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from cardbatch.store import Store
from cardbatch.store.all_tables import metadata
from cardbatch.store.migrate import alembic_config, upgrade

FEEDBACK_TABLES = {"feedback", "feedback_links", "corrections"}


def test_feedback_migration_matches_and_downgrades(store: Store) -> None:
    with store.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert set(inspect(conn).get_table_names()) >= FEEDBACK_TABLES
    with store.write() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    with store.read() as conn:
        assert not FEEDBACK_TABLES & set(inspect(conn).get_table_names())
    upgrade(store)
    with store.read() as conn:
        assert set(inspect(conn).get_table_names()) >= FEEDBACK_TABLES
