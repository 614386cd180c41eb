"""Schema migrations: run the Alembic scripts in ``migrations/`` against a store."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cardbatch.store.db import Store

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(store: Store | None = None) -> Config:
    """An Alembic configuration that needs no ini file on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if store is not None:
        config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
        config.attributes["store"] = store
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(store: Store) -> str | None:
    with store.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; idempotent. Returns (before, after)."""
    before = current_revision(store)
    with store.write() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return before, current_revision(store) or ""
