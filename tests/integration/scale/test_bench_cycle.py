"""The cycle benchmark: `cardbatch bench cycle` prints its report, and `python -m bench` (what
`make bench` runs) works in a fresh clone of the repository and writes the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cardbatch.cli.app import app
from cardbatch.jobs import cycle_io
from cardbatch.jobs.cycle_portfolio import BUSINESS_DATE, PRODUCT_CODE
from cardbatch.store import Store, open_store

ROOT = Path(__file__).resolve().parents[3]
REPORT_KEYS = {
    "accounts", "seconds", "accounts_per_s", "postings", "peak_rss_mb", "vs_write_floor",
    "vs_reference",
}  # fmt: skip


def _checks_out(report: dict[str, object], accounts_n: int) -> None:
    assert set(report) >= REPORT_KEYS
    assert report["accounts"] == accounts_n
    assert isinstance(report["postings"], int) and report["postings"] > accounts_n
    assert report["ledger_balanced"] is True
    assert report["reference_accounts"] == accounts_n


def test_bench_cycle_command_prints_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["bench", "cycle", "--accounts", "40"])
    assert result.exit_code == 0, result.output
    _checks_out(json.loads(result.stdout), 40)
    assert list((tmp_path / "out" / "bench" / "cache").glob("cycle-40-1.db"))


def test_bench_cycle_without_yardsticks_times_the_night_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["bench", "cycle", "--accounts", "30", "--no-yardsticks"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["accounts"] == 30 and report["ledger_balanced"] is True
    assert isinstance(report["postings"], int) and report["postings"] > 30
    assert report["vs_write_floor"] is None
    assert "vs_reference" not in report and "write_floor_s" not in report


def test_in_place_uses_the_cached_portfolio_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sys.path.insert(0, str(ROOT))
    from bench import cycle

    args = {"accounts": 20, "seed": 1, "backend": "sqlite", "executor": "local",
            "partition_accounts": 50_000, "no_yardsticks": True}  # fmt: skip
    first = cycle.run(args)  # builds the cache, runs on a copy
    cached = tmp_path / "out" / "bench" / "cache" / "cycle-20-1.db"
    assert cached.exists()
    moved = cycle.run({**args, "in_place": True})
    assert moved["postings"] == first["postings"] and moved["ledger_balanced"] is True
    assert not cached.exists()
    assert list((tmp_path / "out" / "bench").glob("cycle-run-*")) == []


def test_the_reference_writes_per_row_and_leaves_the_portfolio_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sys.path.insert(0, str(ROOT))
    from bench import cycle  # the source checkout's bench package

    tables = ("statements", "journal_entries", "postings", "balances", "item_results")
    with cycle.fresh_copy("sqlite", 25, 1, None) as url:
        store = open_store(url)
        before = _counts(store, tables)
        seconds = cycle.reference_seconds(store, 25)
        assert seconds > 0 and _counts(store, tables) == before
        with store.writer.connect() as conn, conn.begin() as transaction:
            terms = cycle_io.terms_in_force(conn, PRODUCT_CODE, BUSINESS_DATE, {})[0]
            for index in range(25):
                cycle._reference_account(conn, index, terms)
            inside = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                      for t in tables}  # fmt: skip
            transaction.rollback()
        entries = inside["journal_entries"] - before["journal_entries"]
        assert inside["statements"] == before["statements"] + 25
        assert inside["item_results"] == before["item_results"] + 25
        assert entries > 0 and inside["postings"] == before["postings"] + 2 * entries
        store.dispose()


def _counts(store: Store, tables: tuple[str, ...]) -> dict[str, int]:
    with store.read() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}


def test_bench_cycle_refuses_dask_on_sqlite() -> None:
    result = CliRunner().invoke(app, ["bench", "cycle", "--accounts", "5", "--executor", "dask"])
    assert result.exit_code == 2
    assert "needs --db postgresql" in result.output


def test_bench_runs_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    report_path = clone / "out" / "bench" / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "cycle", "--scale", "0.004"],
        cwd=clone, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout)
    assert printed == json.loads(report_path.read_text())
    (report,) = printed
    assert report["benchmark"] == "cycle"
    _checks_out(report, 40)
