"""Monitoring data of a run: progress, rate, ETA, per-step timings, failures by reason code.

Rates use the time spent inside committed chunks (``work_ms``), so a run that
sat dead for an hour before it was resumed still shows its real speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from cardbatch.engine import repo
from cardbatch.engine.job import EngineError


class UnknownRun(EngineError):
    """No run has this id."""


@dataclass(frozen=True)
class StepReport:
    name: str
    status: str
    items_total: int
    items_read: int
    items_succeeded: int
    items_failed: int
    items_skipped: int
    entries_written: int
    postings_written: int
    debits_fen: int
    credits_fen: int
    amount_fen: int
    tallies: dict[str, int]
    chunks_done: int
    started_at: datetime | None
    ended_at: datetime | None
    work_ms: int
    rate_items_per_s: float | None
    eta_s: float | None


@dataclass(frozen=True)
class RunReport:
    run_id: str
    job_name: str
    business_date: date
    params: dict[str, str]
    rerun_no: int
    status: str
    dry_run: bool
    reason: str | None
    attempts: int
    items_total: int
    items_read: int
    items_succeeded: int
    items_failed: int
    items_skipped: int
    progress_pct: float
    steps: list[StepReport]
    failures: list[dict[str, Any]]
    sample: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, object]] = field(default_factory=list)
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def balanced_counts(self) -> bool:
        """items read = succeeded + failed + skipped (each with a reason)."""
        return self.items_read == self.items_succeeded + self.items_failed + self.items_skipped


def step_report(row: repo.StepRow) -> StepReport:
    t = row.totals
    rate = t.items_read / (row.work_ms / 1000) if row.work_ms > 0 else None
    left = t.items_total - t.items_read
    eta = left / rate if rate else (0.0 if left == 0 else None)
    return StepReport(
        t.step_name, t.status, t.items_total, t.items_read, t.items_succeeded, t.items_failed,
        t.items_skipped, t.entries_written, t.postings_written, t.debits_fen, t.credits_fen,
        t.amount_fen, t.tallies, row.chunks_done, row.started_at, row.ended_at, row.work_ms,
        round(rate, 1) if rate is not None else None, round(eta, 1) if eta is not None else None,
    )  # fmt: skip


def build_report(
    conn: Connection,
    run_id: str,
    dry_run: bool = False,
    files: list[dict[str, object]] | None = None,
    sample_max: int = 0,
) -> RunReport:
    run = repo.get_run(conn, run_id)
    if run is None:
        raise UnknownRun(f"no run {run_id!r}")
    steps = [step_report(r) for r in repo.step_rows(conn, run_id).values()]
    failures = [
        {"step": s, "status": st, "reason_code": code, "items": n, "amount_fen": amount}
        for s, st, code, n, amount in repo.failures_by_reason(conn, run_id)
    ]
    total = run.items_total
    progress = round(100 * run.items_read / total, 1) if total else 0.0
    return RunReport(
        run.run_id, run.job_name, run.business_date, run.params, run.rerun_no, run.status.value,
        dry_run, run.reason, run.attempts, run.items_total, run.items_read, run.items_succeeded,
        run.items_failed, run.items_skipped, progress, steps, failures,
        repo.sample_results(conn, run_id, sample_max) if sample_max else [], files or [],
        run.created_at, run.started_at, run.ended_at,
    )  # fmt: skip
