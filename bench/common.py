"""What the benchmarks share: timing, peak memory, fresh databases, JSON output.

Benchmarks are commands (``python -m bench.<name>``), never timed tests. Each
prints one JSON document; ``python -m bench`` runs them all at a size that
takes about a minute and writes ``out/bench/report.json``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

PG_ADMIN_URL = os.environ.get("CARDBATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(terse=True),
    }


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def measure(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start


def remove_sqlite(path: Path) -> None:
    """Delete a SQLite database file with its WAL and shared-memory files, if there."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def on_server(url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``url``."""
    return url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def fresh_database(
    backend: str, folder: Path, admin_url: str = PG_ADMIN_URL, prefix: str = "bench"
) -> Iterator[str]:
    """A new empty database URL (a SQLite file, or a PostgreSQL database on the server of
    ``admin_url``), dropped after."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            remove_sqlite(path)
        return
    name = f"cardbatch_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield on_server(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def emit(result: dict[str, Any]) -> None:
    json.dump({**result, "machine": machine()}, sys.stdout, indent=2)
    sys.stdout.write("\n")
