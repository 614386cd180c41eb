"""The batch commands' human output (tables and lines), run in-process through the CLI app."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cardbatch.cli.app import app
from cardbatch.store import open_store
from tests.integration.paybatch.worlds import WORLDS, build_world
from tests.unit.payfiles.samples import DATA, VALID

RUNNER = CliRunner()


def cli(*args: str, user: str = "tester") -> str:
    done = RUNNER.invoke(app, list(args), env={"CARDBATCH_USER": user})
    assert done.exit_code == 0, done.output
    return done.output


def test_text_output_of_the_lifecycle(sqlite_url: str, tmp_path: Path) -> None:
    db = ("--db", sqlite_url)
    cli(*db, "db", "upgrade")
    name = "pipe_utf8_collection_20240415.txt"
    store = open_store(sqlite_url)
    try:
        build_world(store, WORLDS[name])
    finally:
        store.dispose()
    submitted = cli(*db, "collect", "submit", str(VALID / name), "--biller", "2088000000001",
                    "--date", "2024-04-15", user="maker")  # fmt: skip
    assert "batch 1 validated: 4 rows, total 236.50" in submitted
    assert "approved by checker" in cli(*db, "batch", "approve", "1", user="checker")
    ran = cli(*db, "batch", "run", "1")
    assert "batch 1 completed: 4 rows run in 1 chunks" in ran
    shown = cli(*db, "batch", "show", "1")
    for fragment in ("余额不足", "AM04", "无授权", "MD01", "金额无效", "success 1 / 58.00"):
        assert fragment in shown
    listed = cli(*db, "batch", "list")
    assert "236.50" in listed and "completed" in listed
    returns = cli(*db, "batch", "returns", "1", "--out", str(tmp_path))
    assert "success 1 / 58.00, failure 3 / 178.50" in returns
    assert "mandates" in cli(*db, "collect", "mandate", "list")
    assert "retry 5 days, partial debit on" in cli(
        *db, "loans", "product", "set", "flex", "--retry-days", "5", "--partial-debit"
    )
    schedule = DATA / "valid/paybatch/loan_schedules_zh_headers_gbk.csv"
    assert "1 loans, 2 instalments, total 241.00" in cli(*db, "loans", "import", str(schedule))
    assert "1 attempts, 0 paid" in cli(*db, "loans", "deduct", "--date", "2024-04-15")
    assert "account_not_found" in cli(*db, "loans", "show", "Z001")
