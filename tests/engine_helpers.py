"""Helpers shared by the engine tests: migrated stores, full table dumps, job requests."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cardbatch.engine import EngineSettings, RunRequest, get_job
from cardbatch.store import Store, open_store
from cardbatch.store.all_tables import metadata
from cardbatch.store.migrate import upgrade
from tests import engine_jobs

REPO_ROOT = Path(__file__).resolve().parent.parent
ACTOR = "engine-test"

# Columns that record when or by which process something happened, not what happened.
VOLATILE_COLUMNS = frozenset({
    "created_at", "started_at", "ended_at", "heartbeat_at", "committed_at", "work_ms",
    "attempts", "updated_at", "at",
})  # fmt: skip


def migrated(url: str) -> Store:
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    return open_store(url)


def dump(store: Store, skip: frozenset[str] = frozenset()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, without the ``skip`` columns."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in skip]
            order = list(table.primary_key.columns) or columns
            rows = conn.execute(select(*columns).order_by(*order)).all()
            tables[table.name] = [tuple(row) for row in rows]
    return tables


def synthetic_request(
    business_date: Any,
    items: int = 600,
    chunk_size: int = 50,
    settings: dict[str, Any] | None = None,
    **request_fields: Any,
) -> RunRequest:
    """A request to run the test job over ``items`` synthetic items."""
    engine_settings = EngineSettings(chunk_size=chunk_size, **(settings or {}))
    params = {"items": str(items), "accounts": "40"}
    return RunRequest(get_job(engine_jobs.JOB_NAME), business_date, params, ACTOR,
                      engine_settings, **request_fields)  # fmt: skip


def cli_env(db_url: str, **extra: str) -> dict[str, str]:
    """Environment for `python -m cardbatch` subprocesses that can run the test job."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDBATCH_")}
    env.update(
        CARDBATCH_DB=db_url,
        CARDBATCH_USER=ACTOR,
        CARDBATCH_JOB_MODULES="tests.engine_jobs",
        PYTHONPATH=f"{REPO_ROOT / 'src'}{os.pathsep}{REPO_ROOT}",
    )
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cardbatch", *args]
