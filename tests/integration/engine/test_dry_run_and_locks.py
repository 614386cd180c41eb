"""Dry runs leave the database unchanged; exactly one runner holds a run identity's lock."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import threading
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from cardbatch.engine import RunLocked, run_job
from cardbatch.engine.locks import LockLost, acquire, fence
from cardbatch.engine.monitor import RunReport
from cardbatch.store import Store
from cardbatch.store.tables_engine import run_locks
from tests.engine_helpers import dump, synthetic_request

DAY = date(2026, 3, 5)


def _file_digest(store: Store) -> str | None:
    """SQLite only: the database file's bytes after a full WAL checkpoint."""
    if store.dialect != "sqlite":
        return None
    path = make_url(store.url).database
    assert path is not None
    raw = sqlite3.connect(path)
    try:
        busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "checkpoint blocked"
    finally:
        raw.close()
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _what_it_posts(report: RunReport) -> dict[str, object]:
    steps = [asdict(s) for s in report.steps]
    for s in steps:
        for volatile in ("started_at", "ended_at", "work_ms", "rate_items_per_s", "eta_s"):
            s.pop(volatile)
    return {
        "counts": (report.items_total, report.items_read, report.items_succeeded,
                   report.items_failed, report.items_skipped),
        "steps": steps, "failures": report.failures, "sample": report.sample,
        "files": [(f["name"], f["bytes"], f["rows"]) for f in report.files],
    }  # fmt: skip


def test_dry_run_changes_nothing_and_reports_what_the_real_run_then_does(
    store: Store, tmp_path: Path
) -> None:
    settings = {"out_dir": tmp_path / "out"}
    run_job(store, synthetic_request(date(2026, 3, 4), items=200, settings=settings))
    before, digest_before = dump(store), _file_digest(store)
    rehearsal = run_job(store, synthetic_request(DAY, items=700, settings=settings, dry_run=True))
    assert dump(store) == before
    assert _file_digest(store) == digest_before
    assert rehearsal.dry_run and rehearsal.status == "completed"
    assert rehearsal.files and not any(f["written"] for f in rehearsal.files)
    assert not Path(str(rehearsal.files[0]["path"])).exists()
    assert rehearsal.sample and {s["status"] for s in rehearsal.sample} == {
        "succeeded", "failed", "skipped"
    }  # fmt: skip
    real = run_job(store, synthetic_request(DAY, items=700, settings=settings))
    assert not real.dry_run and real.run_id == rehearsal.run_id
    assert _what_it_posts(real) == _what_it_posts(rehearsal)
    written = Path(str(real.files[0]["path"]))
    assert written.stat().st_size == real.files[0]["bytes"]


def test_dry_run_of_a_completed_run_is_refused_like_the_real_one(store: Store) -> None:
    run_job(store, synthetic_request(DAY, items=100))
    before = dump(store)
    with pytest.raises(Exception, match="already completed"):
        run_job(store, synthetic_request(DAY, items=100, dry_run=True))
    assert dump(store) == before


def test_two_runners_starting_at_once_get_exactly_one_lock(store: Store) -> None:
    barrier = threading.Barrier(4)
    tokens: list[str] = []
    refusals: list[str] = []

    def contender() -> None:
        barrier.wait()
        try:
            tokens.append(acquire(store, "synthetic-items|2026-03-05|abc", lease_s=60))
        except RunLocked as exc:
            refusals.append(str(exc))

    threads = [threading.Thread(target=contender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 1 and len(refusals) == 3
    assert all("already running" in r or "contended" in r for r in refusals)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _plant_lock(store: Store, key: str, host: str, pid: int, lease_left_s: int) -> None:
    now = datetime.now(UTC)
    with store.write() as conn:
        conn.execute(insert(run_locks).values(
            lock_key=key, owner_token="planted", run_id=None, host=host, pid=pid,
            acquired_at=now, heartbeat_at=now,
            lease_expires_at=now + timedelta(seconds=lease_left_s),
        ))  # fmt: skip


def test_a_lock_of_a_dead_process_or_an_expired_lease_is_taken_over(store: Store) -> None:
    from cardbatch.engine.locks import HOST

    _plant_lock(store, "a|2026-03-05|x", HOST, _dead_pid(), lease_left_s=600)
    assert acquire(store, "a|2026-03-05|x", lease_s=60)
    _plant_lock(store, "b|2026-03-05|x", "another-host", 1, lease_left_s=-1)
    assert acquire(store, "b|2026-03-05|x", lease_s=60)
    _plant_lock(store, "c|2026-03-05|x", "another-host", 1, lease_left_s=600)
    with pytest.raises(RunLocked, match="job c for 2026-03-05 is already running"):
        acquire(store, "c|2026-03-05|x", lease_s=60)
    _plant_lock(store, "d|2026-03-05|x", HOST, os.getpid(), lease_left_s=600)
    with pytest.raises(RunLocked, match=f"pid {os.getpid()}"):
        acquire(store, "d|2026-03-05|x", lease_s=60)


def test_a_runner_whose_lock_was_taken_over_cannot_commit_a_chunk(store: Store) -> None:
    first = acquire(store, "e|2026-03-05|x", lease_s=60)
    with store.write() as conn:  # the first runner hangs past its lease
        conn.execute(update(run_locks).values(
            lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)
        ))  # fmt: skip
    second = acquire(store, "e|2026-03-05|x", lease_s=60)
    assert second != first
    with pytest.raises(LockLost), store.write() as conn:
        fence(conn, "e|2026-03-05|x", first, 60, "run")
    with store.write() as conn:
        fence(conn, "e|2026-03-05|x", second, 60, "run")


def test_a_dry_run_is_refused_while_a_live_process_runs_the_same_job(store: Store) -> None:
    from cardbatch.engine.locks import HOST
    from cardbatch.engine.runner import identity_of

    request = synthetic_request(DAY, items=100, dry_run=True)
    _plant_lock(store, identity_of(request).lock_key, HOST, os.getpid(), lease_left_s=600)
    before = dump(store)
    with pytest.raises(RunLocked, match="cannot rehearse while it runs"):
        run_job(store, request)
    assert dump(store) == before
