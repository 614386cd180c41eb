"""The root ``cardbatch`` command: global options, command groups, one-line errors.

Each command group lives in its own module and is imported only when it is
used: ``cardbatch ledger check`` loads the ledger commands, not the payment
file parsers or the web console. ``cardbatch --help`` (or an unknown command)
loads them all so that the help lists every group. :data:`COMMANDS` is the one
table of what exists; add a group there.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from cardbatch.cli.common import EXIT_BAD_INPUT, State, err
from cardbatch.services.actor import ActorError
from cardbatch.store import StoreError

# name -> (module, attribute): a Typer sub-app, or a function ``register(root)`` when the
# attribute is "register" (a single command at the root). Help lists them in this order.
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("cardbatch.cli.db", "app"),
    "ledger": ("cardbatch.cli.ledger", "app"),
    "account": ("cardbatch.cli.ledger", "account_app"),
    "rules": ("cardbatch.cli.rules", "app"),
    "segment": ("cardbatch.cli.segment", "app"),
    "payroll": ("cardbatch.cli.paybatch", "payroll_app"),
    "collect": ("cardbatch.cli.paybatch", "collect_app"),
    "batch": ("cardbatch.cli.paybatch", "batch_app"),
    "loans": ("cardbatch.cli.paybatch", "loans_app"),
    "run": ("cardbatch.cli.run", "app"),
    "date": ("cardbatch.cli.date", "app"),
    "night": ("cardbatch.cli.night", "app"),
    "cycle": ("cardbatch.cli.cycle", "app"),
    "statement": ("cardbatch.cli.cycle", "statement_app"),
    "feedback": ("cardbatch.cli.feedback", "app"),
    "report": ("cardbatch.cli.report", "app"),
    "demo": ("cardbatch.cli.demo", "register"),
    "import": ("cardbatch.cli.ingest", "register"),
    "applications": ("cardbatch.cli.applications", "app"),
    "cards": ("cardbatch.cli.cards", "app"),
    "action": ("cardbatch.cli.action", "app"),
    "users": ("cardbatch.cli.users", "app"),
    "audit": ("cardbatch.cli.audit", "app"),
    "serve": ("cardbatch.cli.serve", "register"),
    "bench": ("cardbatch.cli.bench", "app"),
}
_ROOT_OPTIONS_WITH_VALUE = ("--db", "--as")


def _root(
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


def build_app(names: Sequence[str] | None = None) -> typer.Typer:
    """The root command with the named groups (all of them when ``names`` is None)."""
    root = typer.Typer(
        name="cardbatch",
        help="The batch side of a bank's credit-card business.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    root.callback()(_root)
    for name in names if names is not None else COMMANDS:
        module_name, attribute = COMMANDS[name]
        target = getattr(importlib.import_module(module_name), attribute)
        if attribute == "register":
            target(root)
        else:
            root.add_typer(target, name=name)
    return root


def command_name(argv: Sequence[str]) -> str | None:
    """The group or command named on the command line, after the root options."""
    args = iter(argv)
    for arg in args:
        if arg in _ROOT_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def __getattr__(name: str) -> Any:
    """``app``: the full command, for tests and tools that import it."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main() -> None:
    """Entry point: operational errors become one line on stderr and exit code 2."""
    wanted = command_name(sys.argv[1:])
    try:
        build_app([wanted] if wanted in COMMANDS else None)()
    except (StoreError, ActorError) as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
