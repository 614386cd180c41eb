"""``cardbatch run``: start, list, show, resume, stop, abandon runs; purge old item results."""

from __future__ import annotations

import contextlib
import signal
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    err,
    fail,
    fail_on,
    opened_store,
    out,
    state,
)
from cardbatch.engine import EngineError, monitor, operations, registry, repo, retention
from cardbatch.engine.calendar import current_business_date
from cardbatch.engine.runner import AlreadyCompleted, ChunkProgress, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings, SettingError, load_settings
from cardbatch.money import format_fen
from cardbatch.services.actor import utc_now

app = typer.Typer(help="Batch runs: start, watch, resume, stop, abandon.", no_args_is_help=True)

RUNS_LIST_MAX = 1000

DateOpt = Annotated[str, typer.Option("--date", help="Business date YYYY-MM-DD.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="试算: compute everything, commit nothing.")
]
ChunkOpt = Annotated[int | None, typer.Option("--chunk-size", help="Items per chunk.")]
RateOpt = Annotated[
    str | None, typer.Option("--failure-rate-max", help="Stop above this % of failed items.")
]
InboxOpt = Annotated[Path | None, typer.Option("--inbox", help="Folder of input files.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder for output files.")]
ProgressOpt = Annotated[
    bool, typer.Option("--progress", help="One progress line per chunk on stderr.")
]


def parse_day(text: str, option: str = "--date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: not a date (YYYY-MM-DD): {text!r}")


def settings_for(
    chunk_size: int | None = None,
    failure_rate_max: str | None = None,
    inbox: Path | None = None,
    out_dir: Path | None = None,
) -> EngineSettings:
    try:
        rate = Decimal(failure_rate_max) if failure_rate_max is not None else None
        return load_settings().with_overrides(
            chunk_size=chunk_size, failure_rate_max_pct=rate, inbox_dir=inbox, out_dir=out_dir
        )
    except (SettingError, ArithmeticError) as exc:
        fail(f"setting: {exc}")


def engine_errors() -> contextlib.AbstractContextManager[None]:
    """Operational engine errors become one line on stderr and exit 2."""
    return fail_on(EngineError)


def _sigterm(_signum: int, _frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def print_progress(p: ChunkProgress) -> None:
    rate = p.step_items_done / p.elapsed_s if p.elapsed_s > 0 else 0.0
    sys.stderr.write(
        f"progress run={p.run_id} step={p.step_name} chunk={p.chunk_no} "
        f"items={p.step_items_done}/{p.step_items_total} rate={rate:.0f}/s\n"
    )
    sys.stderr.flush()


def execute(
    ctx: typer.Context, request: RunRequest, progress: bool, db: str | None, json_: bool
) -> None:
    """Run a request and print its report; exit 1 unless the run completed."""
    st = state(ctx, db, json_)
    signal.signal(signal.SIGTERM, _sigterm)
    with opened_store(st) as store, engine_errors():
        try:
            report = run_job(store, request, print_progress if progress else None)
        except AlreadyCompleted as exc:
            if st.json:
                emit_json({"status": "already_completed", "message": str(exc)})
            else:
                err.print(str(exc), markup=False)
            return
    show_report(report, st.json)
    if report.status != "completed":
        raise typer.Exit(EXIT_FOUND_WRONG)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--param must be KEY=VALUE, got {pair!r}")
        params[key] = value
    return params


@app.command("start")
def start_cmd(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Job name (see `cardbatch run jobs`).")],
    day: DateOpt,
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE.")] = None,
    dry_run: DryRunOpt = False,
    rerun: Annotated[bool, typer.Option("--rerun", help="Run a completed job again.")] = False,
    chunk_size: ChunkOpt = None,
    failure_rate_max: RateOpt = None,
    inbox: InboxOpt = None,
    out_dir: OutOpt = None,
    progress: ProgressOpt = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Run a job for a business date (or continue its unfinished run)."""
    st = state(ctx, db, json_, as_)
    with engine_errors():
        definition = registry.get_job(job)
    settings = settings_for(chunk_size, failure_rate_max, inbox, out_dir)
    request = RunRequest(definition, parse_day(day), parse_params(param or []), actor_for(st),
                         settings, dry_run=dry_run, rerun=rerun)  # fmt: skip
    execute(ctx, request, progress, db, json_)


@app.command("resume")
def resume_cmd(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run to continue.")],
    failure_rate_max: RateOpt = None,
    inbox: InboxOpt = None,
    out_dir: OutOpt = None,
    progress: ProgressOpt = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Continue a stopped, failed or dead run from its last committed chunk."""
    st = state(ctx, db, json_, as_)
    with opened_store(st) as store, store.read() as conn:
        run = repo.get_run(conn, run_id)
    if run is None:
        fail(f"no run {run_id!r}")
    with engine_errors():
        definition = registry.get_job(run.job_name)
    settings = settings_for(None, failure_rate_max, inbox, out_dir)
    request = RunRequest(definition, run.business_date, run.params, actor_for(st), settings,
                         resume_run_id=run_id)  # fmt: skip
    execute(ctx, request, progress, db, json_)


@app.command("jobs")
def jobs_cmd(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The registered jobs, with their steps and place in the night."""
    st = state(ctx, None, json_)
    jobs = [{"name": j.name, "description": j.description, "night_order": j.night_order,
             "steps": [{"name": s.name, "after": list(s.after)} for s in j.ordered_steps()]}
            for j in registry.all_jobs()]  # fmt: skip
    if st.json:
        emit_json(jobs)
        return
    for j in jobs:
        out.print(f"{j['name']}: {j['description']} (night order {j['night_order']})")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job")] = None,
    day: Annotated[str | None, typer.Option("--date")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    limit: Annotated[int, typer.Option(help="Most runs to show.")] = 50,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Runs, newest first."""
    st = state(ctx, db, json_)
    if not 1 <= limit <= RUNS_LIST_MAX:
        fail(f"--limit must be 1..{RUNS_LIST_MAX}")
    with opened_store(st) as store, store.read() as conn:
        runs = repo.list_runs(conn, limit, job, parse_day(day) if day else None, status)
    if st.json:
        emit_json([{"run_id": r.run_id, "job": r.job_name, "business_date": r.business_date,
                    "status": r.status, "items_read": r.items_read, "items_total": r.items_total,
                    "items_failed": r.items_failed, "reason": r.reason,
                    "started_at": r.started_at, "ended_at": r.ended_at} for r in runs])  # fmt: skip
        return
    table = Table(title="runs")
    for column in ("run", "job", "date", "status", "items", "failed", "reason"):
        table.add_column(column)
    for r in runs:
        items = f"{r.items_read}/{r.items_total}"
        table.add_row(r.run_id, r.job_name, r.business_date.isoformat(), r.status, items,
                      str(r.items_failed), r.reason or "")  # fmt: skip
    out.print(table)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A run's steps, counts, sums, timings, rate, ETA and failures by reason code."""
    st = state(ctx, db, json_)
    with opened_store(st) as store, engine_errors(), store.read() as conn:
        report = monitor.build_report(conn, run_id, sample_max=load_settings().sample_items_max)
    show_report(report, st.json)


@app.command("stop")
def stop_cmd(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Stop a run after its current chunk (or mark a dead run stopped)."""
    st = state(ctx, db, json_, as_)
    with opened_store(st) as store, engine_errors():
        outcome = operations.stop_run(store, run_id, actor_for(st))
    if st.json:
        emit_json({"run_id": run_id, "outcome": outcome})
    else:
        out.print(f"run {run_id}: {outcome}")


@app.command("abandon")
def abandon_cmd(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Give up a run that is not running; the next start of its job and date is a new run."""
    st = state(ctx, db, json_, as_)
    with opened_store(st) as store, engine_errors():
        operations.abandon_run(store, run_id, actor_for(st), reason)
    if st.json:
        emit_json({"run_id": run_id, "status": "abandoned", "reason": reason})
    else:
        out.print(f"run {run_id} abandoned: {reason}")


@app.command("purge")
def purge_cmd(
    ctx: typer.Context,
    retention_days: Annotated[int | None, typer.Option(help="Keep this many days.")] = None,
    batch_rows: Annotated[int | None, typer.Option(help="Rows per transaction.")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Delete item results of finished runs older than the retention period, in batches."""
    st = state(ctx, db, json_, as_)
    try:
        settings = load_settings().with_overrides(
            retention_days=retention_days, purge_batch_rows=batch_rows
        )
    except SettingError as exc:
        fail(str(exc))
    with opened_store(st) as store:
        with store.read() as conn:
            today = current_business_date(conn) or utc_now().date()
        result = retention.purge_item_results(store, today, settings.retention_days,
                                              settings.purge_batch_rows, actor_for(st))  # fmt: skip
    if st.json:
        emit_json(result)
    else:
        out.print(f"purged {result.rows_deleted} item results of runs before {result.before} "
                  f"in {result.batches} batches")  # fmt: skip


def show_report(report: monitor.RunReport, as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    mode = " (dry run: nothing committed)" if report.dry_run else ""
    out.print(
        f"[bold]{report.run_id}[/bold] {report.job_name} {report.business_date}: "
        f"{report.status}{mode}; items {report.items_read}/{report.items_total} "
        f"({report.progress_pct}%): {report.items_succeeded} succeeded, {report.items_failed} "
        f"failed, {report.items_skipped} skipped"
    )
    if report.reason:
        out.print(f"reason: {report.reason}")
    table = Table(title="steps")
    for column in ("step", "status", "items", "ok", "failed", "skipped", "entries", "debits",
                   "credits", "work s", "rate/s", "ETA s"):  # fmt: skip
        table.add_column(column)
    for s in report.steps:
        table.add_row(s.name, s.status, f"{s.items_read}/{s.items_total}", str(s.items_succeeded),
                      str(s.items_failed), str(s.items_skipped), str(s.entries_written),
                      format_fen(s.debits_fen), format_fen(s.credits_fen),
                      f"{s.work_ms / 1000:.1f}", str(s.rate_items_per_s or ""),
                      str(s.eta_s if s.eta_s is not None else ""))  # fmt: skip
    out.print(table)
    for f in report.failures:
        out.print(f"  {f['step']} {f['status']} {f['reason_code']}: {f['items']} items, "
                  f"{format_fen(f['amount_fen'])}")  # fmt: skip
    for file in report.files:
        verb = "wrote" if file["written"] else "would write"
        out.print(f"  {verb} {file['path']} ({file['rows']} rows, {file['bytes']} bytes)")
