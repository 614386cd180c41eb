"""Operator actions on runs: stop a run, abandon it (with a reason); both are audited."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from cardbatch.engine import locks, repo
from cardbatch.engine.job import EngineError
from cardbatch.engine.monitor import UnknownRun
from cardbatch.engine.repo import RunRow, RunStatus
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables_engine import run_locks

REASON_LEN_MAX = 500


def _run(conn: Connection, run_id: str) -> RunRow:
    run = repo.get_run(conn, run_id)
    if run is None:
        raise UnknownRun(f"no run {run_id!r}")
    if run.status in repo.FINAL_STATUSES:
        raise EngineError(f"run {run_id} is {run.status}; nothing to change")
    return run


def _live_holder(conn: Connection, run: RunRow) -> locks.LockHolder | None:
    """The process running this run now, or None (a stale lock is removed)."""
    held = locks.holder(conn, run.identity.lock_key)
    if held is None:
        return None
    if locks.is_stale(held, utc_now()):
        conn.execute(delete(run_locks).where(run_locks.c.lock_key == held.lock_key))
        return None
    return held


def stop_run(store: Store, run_id: str, actor: str) -> str:
    """Ask a live runner to stop after its current chunk, or mark a dead run stopped."""
    with store.write() as conn:
        run = _run(conn, run_id)
        if _live_holder(conn, run) is not None:
            repo.request_stop(conn, run_id)
            audit.record(conn, actor, "run.stop", run_id, live=True)
            return "stop requested; the runner stops after its current chunk"
        repo.set_status(conn, run_id, RunStatus.STOPPED, utc_now(), f"stopped by {actor}")
        audit.record(conn, actor, "run.stop", run_id, live=False)
        return "stopped"


def abandon_run(store: Store, run_id: str, actor: str, reason: str) -> None:
    """Give up a run that is not running: it is never resumed; a new run may follow."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_LEN_MAX:
        raise EngineError(f"a reason of 1..{REASON_LEN_MAX} characters is required")
    with store.write() as conn:
        run = _run(conn, run_id)
        held = _live_holder(conn, run)
        if held is not None:
            raise locks.RunLocked(f"run {run_id} is running ({held.describe()}); stop it first")
        repo.set_status(conn, run_id, RunStatus.ABANDONED, utc_now(),
                        f"abandoned by {actor}: {reason}")  # fmt: skip
        audit.record(conn, actor, "run.abandon", run_id, reason=reason)
