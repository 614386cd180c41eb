"""``cardbatch ledger`` and ``cardbatch account``: check the ledger, read an account."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    DbOpt,
    JsonOpt,
    emit_json,
    fail,
    fail_on,
    opened_store,
    out,
    state,
)
from cardbatch.money import format_fen
from cardbatch.services import ledger
from cardbatch.services.ledger import HISTORY_ROWS_MAX, UnknownAccount

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
account_app = typer.Typer(help="Card and deposit accounts.", no_args_is_help=True)


@app.command("check")
def check_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Verify debits = credits, every entry balanced, every balance = sum of its postings."""
    st = state(ctx, db, json_)
    with opened_store(st) as store:
        result = ledger.check(store)
    if st.json:
        emit_json({"balanced": result.balanced, "journal_entries": result.journal_entries,
                   "postings": result.postings, "debits_fen": result.debits_fen,
                   "credits_fen": result.credits_fen, "mismatches": result.mismatches})  # fmt: skip
    else:
        verdict = "[green]balanced[/green]" if result.balanced else "[red]NOT balanced[/red]"
        out.print(
            f"ledger {verdict}: {result.journal_entries} journal entries, {result.postings} "
            f"postings, debits {format_fen(result.debits_fen)}, "
            f"credits {format_fen(result.credits_fen)}"
        )
        for mismatch in result.mismatches:
            out.print(f"  mismatch: {mismatch}")
    if not result.balanced:
        raise typer.Exit(EXIT_FOUND_WRONG)


@account_app.command("history")
def history_cmd(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="Card account, deposit account or GL id.")],
    limit: Annotated[int, typer.Option(help="Most entries to show.")] = 1000,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The transaction details (交易明细) of an account, with the balance after each entry."""
    st = state(ctx, db, json_)
    if not 1 <= limit <= HISTORY_ROWS_MAX:
        fail(f"--limit must be 1..{HISTORY_ROWS_MAX}")
    with opened_store(st) as store, fail_on(UnknownAccount):
        result = ledger.history(store, account_id, rows_max=limit)
    if st.json:
        emit_json(result)
        return
    table = Table(title=f"{result.account_kind} account {account_id} ({result.sign_convention})")
    for column in ("date", "type", "amount", "balance after", "run", "description"):
        table.add_column(
            column, justify="right" if column in ("amount", "balance after") else "left"
        )
    for line in result.lines:
        table.add_row(
            line.business_date.isoformat(),
            line.kind,
            format_fen(line.amount_fen),
            format_fen(line.balance_after_fen),
            line.run_id or "",
            line.description,
        )
    out.print(table)
    out.print(f"balance: {format_fen(result.balance_fen)}")
