"""``cardbatch users``: add console users (their API token is printed once) and list them."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from cardbatch.cli.common import (
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    err,
    fail_on,
    opened_store,
    out,
    state,
)
from cardbatch.services import users
from cardbatch.services.users import UserError

app = typer.Typer(help="Console users, roles and API tokens.", no_args_is_help=True)


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (letters, digits, ._@-).")],
    role: Annotated[str, typer.Option(help="operator | approver | auditor | admin")],
    password: Annotated[
        bool, typer.Option("--password", help="Also set a password for the web console (asked).")
    ] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Add a user; prints the API token ONCE (only its salted hash is stored)."""
    st = state(ctx, db, json_, as_)
    secret = _ask_password() if password else None
    with opened_store(st) as store, fail_on(UserError):
        created = users.add_user(store, name, role, actor_for(st), password=secret)
    if st.json:
        emit_json({"name": created.user.name, "role": created.user.role, "token": created.token})
        return
    out.print(f"user {created.user.name} added with role {created.user.role}")
    out.print(f"API token (shown once, keep it safe): {created.token}")


def _ask_password() -> str:
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        err.print("error: the two passwords differ")
        raise typer.Exit(2)
    return first


@app.command("list")
def list_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """List users and their roles (never tokens)."""
    st = state(ctx, db, json_)
    with opened_store(st) as store:
        found = users.list_users(store)
    if st.json:
        emit_json({"users": found})
        return
    table = Table(title="console users")
    for column in ("name", "role", "password", "created", "by", "disabled"):
        table.add_column(column)
    for user in found:
        table.add_row(user.name, user.role.value, "yes" if user.has_password else "no",
                      f"{user.created_at:%Y-%m-%d %H:%M}", user.created_by,
                      "yes" if user.disabled else "")  # fmt: skip
    out.print(table)
