"""Batch runs as the console shows them, read from the engine's run repository.

A run's progress, rate and ETA come from the counters the engine commits with
every chunk (``job_runs``, ``run_steps``), and its failures by reason from the
item results of the run; a page that re-reads them while a run is going
follows it chunk by chunk. The rate counts only the time spent inside
committed chunks (as ``cardbatch run show`` does), so a run resumed after a
pause still shows its real speed. Dry runs roll back and so never appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from cardbatch.engine import monitor, repo
from cardbatch.engine.monitor import RunReport
from cardbatch.store import Store


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    job: str
    business_date: str
    status: str  # starting | running | completed | failed | stopped | abandoned
    items_total: int  # of the steps started so far
    items_done: int  # read: succeeded + failed + skipped
    items_failed: int
    items_skipped: int
    progress_pct: float
    rate_items_per_s: float | None  # None until a chunk has committed
    eta_s: float | None  # None while the rate is unknown or the run is not running
    started_at: datetime | None
    finished_at: datetime | None
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    skips_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunList:
    runs: list[RunSummary]


class UnknownRun(LookupError):
    """No run has this id."""


def _summary(conn: Connection, run: repo.RunRow) -> RunSummary:
    work_ms = sum(s.work_ms for s in repo.step_rows(conn, run.run_id).values())
    rate = run.items_read / (work_ms / 1000) if work_ms > 0 else None
    left = max(0, run.items_total - run.items_read)
    eta: float | None = None
    if run.status is repo.RunStatus.RUNNING and rate:
        eta = round(left / rate, 1)
    failures: dict[str, int] = {}
    skips: dict[str, int] = {}
    for _step, status, code, items, _amount in repo.failures_by_reason(conn, run.run_id):
        into = failures if status == "failed" else skips
        into[code] = into.get(code, 0) + items
    total = run.items_total
    return RunSummary(
        run.run_id, run.job_name, run.business_date.isoformat(), run.status.value, total,
        run.items_read, run.items_failed, run.items_skipped,
        round(100 * run.items_read / total, 1) if total else 0.0,
        round(rate, 1) if rate is not None else None, eta, run.started_at, run.ended_at,
        failures, skips,
    )  # fmt: skip


def list_runs(store: Store, rows_max: int) -> RunList:
    """The newest ``rows_max`` runs, newest first, with progress and failures by reason."""
    with store.read() as conn:
        return RunList([_summary(conn, run) for run in repo.list_runs(conn, rows_max)])


def run_detail(store: Store, run_id: str) -> RunReport:
    """One run with its steps (progress, rate, ETA each) and failures by step and reason."""
    with store.read() as conn:
        try:
            return monitor.build_report(conn, run_id)
        except monitor.UnknownRun as exc:
            raise UnknownRun(run_id) from exc
