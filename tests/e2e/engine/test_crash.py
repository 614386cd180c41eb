"""The crash test: `python -m cardbatch run start` killed with SIGKILL at many seeded points.

Half the kill points are exact (the process kills itself at a chosen chunk and
phase, including inside the chunk's COMMIT), half are random times after the
run has visibly started work; midway, a run fails on an error raised by the
last item of a chunk. Each kill or failure is followed by another start of the
same job and date, which resumes the run; the last is `run resume`. The
ledger, item results, step totals and balances then equal, row for row, those
of an uninterrupted run on a fresh database, and `cardbatch ledger check`
passes. PostgreSQL gets a shorter sequence of the same kinds of kill points.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from cardbatch.engine import run_job
from cardbatch.engine.faults import FAULT_ENV, PHASES
from cardbatch.store import Store
from cardbatch.store.tables_engine import job_runs, run_steps
from tests.engine_helpers import (
    REPO_ROOT,
    VOLATILE_COLUMNS,
    cli_command,
    cli_env,
    dump,
    migrated,
    synthetic_request,
)

DAY = date(2026, 4, 30)
SEED = 20260430
ITEMS = 4000  # 80 chunks: more than the kill plan can consume (at most ~3 per point)
CHUNK = 50
KILL_POINTS = 22  # at least 20; half exact (chunk, phase), half random times
KILL_POINTS_PG = 6
RANDOM_KILL_CHUNK_MS = 10  # random kills: chunks take at least this long ...
RANDOM_KILL_WINDOW_S = 0.02  # ... and the kill comes this soon after a chunk committed
ID_COLUMNS = frozenset({"entry_id", "posting_id"})
PROCESS_TIMEOUT_S = 60
START_ARGS = ("run", "start", "synthetic-items", "--date", DAY.isoformat(), "--param",
              f"items={ITEMS}", "--param", "accounts=40", "--chunk-size", str(CHUNK),
              "--progress")  # fmt: skip
COMPARED_TABLES = ("journal_entries", "postings", "balances", "item_results", "run_steps",
                   "run_chunks", "job_runs", "run_locks")  # fmt: skip


@dataclass
class Kill:
    how: str  # "exact step:chunk:phase" or "random after N ms"
    returncode: int


def _chunks_done(store: Store, step: str) -> int:
    with store.read() as conn:
        found = conn.execute(
            select(run_steps.c.chunks_done).where(run_steps.c.step_name == step)
        ).scalar_one_or_none()
    return int(found or 0)


def _exact_kill(db_url: str, spec: str) -> Kill:
    env = cli_env(db_url, **{FAULT_ENV: spec})
    proc = subprocess.run(cli_command(*START_ARGS), env=env, cwd=REPO_ROOT,
                          capture_output=True, timeout=PROCESS_TIMEOUT_S)  # fmt: skip
    return Kill(f"exact {spec}", proc.returncode)


def _random_kill(db_url: str, rng: random.Random) -> Kill:
    env = cli_env(db_url, CARDBATCH_TEST_SLOW_MS=str(RANDOM_KILL_CHUNK_MS))
    proc = subprocess.Popen(cli_command(*START_ARGS), env=env, cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the first chunk has committed: the run is at work
    delay_s = rng.uniform(0, RANDOM_KILL_WINDOW_S)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=PROCESS_TIMEOUT_S)
    proc.stderr.close()
    assert line.startswith(b"progress"), line
    return Kill(f"random {delay_s * 1000:.0f} ms after a chunk", proc.returncode)


def _error_on_last_item_of_next_chunk(store: Store, db_url: str) -> None:
    """A programmer error on the last item of a chunk: the run fails, the chunk rolls back."""
    chunk = _chunks_done(store, "charge")
    env = cli_env(db_url, CARDBATCH_TEST_EXPLODE_ITEM=f"i{(chunk + 1) * CHUNK - 1:06d}")
    proc = subprocess.run(cli_command(*START_ARGS), env=env, cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=PROCESS_TIMEOUT_S)  # fmt: skip
    assert proc.returncode == 1 and "exploding" in proc.stderr, proc.stderr[-500:]
    assert _chunks_done(store, "charge") == chunk
    with store.read() as conn:
        assert conn.execute(select(job_runs.c.status)).scalar_one() == "failed"


def _kill_plan(rng: random.Random, store: Store, db_url: str, points: int) -> list[Kill]:
    kills: list[Kill] = []
    phases = [p for p in PHASES if p != "listed"]
    for point in range(points):
        if point == points // 2:
            _error_on_last_item_of_next_chunk(store, db_url)
        if point == points - 1:
            kills.append(_exact_kill(db_url, "settle:0:in_commit"))
        elif point == 0:
            kills.append(_exact_kill(db_url, "charge:0:listed"))
        elif point % 2:
            chunk = _chunks_done(store, "charge") + rng.randint(0, 2)
            kills.append(_exact_kill(db_url, f"charge:{chunk}:{rng.choice(phases)}"))
        else:
            kills.append(_random_kill(db_url, rng))
    return kills


def _crash_resume_and_compare(
    url: str, reference_url: str, points: int, skip: frozenset[str]
) -> None:
    reference = migrated(reference_url)
    store = migrated(url)
    try:
        os.environ.pop(FAULT_ENV, None)
        expected = run_job(reference, synthetic_request(DAY, items=ITEMS, chunk_size=CHUNK))
        assert expected.status == "completed"
        kills = _kill_plan(random.Random(SEED), store, url, points)
        assert all(k.returncode == -signal.SIGKILL for k in kills), kills
        assert len(kills) == points
        with store.read() as conn:
            run = conn.execute(select(job_runs)).one()
        assert run.status == "running" and run.attempts >= len(kills) - 1
        done = subprocess.run(cli_command("run", "resume", run.run_id), env=cli_env(url),
                              cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=PROCESS_TIMEOUT_S)  # fmt: skip
        assert done.returncode == 0, done.stderr
        check = subprocess.run(cli_command("ledger", "check"), env=cli_env(url),
                               cwd=REPO_ROOT, capture_output=True, text=True)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        got, want = dump(store, VOLATILE_COLUMNS | skip), dump(reference, VOLATILE_COLUMNS | skip)
        for table in COMPARED_TABLES:
            assert got[table] == want[table], f"table {table} differs after {len(kills)} kills"
        with store.read() as conn:
            final = conn.execute(select(job_runs)).one()
        assert final.status == "completed"
        assert final.items_read == final.items_succeeded + final.items_failed + final.items_skipped
        assert final.items_read == ITEMS + 40
    finally:
        store.dispose()
        reference.dispose()


def test_killed_runs_resume_to_exactly_the_uninterrupted_result(
    sqlite_url: str, tmp_path: Path
) -> None:
    """SQLite: entry and posting ids are compared too (ids of rolled-back chunks are reused)."""
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    _crash_resume_and_compare(sqlite_url, reference_url, KILL_POINTS, frozenset())


@pytest.mark.postgres
def test_killed_runs_resume_to_exactly_the_uninterrupted_result_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL, fewer points: ids come from sequences, which rolled-back chunks advance."""
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    _crash_resume_and_compare(pg_url, reference_url, KILL_POINTS_PG, ID_COLUMNS)
