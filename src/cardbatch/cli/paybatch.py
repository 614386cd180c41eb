"""``cardbatch payroll|collect|batch|loans``: batch payment files through their lifecycle.

Thin: every command calls :mod:`cardbatch.paybatch` and prints a line, a table or one JSON
document. Exit codes: 0 done; 1 the file was checked and rejected; 2 bad input or a
refused action (unknown batch, not approved, maker-checker).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    State,
    actor_for,
    emit_json,
    fail,
    fail_on,
    opened_store,
    out,
    state,
    store_for,
)
from cardbatch.cli.run import engine_errors, print_progress, settings_for
from cardbatch.jobs.loans_deduct import deduct
from cardbatch.money import MoneyError, format_fen, parse_yuan
from cardbatch.paybatch import (
    BatchStatus,
    BatchSummary,
    PaybatchError,
    SubmitRequest,
    approve,
    list_batches,
    run_batch,
    show,
    submit,
    write_batch_returns,
)
from cardbatch.paybatch.demo import DemoBatch
from cardbatch.paybatch.loans import import_schedules, set_product, show_loan
from cardbatch.paybatch.mandates import add_mandate, import_mandates, list_mandates
from cardbatch.paybatch.model import SETTINGS
from cardbatch.payfiles.model import FORMATS, Kind

payroll_app = typer.Typer(help="Payroll files (代发工资): submit.", no_args_is_help=True)
collect_app = typer.Typer(
    help="Fee collection files (批量扣费): submit, mandates.", no_args_is_help=True
)
mandate_app = typer.Typer(help="Debit mandates (授权) for collections.", no_args_is_help=True)
batch_app = typer.Typer(
    help="Submitted batches: list, show, approve, run, returns.", no_args_is_help=True
)
collect_app.add_typer(mandate_app, name="mandate")
loans_app = typer.Typer(
    help="Loan instalment deduction (贷款扣款): schedules, nightly step.", no_args_is_help=True
)
product_app = typer.Typer(help="Loan products' deduction settings.", no_args_is_help=True)
loans_app.add_typer(product_app, name="product")

FileArg = Annotated[Path, typer.Argument(help="The payroll or collection file.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Business date YYYY-MM-DD (default: today).")
]
FormatOpt = Annotated[str, typer.Option("--format", help=f"auto or one of {', '.join(FORMATS)}.")]
CountOpt = Annotated[int | None, typer.Option("--count", help="Declared row count.")]
TotalOpt = Annotated[str | None, typer.Option("--total", help="Declared total in yuan.")]
AllowDateOpt = Annotated[
    bool, typer.Option("--allow-date", help="Accept a header date other than the business date.")
]
RowLimitOpt = Annotated[
    str | None, typer.Option("--row-limit", help="Per-row amount limit in yuan.")
]
BatchIdArg = Annotated[int, typer.Argument(help="Batch id.")]


def _date(text: str | None, option: str = "--date") -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date YYYY-MM-DD")


def _yuan(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_yuan(text)
    except MoneyError as exc:
        fail(f"{option} {text!r}: {exc}")


def _submit(
    st: State,
    kind: Kind,
    path: Path,
    party: str,
    date_text: str | None,
    fmt: str,
    count: int | None,
    total: str | None,
    allow_date: bool,
    row_limit: str | None,
) -> None:
    if not path.is_file():
        fail(f"{path}: no such file")
    if fmt != "auto" and fmt not in FORMATS:
        fail(f"--format must be auto or one of {', '.join(FORMATS)}")
    limit_fen = _yuan(row_limit, "--row-limit") or SETTINGS["amount_fen_max_per_row"][0]
    request = SubmitRequest(
        path=path,
        kind=kind,
        party_account=party,
        business_date=_date(date_text),
        fmt=fmt,  # type: ignore[arg-type]
        declared_count=count,
        declared_total_fen=_yuan(total, "--total"),
        allow_date=allow_date,
        amount_fen_max_per_row=limit_fen,
    )
    store = store_for(st)
    try:
        outcome = submit(store, request, actor_for(st))
    finally:
        store.dispose()
    rejection = outcome.rejection
    if st.json:
        emit_json(
            {
                "batch_id": outcome.batch_id,
                "status": outcome.status,
                "row_count": outcome.row_count,
                "total_fen": outcome.total_fen,
                "reject_code": rejection.code if rejection else None,
                "reject_reason": rejection.reason if rejection else None,
            }
        )
    elif rejection is None:
        out.print(
            f"batch {outcome.batch_id} validated: {outcome.row_count} rows, "
            f"total {format_fen(outcome.total_fen)}; next: another user runs "
            f"`cardbatch batch approve {outcome.batch_id}`"
        )
    else:
        out.print(
            f"batch {outcome.batch_id} [red]rejected[/red] ({rejection.code}): {rejection.reason}"
        )
    if rejection is not None:
        raise typer.Exit(EXIT_FOUND_WRONG)


@payroll_app.command("submit")
def payroll_submit(
    ctx: typer.Context,
    path: FileArg,
    employer: Annotated[str, typer.Option("--employer", help="Employer's deposit account.")],
    date_: DateOpt = None,
    fmt: FormatOpt = "auto",
    count: CountOpt = None,
    total: TotalOpt = None,
    allow_date: AllowDateOpt = False,
    row_limit: RowLimitOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Submit a payroll file: whole-file checks, then validated (or rejected with a reason)."""
    st = state(ctx, db, json_, as_)
    _submit(st, "payroll", path, employer, date_, fmt, count, total, allow_date, row_limit)


