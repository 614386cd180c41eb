"""``cardbatch demo``: build a synthetic bank on a fresh database and run its nights."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from cardbatch.applications.demo import run_apps_demo, summary_lines
from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    err,
    fail,
    opened_store,
    out,
    state,
)
from cardbatch.cli.paybatch import print_demo_batches
from cardbatch.feedback.demo import report_lines, run_feedback_demo
from cardbatch.money import format_fen
from cardbatch.paybatch.demo import run_payment_files
from cardbatch.services import ledger
from cardbatch.services.demo import DEMO_DAYS, DemoConfig, DemoReport, run_demo
from cardbatch.store.migrate import upgrade

FEEDBACK_MAKER = "demo-call-centre"  # records the dispute and proposes the reversal
FEEDBACK_CHECKER = "demo-supervisor"  # approves it: a second person


def register(root: typer.Typer) -> None:
    root.command("demo")(demo_cmd)


def demo_cmd(
    ctx: typer.Context,
    customers: Annotated[int, typer.Option(help="How many customers.")] = 1_000,
    days: Annotated[
        int, typer.Option(help="How many business dates to run (default: two statement cycles).")
    ] = DEMO_DAYS,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bank.")] = 7,
    workdir: Annotated[
        Path, typer.Option(help="Folder for the files the demo writes and reads.")
    ] = Path("out/demo"),
    applications: Annotated[
        bool, typer.Option(help="Also run an application batch, issuance and segment actions.")
    ] = True,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Build a realistic synthetic bank on a fresh database, run its batches, report."""
    st = state(ctx, db, json_, as_)
    try:
        config = DemoConfig(customers=customers, days=days, seed=seed)
    except ValueError as exc:
        fail(str(exc))
    workdir.mkdir(parents=True, exist_ok=True)
    with opened_store(st, require_schema=False) as store:
        upgrade(store)
        with Progress(console=err, disable=st.json, transient=True) as progress:
            task = progress.add_task("business dates", total=config.days)

            def on_day(_day: date) -> None:
                progress.advance(task)

            report = run_demo(store, config, actor_for(st), on_day, workdir)
            last_date = date.fromisoformat(report.business_dates[-1])
            apps = run_apps_demo(store, workdir, last_date, actor_for(st)) if applications else None
        sample = ledger.history(store, report.sample_account_id, rows_max=8)
        payments = run_payment_files(store, workdir, date.fromisoformat(report.business_dates[-1]))
        feedback = run_feedback_demo(store, FEEDBACK_MAKER, FEEDBACK_CHECKER)
        report.ledger = ledger.check(store)  # again, after payment files and corrections
    if st.json:
        emit_json(
            {
                "report": report,
                "sample_history": sample,
                "payment_files": payments,
                "applications": apps,
                "feedback": feedback,
            }
        )
    else:
        _print_report(report)
        print_demo_batches(payments)
        out.print("\n".join(summary_lines(apps) if apps else []))
        out.print("\n".join(report_lines(feedback)))
        out.print(f"\ntransaction details of {sample.account_id} (first {len(sample.lines)}):")
        for line in sample.lines:
            amount, after = format_fen(line.amount_fen), format_fen(line.balance_after_fen)
            out.print(f"  {line.business_date} {line.kind:<13} {amount:>12}  balance {after:>12}")
    if report.ledger is None or not report.ledger.balanced:
        raise typer.Exit(EXIT_FOUND_WRONG)


def _print_report(report: DemoReport) -> None:
    out.print(
        f"[bold]cardbatch demo[/bold]: {report.customers} customers, {report.card_accounts} card "
        f"accounts, {report.deposit_accounts} deposit accounts, {report.enterprises} enterprises; "
        f"business dates {report.business_dates[0]} .. {report.business_dates[-1]}"
    )
    imports = Table(title="files imported (step 2: collection and cleaning)")
    for column in ("file", "kind", "rows", "accepted", "rejected"):
        imports.add_column(column, justify="left" if column in ("file", "kind") else "right")
    for done in report.imports[:3]:
        imports.add_row(Path(done["file"]).name, done["kind"], str(done["rows_total"]),
                        str(done["rows_accepted"]), str(done["rows_rejected"]))  # fmt: skip
    txn_files = [d for d in report.imports if d["kind"] == "transactions"]
    imports.add_row(f"{len(txn_files)} transaction files", "transactions",
                    *(str(sum(d[k] for d in txn_files))
                      for k in ("rows_total", "rows_accepted", "rows_rejected")))  # fmt: skip
    out.print(imports)
    for reject in report.rejects[:8]:
        where = f"{reject['file']} line {reject.get('line')}"
        out.print(f"  rejected {where}: {reject.get('reason')} - {reject.get('message')}")
    table = Table(title="card transactions posted through the importer")
    table.add_column("type")
    table.add_column("count", justify="right")
    table.add_column("amount (yuan)", justify="right")
    for kind, count in sorted(report.transactions_by_kind.items()):
        table.add_row(kind, str(count), format_fen(report.amount_fen_by_kind[kind]))
    out.print(table)
    parts = ", ".join(
        f"{c} {format_fen(v)}" for c, v in report.receivables_fen_by_component.items()
    )
    out.print(f"card receivables by component: {parts}")
    out.print(f"customer and enterprise deposits: {format_fen(report.deposits_fen)}")
    _print_cycle(report)
    check = report.ledger
    if check is not None:
        verdict = "balanced" if check.balanced else "NOT balanced"
        out.print(
            f"ledger check: {verdict} ({check.journal_entries} journal entries, "
            f"{check.postings} postings, debits = credits = {format_fen(check.debits_fen)})"
        )


def _print_cycle(report: DemoReport) -> None:
    cycle = report.cycle
    out.print(
        f"card cycle ({report.rule_version}): {len(report.cycle_runs)} nightly runs, "
        f"{cycle['statements']} statements, closing balances "
        f"{format_fen(cycle['statement_closing_fen'])}, interest "
        f"{format_fen(cycle['statement_interest_fen'])}, minimum payments "
        f"{format_fen(cycle['statement_minimum_fen'])}"
    )
    table = Table(title="latest statements (largest balances)")
    for name in ("account", "statement", "due", "closing", "minimum", "interest", "late fee"):
        table.add_column(name, justify="right" if name not in ("account",) else "left")
    for s in cycle["sample_statements"]:
        table.add_row(s["account_id"], str(s["statement_date"]), str(s["due_date"]),
                      format_fen(s["closing_balance_fen"]), format_fen(s["minimum_payment_fen"]),
                      format_fen(s["interest_fen"]), format_fen(s["late_fee_fen"]))  # fmt: skip
    out.print(table)
    autopay = Table(title="auto-repayment attempts")
    for name in ("result", "reason", "count", "amount (yuan)"):
        autopay.add_column(name)
    for a in cycle["autopay"]:
        autopay.add_row(a["status"], a["reason_code"] or "", str(a["count"]),
                        format_fen(a["amount_fen"]))  # fmt: skip
    out.print(autopay)
    out.print(f"late fees: {cycle['late_fees']} charged, {format_fen(cycle['late_fees_fen'])}")
    buckets = Table(title="delinquency distribution")
    for name in ("bucket", "class", "accounts"):
        buckets.add_column(name)
    for b in cycle["delinquency"]:
        buckets.add_row(b["bucket"], b["five_category"], str(b["accounts"]))
    out.print(buckets)
