"""``cardbatch db``: create or migrate the schema."""

from __future__ import annotations

import typer

from cardbatch.cli.common import (
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    opened_store,
    out,
    state,
)
from cardbatch.services import audit
from cardbatch.store.db import redact_url
from cardbatch.store.migrate import upgrade

app = typer.Typer(help="Create or migrate the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(
    ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """Create the schema, or migrate it to the latest version (idempotent)."""
    st = state(ctx, db, json_, as_)
    actor = actor_for(st)
    with opened_store(st, require_schema=False) as store:
        before, after = upgrade(store)
        if before != after:
            with store.write() as conn:
                audit.record(conn, actor, "db.upgrade", "schema", before=before, after=after)
    if st.json:
        emit_json({"database": redact_url(store.url), "from": before, "to": after})
    elif before == after:
        out.print(f"schema already at {after} in {redact_url(store.url)}")
    else:
        out.print(f"schema migrated {before or '(empty)'} -> {after} in {redact_url(store.url)}")
