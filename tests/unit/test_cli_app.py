"""The root command: which group a command line names, and that every group loads."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from cardbatch.cli.app import COMMANDS, build_app, command_name


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ledger", "check"], "ledger"),
        (["--db", "sqlite:///x.db", "--json", "run", "list"], "run"),
        (["--as", "ledger", "cycle", "run"], "cycle"),  # a root option's value is not a command
        (["--db=sqlite:///x.db", "import", "customers", "f.csv"], "import"),
        (["--help"], None),
        ([], None),
    ],
)
def test_command_name_skips_the_root_options(argv: list[str], expected: str | None) -> None:
    assert command_name(argv) == expected


def test_every_group_loads_and_help_lists_them_all() -> None:
    result = CliRunner().invoke(build_app(), ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_one_group_alone_answers_its_help(name: str) -> None:
    """What ``main`` builds for one command: the group on its own, with its own help."""
    app: typer.Typer = build_app([name])
    result = CliRunner().invoke(app, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