@collect_app.command("submit")
def collect_submit(
    ctx: typer.Context,
    path: FileArg,
    biller: Annotated[str, typer.Option("--biller", help="Biller's deposit account.")],
    date_: DateOpt = None,
    fmt: FormatOpt = "auto",
    count: CountOpt = None,
    total: TotalOpt = None,
    allow_date: AllowDateOpt = False,
    row_limit: RowLimitOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Submit a fee-collection file: whole-file checks, then validated or rejected."""
    st = state(ctx, db, json_, as_)
    _submit(st, "collection", path, biller, date_, fmt, count, total, allow_date, row_limit)


@mandate_app.command("add")
def mandate_add(
    ctx: typer.Context,
    biller: Annotated[str, typer.Option("--biller", help="Biller's deposit account.")],
    payer: Annotated[str, typer.Option("--payer", help="Payer's deposit account.")],
    ref: Annotated[str, typer.Option("--ref", help="Mandate id (MndtId).")] = "",
    signed_on: Annotated[str | None, typer.Option("--signed-on", help="YYYY-MM-DD.")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Record that a payer allows a biller to collect from the payer's account."""
    st = state(ctx, db, json_, as_)
    signed = _date(signed_on, "--signed-on") if signed_on else None
    record = _call(st, lambda store: add_mandate(store, biller, payer, actor_for(st), ref, signed))
    if st.json:
        emit_json(record._asdict())
    else:
        out.print(f"mandate recorded: biller {biller} may collect from {payer}")


@mandate_app.command("import")
def mandate_import(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="CSV: biller_account,payer_account,mandate_id,signed_on")
    ],
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Import mandates from a CSV file (all or nothing)."""
    st = state(ctx, db, json_, as_)
    if not path.is_file():
        fail(f"{path}: no such file")
    records = _call(st, lambda store: import_mandates(store, path, actor_for(st)))
    if st.json:
        emit_json({"imported": len(records)})
    else:
        out.print(f"{len(records)} mandates imported from {path.name}")


@mandate_app.command("list")
def mandate_list(
    ctx: typer.Context,
    biller: Annotated[str | None, typer.Option("--biller")] = None,
    limit: Annotated[int, typer.Option(help="Most mandates to show.")] = 100,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The mandates on record."""
    st = state(ctx, db, json_)
    records = _call(st, lambda store: list_mandates(store, biller, max(1, min(limit, 10_000))))
    if st.json:
        emit_json([r._asdict() for r in records])
        return
    table = Table(title="mandates")
    for column in ("biller", "payer", "mandate id", "signed on", "status"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.biller_account, r.payer_account, r.mandate_ref, str(r.signed_on or ""), r.status
        )
    out.print(table)


def _call(st: State, action: Any) -> Any:
    """Run ``action(store)`` and turn a refused request into one line on stderr, exit 2."""
    with opened_store(st) as store, fail_on(PaybatchError):
        return action(store)


