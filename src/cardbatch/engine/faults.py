"""Fault injection for the crash tests: a process that kills itself at a chosen point.

``CARDBATCH_FAULT="<step>:<chunk_no>:<phase>"`` (step may be ``*``) makes the
runner send itself SIGKILL when it reaches that chunk and phase. Phases, in
order: ``listed`` (items listed, chunk_no 0), ``after_process`` (outcomes
computed, nothing written), ``after_post`` (journal entries written),
``before_commit`` (item results and checkpoint written), ``in_commit`` (the
COMMIT statement has started; SQLite only, else like ``before_commit``),
``after_commit`` (the chunk is durable, the next has not begun). Unset, the
hooks cost one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from sqlalchemy import Connection

FAULT_ENV = "CARDBATCH_FAULT"
PHASES = ("listed", "after_process", "after_post", "before_commit", "in_commit", "after_commit")


def _target() -> tuple[str, int, str] | None:
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return None
    step, chunk, phase = spec.split(":")
    if phase not in PHASES:
        raise ValueError(f"{FAULT_ENV}: unknown phase {phase!r} (one of {PHASES})")
    return step, int(chunk), phase


def _matches(step: str, chunk_no: int, phase: str) -> bool:
    target = _target()
    if target is None:
        return False
    t_step, t_chunk, t_phase = target
    return t_phase == phase and t_chunk == chunk_no and t_step in ("*", step)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point(step: str, chunk_no: int, phase: str) -> None:
    if _matches(step, chunk_no, phase):
        _die()


def arm_commit_fault(conn: Connection, step: str, chunk_no: int) -> None:
    """Make the coming COMMIT of this connection kill the process once it has started."""
    if not _matches(step, chunk_no, "in_commit"):
        return
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":

        def on_statement(sql: str) -> None:
            if sql.strip().upper().startswith("COMMIT"):
                _die()

        raw.set_trace_callback(on_statement)
    else:
        _die()
