"""``cardbatch date``: show or set the bank's business date (the last date whose night closed)."""

from __future__ import annotations

from typing import Annotated

import typer

from cardbatch.cli.common import (
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    fail,
    opened_store,
    state,
)
from cardbatch.cli.run import engine_errors, parse_day
from cardbatch.engine.calendar import current_business_date, set_business_date

app = typer.Typer(help="The bank's business date.", no_args_is_help=True)


@app.command("show")
def show_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Print {"business_date": "YYYY-MM-DD"} (always JSON: one short document)."""
    st = state(ctx, db, json_)
    with opened_store(st) as store, store.read() as conn:
        current = current_business_date(conn)
    if current is None:
        fail("the business date is not set; run `cardbatch date set YYYY-MM-DD`")
    emit_json({"business_date": current})


@app.command("set")
def set_cmd(
    ctx: typer.Context,
    day: Annotated[str, typer.Argument(help="The business date YYYY-MM-DD.")],
    backwards: Annotated[bool, typer.Option("--backwards", help="Allow moving it back.")] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Set the business date (audited); the next night runs the day after it."""
    st = state(ctx, db, json_, as_)
    new = parse_day(day, "DATE")
    with opened_store(st) as store, engine_errors(), store.write() as conn:
        before = set_business_date(conn, new, actor_for(st), allow_backwards=backwards)
    emit_json({"business_date": new, "before": before})
