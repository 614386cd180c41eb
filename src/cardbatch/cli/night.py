"""``cardbatch night run``: every job due on the business date, then the reconciliation."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    opened_store,
    out,
    state,
)
from cardbatch.cli.run import (
    ChunkOpt,
    DryRunOpt,
    InboxOpt,
    OutOpt,
    ProgressOpt,
    RateOpt,
    _sigterm,
    engine_errors,
    parse_day,
    print_progress,
    settings_for,
)
from cardbatch.engine.night import NightReport, run_night

app = typer.Typer(help="The nightly batch as one command.", no_args_is_help=True)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="Run this business date.")] = None,
    through: Annotated[
        str | None, typer.Option("--through", help="Catch up every date up to this one.")
    ] = None,
    dry_run: DryRunOpt = False,
    chunk_size: ChunkOpt = None,
    failure_rate_max: RateOpt = None,
    inbox: InboxOpt = None,
    out_dir: OutOpt = None,
    progress: ProgressOpt = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Run the night for the next business date (or --date, or every date --through)."""
    st = state(ctx, db, json_, as_)
    settings = settings_for(chunk_size, failure_rate_max, inbox, out_dir)
    one = parse_day(day) if day else None
    last = parse_day(through, "--through") if through else None
    signal.signal(signal.SIGTERM, _sigterm)
    with opened_store(st) as store, engine_errors():
        report = run_night(store, settings, actor_for(st), one, last, dry_run,
                           print_progress if progress else None)  # fmt: skip
    if st.json:
        emit_json(report)
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(EXIT_FOUND_WRONG)


def _print(report: NightReport) -> None:
    for night in report.dates:
        closed = "closed" if night.closed else "NOT closed"
        out.print(f"[bold]night {night.business_date}[/bold]: {closed}")
        for job in night.jobs:
            detail = f" ({job.reason})" if job.reason else ""
            out.print(f"  {job.job}: {job.outcome} {job.run_id or ''}{detail}")
        if night.reconciliation is not None:
            for check in night.reconciliation["checks"]:
                mark = "ok " if check["ok"] else "BAD"
                out.print(f"  [{mark}] {check['name']}: {check['detail']}", markup=False)
        for path in night.files:
            out.print(f"  {'would write' if report.dry_run else 'wrote'} {path}")
