"""``cardbatch audit``: verify the hash chain of the audit trail, list recent events."""

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
    opened_store,
    out,
    state,
)
from cardbatch.services import audit
from cardbatch.store.audit_repo import EventFilter

app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Recompute every row's hash and link; exit 1 naming the first edited or unlinked row."""
    st = state(ctx, db, json_)
    with opened_store(st) as store:
        result = audit.verify(store)
    broken = result.broken
    if st.json:
        emit_json({"ok": result.ok, "rows": result.rows, "head_hash": result.head_hash,
                   "first_bad_event_id": broken.event_id if broken else None,
                   "reason": broken.reason if broken else None})  # fmt: skip
    elif broken is None:
        out.print(f"audit chain intact: {result.rows} rows, head {result.head_hash}")
    else:
        out.print(f"audit chain BROKEN at event {broken.event_id}: {broken.reason}")
    if broken is not None:
        raise typer.Exit(EXIT_FOUND_WRONG)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Most events to show, newest first.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. users.add.")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Recent audit events, newest first."""
    st = state(ctx, db, json_)
    if not 1 <= limit <= audit.LIST_ROWS_MAX:
        fail(f"--limit must be 1..{audit.LIST_ROWS_MAX}")
    with opened_store(st) as store:
        events = audit.list_events(store, limit, EventFilter(actor=actor, action=action))
    if st.json:
        emit_json({"events": events})
        return
    table = Table(title="audit events (newest first)")
    for column in ("id", "at (UTC)", "actor", "action", "subject", "detail"):
        table.add_column(column)
    for e in events:
        table.add_row(str(e.event_id), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action,
                      e.subject, e.detail)  # fmt: skip
    out.print(table)
