"""``cardbatch cycle`` and ``cardbatch statement``: run the nightly card cycle, read statements."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

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
from cardbatch.cli.run import DryRunOpt, engine_errors, parse_day, settings_for
from cardbatch.domain.cycle.instalments import InstalmentError
from cardbatch.engine.calendar import CalendarError
from cardbatch.jobs.cycle_instalments import (
    InstalmentRefused,
    convert_to_instalments,
    pay_off_instalments,
)
from cardbatch.jobs.cycle_service import (
    CycleError,
    account_status,
    explain,
    run_cycle,
    statement_of,
)
from cardbatch.money import format_fen, parse_rate, parse_yuan
from cardbatch.services.actor import utc_now
from cardbatch.statements.read import StatementError, customer_statement
from cardbatch.statements.render import FORMATS, render, write_statement

app = typer.Typer(help="The nightly card cycle.", no_args_is_help=True)
statement_app = typer.Typer(help="Card statements.", no_args_is_help=True)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="Run this business date.")] = None,
    through: Annotated[
        str | None, typer.Option("--through", help="Catch up every date up to this one.")
    ] = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Run the card cycle for the next business date (or --date, or every date --through)."""
    st = state(ctx, db, json_, as_)
    one = parse_day(day) if day else None
    last = parse_day(through, "--through") if through else None
    with opened_store(st) as store, engine_errors(), fail_on(CalendarError):
        done = run_cycle(store, settings_for(), actor_for(st), one, last, dry_run)
    if st.json:
        emit_json({"dry_run": dry_run, "dates": done})
    else:
        for d in done:
            tallies = ""
            if d.report is not None:
                tallies = " ".join(
                    f"{s.name}={s.items_succeeded}/{s.items_total}" for s in d.report.steps
                )
            reason = f" ({d.report.reason})" if d.report is not None and d.report.reason else ""
            line = f"{d.business_date}: {d.status} {d.run_id or ''} {tallies}{reason}"
            out.print(line, markup=False)
    if any(d.status not in ("completed", "already_completed") for d in done):
        raise typer.Exit(EXIT_FOUND_WRONG)


