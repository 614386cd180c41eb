"""``cardbatch bench``: the benchmarks of a source checkout, thin over the ``bench`` package.

The benchmarks use the tests' reference implementation as a yardstick, so they
run from a source checkout (``bench/`` and ``tests/`` beside ``src/``), not from
an installed wheel.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from cardbatch.cli.common import emit_json, fail

app = typer.Typer(help="Benchmarks (from a source checkout).", no_args_is_help=True)
CHECKOUT = Path(__file__).resolve().parents[3]


def bench_module(name: str) -> ModuleType:
    """Import ``bench.<name>`` from the source checkout this package was installed from."""
    if not (CHECKOUT / "bench" / f"{name}.py").is_file():
        fail(f"cardbatch bench needs a source checkout: {CHECKOUT / 'bench'} has no {name}.py")
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    return importlib.import_module(f"bench.{name}")


@app.command("cycle")
def cycle_cmd(
    accounts: Annotated[int, typer.Option("--accounts", min=1, help="Card accounts.")] = 100_000,
    db: Annotated[
        str | None,
        typer.Option("--db", help="PostgreSQL server URL, or a sqlite:/// file to create."),
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="local, or dask (PostgreSQL only).")
    ] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="tcp://host:port of a Dask scheduler.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Portfolio seed.")] = 1,
    partition_accounts: Annotated[
        int, typer.Option("--partition-accounts", min=1, help="Accounts per partition.")
    ] = 50_000,
    reference_accounts: Annotated[
        int, typer.Option("--reference-accounts", min=1, help="Subset for vs_reference.")
    ] = 100_000,
    no_yardsticks: Annotated[
        bool,
        typer.Option("--no-yardsticks", help="Time the night only (scale and memory runs)."),
    ] = False,
) -> None:
    """Time one worst-case night of the card cycle; print the JSON report."""
    if executor not in ("local", "dask"):
        fail(f"--executor must be local or dask, got {executor!r}")
    if executor == "dask" and not (db or "").startswith("postgresql"):
        fail("--executor dask needs --db postgresql://...: SQLite allows one writer at a time")
    module = bench_module("cycle")
    args: dict[str, Any] = {
        "accounts": accounts, "seed": seed, "backend": "sqlite", "db": db,
        "executor": executor, "scheduler": scheduler, "partition_accounts": partition_accounts,
        "reference_accounts": reference_accounts, "no_yardsticks": no_yardsticks,
    }  # fmt: skip
    emit_json(module.run(args))