@batch_app.command("list")
def batch_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only batches in this status.")] = None,
    kind: Annotated[str | None, typer.Option(help="payroll or collection.")] = None,
    limit: Annotated[int, typer.Option(help="Most batches to show.")] = 50,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The most recent batches first."""
    st = state(ctx, db, json_)
    if status is not None and status not in set(BatchStatus):
        fail(f"--status must be one of {', '.join(BatchStatus)}")
    batches = _call(st, lambda store: list_batches(store, status, kind, max(1, limit)))
    if st.json:
        emit_json(batches)
        return
    table = Table(title="batches")
    for column in ("id", "kind", "status", "file", "date", "rows", "total", "by"):
        table.add_column(column, justify="right" if column in ("id", "rows", "total") else "left")
    for b in batches:
        table.add_row(
            str(b.batch_id),
            b.kind,
            b.status,
            b.source_name,
            b.business_date.isoformat(),
            str(b.row_count),
            format_fen(b.total_fen),
            b.submitted_by,
        )
    out.print(table)


@batch_app.command("show")
def batch_show(
    ctx: typer.Context, batch_id: BatchIdArg, db: DbOpt = None, json_: JsonOpt = False
) -> None:
    """A batch: its state, totals and results per reason."""
    st = state(ctx, db, json_)
    summary = _call(st, lambda store: show(store, batch_id))
    _print_summary(st, summary)


@batch_app.command("approve")
def batch_approve(
    ctx: typer.Context,
    batch_id: BatchIdArg,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Approve a validated batch (maker-checker: not by the user who submitted it)."""
    st = state(ctx, db, json_, as_)
    summary = _call(st, lambda store: approve(store, batch_id, actor_for(st)))
    _print_summary(st, summary)


@batch_app.command("run")
def batch_run(
    ctx: typer.Context,
    batch_id: BatchIdArg,
    chunk_rows: Annotated[
        int | None,
        typer.Option(help="Rows per committed chunk of a new run (default: chunk_size x 10)."),
    ] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Run (or resume) an approved batch on the engine: post the successful rows, record every
    result."""
    st = state(ctx, db, json_, as_)
    try:
        outcome = _call(
            st, lambda store: run_batch(store, batch_id, actor_for(st), chunk_rows=chunk_rows)
        )
    except ValueError as exc:
        fail(str(exc))
    if st.json:
        emit_json(outcome)
        return
    out.print(
        f"batch {batch_id} {outcome.status}: {outcome.rows_run} rows run in "
        f"{outcome.chunks_run} chunks ({outcome.rows_skipped} done before); success "
        f"{outcome.success_count} / {format_fen(outcome.success_total_fen)}, failure "
        f"{outcome.failure_count} / {format_fen(outcome.failure_total_fen)}"
    )


@batch_app.command("returns")
def batch_returns(
    ctx: typer.Context,
    batch_id: BatchIdArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the return files.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Write the return files (回盘): success and failure files, or a pain.002."""
    st = state(ctx, db, json_)
    files = _call(st, lambda store: write_batch_returns(store, batch_id, out_dir))
    if st.json:
        emit_json(
            {
                "batch_id": batch_id,
                "files": [str(p) for p in files.paths],
                "summary": files.summary._asdict(),
            }
        )
        return
    s = files.summary
    for path in files.paths:
        out.print(f"wrote {path}")
    out.print(
        f"success {s.success_count} / {format_fen(s.success_total_fen)}, "
        f"failure {s.failure_count} / {format_fen(s.failure_total_fen)}"
    )


def _print_summary(st: State, summary: BatchSummary) -> None:
    if st.json:
        emit_json(summary)
        return
    s = summary
    out.print(f"batch {s.batch_id}: {s.kind} {s.status} ({s.format or '?'} {s.source_name})")
    out.print(
        f"  party {s.party_account}, business date {s.business_date}, "
        f"{s.row_count} rows, total {format_fen(s.total_fen)}"
    )
    out.print(
        f"  submitted by {s.submitted_by}"
        + (f", approved by {s.approved_by}" if s.approved_by else "")
    )
    if s.reject_reason:
        out.print(f"  rejected ({s.reject_code}): {s.reject_reason}")
    if s.success_count is not None:
        out.print(
            f"  success {s.success_count} / {format_fen(s.success_total_fen or 0)}, "
            f"failure {s.failure_count} / {format_fen(s.failure_total_fen or 0)}"
        )
    for key, info in s.by_reason.items():
        out.print(
            f"  {key:<20} {info['reason_cn']}\t{info['iso_code'] or '-':<5} "
            f"{info['rows']:>9} rows {format_fen(int(info['amount_fen'])):>18}"
        )


@loans_app.command("import")
def loans_import(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="Schedule CSV or XLSX: loan_id,account,instalment_no,due_date,amount."),
    ],
    product: Annotated[str, typer.Option(help="Loan product of these loans.")] = "standard",
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Import loan schedules (all or nothing)."""
    st = state(ctx, db, json_, as_)
    if not path.is_file():
        fail(f"{path}: no such file")
    outcome = _call(st, lambda store: import_schedules(store, path, actor_for(st), product))
    if st.json:
        emit_json(outcome)
    else:
        out.print(
            f"{outcome.loans} loans, {outcome.instalments} instalments, total "
            f"{format_fen(outcome.total_fen)} imported from {outcome.source}"
        )


@loans_app.command("deduct")
def loans_deduct(
    ctx: typer.Context,
    date_: DateOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="试算: compute everything, commit nothing.")
    ] = False,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Items per chunk.")] = None,
    progress: Annotated[
        bool, typer.Option("--progress", help="One progress line per chunk on stderr.")
    ] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Debit the instalments due by the business date: the ``loans-deduct`` job on the engine
    (retries and partial debits by product; a completed date runs again without debiting twice)."""
    st = state(ctx, db, json_, as_)
    day = _date(date_)
    settings = settings_for(chunk_size=chunk_size)
    with opened_store(st) as store, engine_errors():
        outcome = deduct(store, day, actor_for(st), settings=settings, dry_run=dry_run,
                         on_chunk=print_progress if progress else None)  # fmt: skip
    if st.json:
        emit_json(outcome)
    else:
        mode = " (dry run: nothing committed)" if outcome.dry_run else ""
        out.print(
            f"loans deduct {day}: {outcome.attempts} attempts, {outcome.paid} paid, "
            f"{outcome.partial} partial, {outcome.failed} failed, {outcome.overdue} overdue, "
            f"debited {format_fen(outcome.debited_fen)} "
            f"({outcome.skipped_done_before} attempted before)"
        )
        out.print(f"run {outcome.run_id}: {outcome.status}{mode}", markup=False)
        if outcome.reason:
            out.print(f"reason: {outcome.reason}", markup=False)
        for key, count in outcome.by_reason.items():
            out.print(f"  {key:<20} {count:>9}")
    if outcome.status != "completed":
        raise typer.Exit(EXIT_FOUND_WRONG)