@app.command("explain")
def explain_cmd(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Card account id.")],
    day: Annotated[str, typer.Option("--date", help="Statement date YYYY-MM-DD.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Why the statement's interest, late fee and minimum payment came out as they did."""
    st = state(ctx, db, json_)
    with (
        opened_store(st) as store,
        fail_on(CycleError, code=EXIT_FOUND_WRONG),
        store.read() as conn,
    ):
        lines = explain(conn, account, parse_day(day))
    if st.json:
        emit_json({"account_id": account, "statement_date": day, "lines": lines})
    else:
        for line in lines:
            out.print(f"{line['topic']}: {line['text']}", markup=False)


@statement_app.command("show")
def show_cmd(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Card account id.")],
    day: Annotated[
        str | None, typer.Option("--date", help="Statement date (default latest).")
    ] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A stored statement: its fields and the lines of its period."""
    st = state(ctx, db, json_)
    with (
        opened_store(st) as store,
        fail_on(CycleError, code=EXIT_FOUND_WRONG),
        store.read() as conn,
    ):
        found = statement_of(conn, account, parse_day(day) if day else None)
    if st.json:
        emit_json(found)
        return
    for key, value in found.items():
        if key == "lines":
            continue
        text = format_fen(value) if key.endswith("_fen") else str(value)
        out.print(f"{key}: {text}", markup=False)
    for line in found["lines"]:
        out.print(f"  {line['date']} {line['kind']:<13} {line['component']:<10} "
                  f"{format_fen(line['amount_fen']):>12}", markup=False)  # fmt: skip


@statement_app.command("render")
def render_cmd(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Card account id.")],
    day: Annotated[str, typer.Option("--date", help="Statement date YYYY-MM-DD.")],
    format_: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (mode 0600).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """The customer's statement as HTML or PDF, on stdout or in --out FILE."""
    st = state(ctx, db)
    if format_ not in FORMATS:
        fail(f"--format: must be one of {', '.join(FORMATS)}, got {format_!r}")
    if format_ == "pdf" and out_file is None and sys.stdout.isatty():
        fail("--format pdf: give --out FILE (or redirect stdout to a file)")
    on = parse_day(day)
    with (
        opened_store(st) as store,
        fail_on(StatementError, code=EXIT_FOUND_WRONG),
        store.read() as conn,
    ):
        found = customer_statement(conn, account, on)
    content = render(found, format_)
    if out_file is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    try:
        write_statement(out_file, content)
    except OSError as exc:
        fail(f"--out {out_file}: {exc.strerror or exc}")
    err.print(f"statement {account} {on} written to {out_file} ({len(content)} bytes)",
              markup=False)  # fmt: skip


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Card account id.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The account's cycle state, delinquency transitions and auto-repayment attempts."""
    st = state(ctx, db, json_)
    with (
        opened_store(st) as store,
        fail_on(CycleError, code=EXIT_FOUND_WRONG),
        store.read() as conn,
    ):
        found = account_status(conn, account)
    if st.json:
        emit_json(found)
        return
    for key, value in found.items():
        if key not in ("delinquency_history", "autopay_attempts", "status_actions"):
            out.print(f"{key}: {value}", markup=False)
    for h in found["delinquency_history"]:
        out.print(f"  {h['business_date']} DPD {h['dpd']} {h['previous_bucket']} -> {h['bucket']} "
                  f"{h['five_category']}", markup=False)  # fmt: skip
    for c in found["status_actions"]:
        out.print(f"  {c['business_date']} status {c['from_status']} -> {c['to_status']}: "
                  f"{c['reason']}", markup=False)  # fmt: skip
    for a in found["autopay_attempts"]:
        out.print(f"  autopay {a['attempt_date']} {a['status']} {format_fen(a['amount_fen'])} "
                  f"{a['reason_code'] or ''}", markup=False)  # fmt: skip


@app.command("instalment")
def instalment_cmd(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Card account id.")],
    amount: Annotated[str, typer.Option("--amount", help="Amount to convert, in yuan.")],
    months: Annotated[int, typer.Option("--months", help="3, 6, 9, 12, 18, 24 or 36.")],
    day: Annotated[str, typer.Option("--date", help="Business date of the conversion.")],
    fee_percent: Annotated[
        str, typer.Option("--fee-percent", help="Monthly fee, percent of the principal.")
    ] = "0",
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Convert an amount of the card's purchases into monthly instalments (账单分期)."""
    st = state(ctx, db, json_, as_)
    try:
        amount_fen = parse_yuan(amount)
        percent = parse_rate(fee_percent)
    except ValueError as exc:
        fail(f"--amount/--fee-percent: {exc}")
    with (
        opened_store(st) as store,
        fail_on(InstalmentRefused, InstalmentError, code=EXIT_FOUND_WRONG),
        store.write() as conn,
    ):
        done = convert_to_instalments(conn, account, amount_fen, months, percent,
                                      parse_day(day), actor_for(st), utc_now())  # fmt: skip
    if st.json:
        emit_json(done)
    else:
        out.print(f"{done.plan_id}: {format_fen(done.principal_fen)} in {done.instalments} "
                  f"instalments, fee {format_fen(done.fee_fen)}, first billed "
                  f"{done.first_bill_date}", markup=False)  # fmt: skip


@app.command("instalment-payoff")
def instalment_payoff_cmd(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(help="Instalment plan id (ACCOUNT:N).")],
    day: Annotated[str, typer.Option("--date", help="Business date of the payoff.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Pay an instalment plan off early (提前还款): the next statement bills what is left."""
    st = state(ctx, db, json_, as_)
    with (
        opened_store(st) as store,
        fail_on(InstalmentRefused, code=EXIT_FOUND_WRONG),
        store.write() as conn,
    ):
        done = pay_off_instalments(conn, plan, parse_day(day))
    if st.json:
        emit_json(done)
    else:
        out.print(f"{done.plan_id}: {format_fen(done.principal_fen)} of principal and "
                  f"{format_fen(done.fee_fen)} of fees billed on {done.bill_date}; "
                  f"{format_fen(done.waived_fee_fen)} of fees waived ({done.fee_policy})",
                  markup=False)  # fmt: skip
