"""``cardbatch db``: create or migrate the schema."""

from __future__ import annotations

import typer

from cardbatch.cli.common import DbOpt, JsonOpt, emit_json, out, state, store_for
from cardbatch.store.db import redact_url
from cardbatch.store.migrate import upgrade

app = typer.Typer(help="Create or migrate the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Create the schema, or migrate it to the latest version (idempotent)."""
    st = state(ctx, db, json_)
    store = store_for(st, require_schema=False)
    try:
        before, after = upgrade(store)
    finally:
        store.dispose()
    if st.json:
        emit_json({"database": redact_url(store.url), "from": before, "to": after})
    elif before == after:
        out.print(f"schema already at {after} in {redact_url(store.url)}")
    else:
        out.print(f"schema migrated {before or '(empty)'} -> {after} in {redact_url(store.url)}")