@loans_app.command("show")
def loans_show(
    ctx: typer.Context,
    loan_id: Annotated[str, typer.Argument(help="Loan id.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A loan's schedule and its deduction attempts."""
    st = state(ctx, db, json_)
    view = _call(st, lambda store: show_loan(store, loan_id))
    if st.json:
        emit_json(view)
        return
    out.print(f"loan {view.loan_id}: account {view.deposit_account}, product {view.product_code}")
    for i in view.instalments:
        out.print(
            f"  #{i['instalment_no']} due {i['due_date']} {format_fen(i['amount_fen'])} "
            f"paid {format_fen(i['paid_fen'])} {i['status']}"
        )
    for a in view.attempts:
        out.print(
            f"    attempt #{a['instalment_no']}.{a['attempt_no']} {a['business_date']} "
            f"debited {format_fen(a['debited_fen'])} {a['status']} {a['reason_key']}"
        )


@product_app.command("set")
def product_set(
    ctx: typer.Context,
    product_code: Annotated[str, typer.Argument(help="Loan product code.")],
    retry_days: Annotated[int, typer.Option(help="Days after the due date to retry.")] = 3,
    partial_debit: Annotated[bool, typer.Option(help="Take what the account holds.")] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Create or change a loan product's deduction settings."""
    st = state(ctx, db, json_, as_)
    product = _call(
        st, lambda store: set_product(store, product_code, retry_days, partial_debit, actor_for(st))
    )
    if st.json:
        emit_json(product._asdict())
    else:
        out.print(
            f"product {product.product_code}: retry {product.retry_days} days, "
            f"partial debit {'on' if product.partial_debit else 'off'}"
        )


def print_demo_batches(batches: list[DemoBatch]) -> None:
    """The demo's payment-file day: one summary per return file set (回盘)."""
    for b in batches:
        reasons = ", ".join(f"{key} {n}" for key, n in b.by_reason.items())
        out.print(
            f"{b.kind} batch {b.batch_id} ({b.source}) {b.status}: success {b.success_count} / "
            f"{format_fen(b.success_total_fen)}, failure {b.failure_count} / "
            f"{format_fen(b.failure_total_fen)} ({reasons})"
        )
        for name in b.files:
            out.print(f"  return file {name}")
