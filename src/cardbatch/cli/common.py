"""What every command shares: global options, opening the store, output and errors.

``--db``, ``--json`` and ``--as`` may be given before the command
(``cardbatch --json ledger check``) or after it (``cardbatch ledger check --json``).
Exit codes: 0 done, 1 checked and found wrong, 2 bad input or environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from cardbatch.services.actor import resolve_actor
from cardbatch.store import DEFAULT_DB_URL, Store, open_store

EXIT_FOUND_WRONG = 1
EXIT_BAD_INPUT = 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $CARDBATCH_DB or sqlite).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
AsOpt = Annotated[
    str | None, typer.Option("--as", help="Acting user (default: $CARDBATCH_USER or OS user).")
]


@dataclass
class State:
    db_url: str | None = None
    json: bool = False
    actor: str | None = None


def state(ctx: typer.Context, db: str | None = None, json_: bool = False,
          actor: str | None = None) -> State:  # fmt: skip
    """The global options, overridden by the same options given after the command."""
    root = ctx.find_root().obj
    current = root if isinstance(root, State) else State()
    return State(db or current.db_url, json_ or current.json, actor or current.actor)


def db_url(st: State) -> str:
    return st.db_url or os.environ.get("CARDBATCH_DB") or DEFAULT_DB_URL


def store_for(st: State, *, require_schema: bool = True) -> Store:
    return open_store(db_url(st), require_schema=require_schema)


@contextlib.contextmanager
def opened_store(st: State, *, require_schema: bool = True) -> Iterator[Store]:
    """The store for one command, disposed of when the command ends (however it ends)."""
    store = store_for(st, require_schema=require_schema)
    try:
        yield store
    finally:
        store.dispose()


@contextlib.contextmanager
def fail_on(*errors: type[Exception], code: int = EXIT_BAD_INPUT) -> Iterator[None]:
    """Turn the listed operator-facing errors into one line on stderr and exit ``code``."""
    try:
        yield
    except errors as exc:
        fail(str(exc), code)


def actor_for(st: State) -> str:
    return resolve_actor(st.actor)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", markup=True)
    raise typer.Exit(code)


def jsonable(value: Any) -> Any:
    """Dataclasses, dates, enums and Decimals as plain JSON values (fen stay integers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(document), ensure_ascii=False, indent=2) + "\n")
