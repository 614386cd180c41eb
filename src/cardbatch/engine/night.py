"""The night as one command: every job due on a business date, in order, then reconciliation.

For each date (the next business date, a given one, or every missed one up to
``--through``, in order), the night runs each registered night job that is
due, skipping jobs whose run for that date already completed. When all
completed it writes the end-of-day reconciliation (trial balance, GL summary,
control totals, checks) to ``<out>/night/<date>/`` and, if the checks agree,
closes the date in the business calendar. The first date that does not
finish stops the night; running it again continues where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cardbatch.engine import calendar, reconcile, registry
from cardbatch.engine.job import Job
from cardbatch.engine.locks import RunLocked
from cardbatch.engine.monitor import RunReport
from cardbatch.engine.repo import latest_run
from cardbatch.engine.runner import (
    AlreadyCompleted,
    OnChunk,
    RunRequest,
    identity_of,
    run_job,
    write_atomically,
)
from cardbatch.engine.settings import EngineSettings
from cardbatch.store import Store
from cardbatch.store.statistics import NIGHT_READS, refresh_statistics


@dataclass
class NightJob:
    job: str
    outcome: str  # completed | already_completed | not_due | failed | stopped | locked
    run_id: str | None = None
    reason: str | None = None
    report: RunReport | None = None


@dataclass
class NightDate:
    business_date: date
    jobs: list[NightJob] = field(default_factory=list)
    reconciliation: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)
    closed: bool = False

    @property
    def ok(self) -> bool:
        finished = all(
            j.outcome in ("completed", "already_completed", "not_due") for j in self.jobs
        )
        agree = self.reconciliation is not None and bool(self.reconciliation["agree"])
        return finished and agree


@dataclass
class NightReport:
    dry_run: bool
    dates: list[NightDate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.dates)


def run_night(
    store: Store,
    settings: EngineSettings,
    actor: str,
    day: date | None = None,
    through: date | None = None,
    dry_run: bool = False,
    on_chunk: OnChunk | None = None,
) -> NightReport:
    with store.read() as conn:
        current = calendar.current_business_date(conn)
    dates = calendar.dates_to_run(current, day, through)
    report = NightReport(dry_run)
    for business_date in dates:
        night = _one_date(store, settings, actor, business_date, dry_run, on_chunk)
        report.dates.append(night)
        if not night.ok:
            break
    return report


def _one_date(
    store: Store,
    settings: EngineSettings,
    actor: str,
    business_date: date,
    dry_run: bool,
    on_chunk: OnChunk | None,
) -> NightDate:
    night = NightDate(business_date)
    if not dry_run:  # the night reads what the day loaded: plan with its figures
        with store.write() as conn:
            refresh_statistics(conn, NIGHT_READS)
    for job in registry.night_jobs():
        outcome = _run_one(store, settings, actor, job, business_date, dry_run, on_chunk)
        night.jobs.append(outcome)
        if outcome.outcome not in ("completed", "already_completed", "not_due"):
            return night
    with store.read() as conn:
        rec = reconcile.reconcile(conn, business_date)
    night.reconciliation = {"agree": rec.agree, "checks": [c.__dict__ for c in rec.checks],
                            "total_debit_balances_fen": rec.total_debit_balances_fen,
                            "total_credit_balances_fen": rec.total_credit_balances_fen}  # fmt: skip
    folder = settings.out_dir / "night" / business_date.isoformat()
    outputs = {
        "trial_balance.csv": reconcile.trial_balance_csv(rec),
        "gl_summary.csv": reconcile.gl_summary_csv(rec),
        "reconciliation.json": reconcile.reconciliation_json(rec),
    }
    for name, content in outputs.items():
        if not dry_run:
            write_atomically(folder / name, content.encode())
        night.files.append(str(folder / name))
    if rec.agree and not dry_run:
        with store.write() as conn:
            calendar.advance_to(conn, business_date, actor)
        night.closed = True
    return night


def _run_one(
    store: Store,
    settings: EngineSettings,
    actor: str,
    job: Job,
    business_date: date,
    dry_run: bool,
    on_chunk: OnChunk | None,
) -> NightJob:
    if not job.due(business_date):
        return NightJob(job.name, "not_due")
    request = RunRequest(job, business_date, {}, actor, settings, dry_run=dry_run)
    try:
        run = run_job(store, request, on_chunk)
    except AlreadyCompleted:
        with store.read() as conn:
            latest = latest_run(conn, identity_of(request))
        return NightJob(job.name, "already_completed", latest.run_id if latest else None)
    except RunLocked as exc:
        return NightJob(job.name, "locked", reason=str(exc))
    return NightJob(job.name, run.status, run.run_id, run.reason, run)
