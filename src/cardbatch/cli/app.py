"""The root ``cardbatch`` command: global options, command groups, one-line errors."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cardbatch.cli import (
    action,
    applications,
    audit,
    bench,
    cards,
    cycle,
    date,
    db,
    demo,
    ingest,
    ledger,
    night,
    paybatch,
    run,
    serve,
    users,
)
from cardbatch.cli import feedback as feedback_cli
from cardbatch.cli import report as report_cli
from cardbatch.cli import rules as rules_cli
from cardbatch.cli import segment as segment_cli
from cardbatch.cli.common import EXIT_BAD_INPUT, State, err
from cardbatch.services.actor import ActorError
from cardbatch.store import StoreError

app = typer.Typer(
    name="cardbatch",
    help="The batch side of a bank's credit-card business.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="CARDBATCH_DB", help="Database URL (default sqlite:///cardbatch.db)."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    as_: Annotated[
        str | None, typer.Option("--as", help="Acting user (default $CARDBATCH_USER, OS user).")
    ] = None,
) -> None:
    ctx.obj = State(db_url=db_url, json=json_, actor=as_)


app.add_typer(db.app, name="db")
app.add_typer(ledger.app, name="ledger")
app.add_typer(ledger.account_app, name="account")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(segment_cli.app, name="segment")
app.add_typer(paybatch.payroll_app, name="payroll")
app.add_typer(paybatch.collect_app, name="collect")
app.add_typer(paybatch.batch_app, name="batch")
app.add_typer(paybatch.loans_app, name="loans")
app.add_typer(run.app, name="run")
app.add_typer(date.app, name="date")
app.add_typer(night.app, name="night")
app.add_typer(cycle.app, name="cycle")
app.add_typer(cycle.statement_app, name="statement")
app.add_typer(feedback_cli.app, name="feedback")
app.add_typer(report_cli.app, name="report")
demo.register(app)
ingest.register(app)
app.add_typer(applications.app, name="applications")
app.add_typer(cards.app, name="cards")
app.add_typer(action.app, name="action")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(bench.app, name="bench")
serve.register(app)


def main() -> None:
    """Entry point: operational errors become one line on stderr and exit code 2."""
    try:
        app()
    except (StoreError, ActorError) as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
