"""The foundation's commands end to end: db upgrade, demo, ledger check, account history."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.e2e.cli import cli_json, run_cli

REPO = Path(__file__).resolve().parents[2]


def test_db_upgrade_is_idempotent(sqlite_url: str) -> None:
    first = cli_json("db", "upgrade", "--db", sqlite_url)
    second = cli_json("--db", sqlite_url, "db", "upgrade")
    assert first["from"] is None and first["to"] == second["to"] == second["from"]


def test_demo_then_ledger_check_and_history(db_url: str, tmp_path: Path) -> None:
    report = cli_json("--db", db_url, "demo", "--customers", "40", "--days", "6",
                      "--workdir", str(tmp_path / "demo"))  # fmt: skip
    assert report["report"]["ledger"]["mismatches"] == []
    assert report["report"]["customers"] == 40
    assert sum(report["report"]["transactions_by_kind"].values()) > 0

    check = cli_json("ledger", "check", "--db", db_url)
    assert check["balanced"] is True
    assert check["journal_entries"] > 40 and check["postings"] >= 2 * check["journal_entries"]
    assert check["mismatches"] == []

    history = cli_json("account", "history", "CA0000000001", "--db", db_url)
    assert history["account_kind"] == "card"
    lines = history["lines"]
    assert lines, "the first card account has activity in the demo"
    running = 0
    for line in lines:
        running += line["amount_fen"]
        assert line["balance_after_fen"] == running
        assert line["run_id"].startswith("import:")  # the import that posted the line
        assert {"business_date", "kind", "amount_fen"} <= set(line)
    assert history["balance_fen"] == running


def test_demo_refuses_a_database_that_is_not_fresh(sqlite_url: str, tmp_path: Path) -> None:
    args = ("--db", sqlite_url, "demo", "--customers", "5", "--days", "1",
            "--workdir", str(tmp_path))  # fmt: skip
    assert run_cli(*args).returncode == 0
    again = run_cli(*args)
    assert again.returncode == 2
    assert "fresh database" in again.stderr and "Traceback" not in again.stderr


def test_ledger_check_exits_1_and_lists_mismatches(sqlite_url: str, tmp_path: Path) -> None:
    assert run_cli("--db", sqlite_url, "demo", "--customers", "5", "--days", "2",
                   "--workdir", str(tmp_path)).returncode == 0  # fmt: skip
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE balances SET balance_fen = balance_fen + 7 WHERE rowid = 1")
    done = run_cli("--db", sqlite_url, "--json", "ledger", "check")
    assert done.returncode == 1
    assert '"balance_mismatch"' in done.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ("--db", "postgresql://x:pw@127.0.0.1:1/none", "ledger", "check"),
            "cannot reach database",
        ),
        (("--db", "sqlite:////no/such/dir/x.db", "ledger", "check"), "cannot reach database"),
        (("--db", "oracle://h/db", "ledger", "check"), "unsupported database"),
    ],
)
def test_bad_database_is_one_line_and_exit_2(args: tuple[str, ...], fragment: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "pw@" not in done.stderr


def test_schema_missing_and_unknown_account(sqlite_url: str) -> None:
    done = run_cli("--db", sqlite_url, "ledger", "check")
    assert done.returncode == 2 and "cardbatch db upgrade" in done.stderr
    assert run_cli("--db", sqlite_url, "db", "upgrade").returncode == 0
    done = run_cli("--db", sqlite_url, "account", "history", "CA404")
    assert done.returncode == 2 and "no card, deposit or GL account" in done.stderr


def test_acting_user_is_recorded(sqlite_url: str, tmp_path: Path) -> None:
    assert run_cli("--db", sqlite_url, "--as", "li.lei", "demo", "--customers", "3", "--days", "1",
                   "--workdir", str(tmp_path)).returncode == 0  # fmt: skip
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        actors = {row[0] for row in conn.execute("SELECT DISTINCT actor FROM journal_entries")}
        audit = conn.execute("SELECT actor, action FROM audit_events").fetchall()
        creators = {row[0] for row in conn.execute("SELECT DISTINCT created_by FROM customers")}
    # The acting user does everything except the steps the demo gives to a second person
    # (maker-checker): approvals and the corrections they release.
    second_persons = {"demo-product-owner", "demo-risk-officer", "demo-checker",
                      "demo-call-centre", "demo-supervisor"}  # fmt: skip
    assert "li.lei" in actors and actors <= {"li.lei"} | second_persons
    assert creators == {"li.lei"}
    assert ("li.lei", "demo.build") in audit
    assert {actor for actor, _ in audit} <= {"li.lei"} | second_persons
    bad = run_cli("--db", sqlite_url, "--as", "bad name;", "db", "upgrade")
    assert bad.returncode == 2 and "user name" in bad.stderr


def test_make_demo_runs_end_to_end(tmp_path: Path) -> None:
    """The README's `make demo`, on a fresh SQLite file; it ends with a passing ledger check."""
    if not (REPO / ".venv" / "bin" / "cardbatch").exists():
        pytest.skip("make demo needs the project's .venv (make test creates it)")
    db = tmp_path / "demo.db"
    done = subprocess.run(
        ["make", "-C", str(REPO), "demo", f"DEMO_DB={db}", f"DEMO_DIR={tmp_path / 'out'}"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "CARDBATCH_USER": "tester"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "ledger check: balanced" in done.stdout
    assert "ledger balanced" in done.stdout  # the separate `cardbatch ledger check` at the end
