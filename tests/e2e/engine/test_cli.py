"""The engine's commands through the CLI: date, run start/list/show/stop/abandon/purge, night."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cardbatch.cli.app import app
from cardbatch.engine import run_job
from cardbatch.store.tables_engine import item_results
from tests.engine_helpers import ACTOR, migrated, synthetic_request

runner = CliRunner()


def cli(url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", url, "--as", ACTOR, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def url(sqlite_url: str) -> str:
    migrated(sqlite_url).dispose()
    return sqlite_url


def test_date_show_and_set(url: str) -> None:
    code, _, err = cli(url, "date", "show")
    assert code == 2 and "business date is not set" in err
    code, out, _ = cli(url, "date", "set", "2026-01-31")
    assert code == 0 and json.loads(out)["business_date"] == "2026-01-31"
    code, out, _ = cli(url, "date", "show")
    assert code == 0 and json.loads(out) == {"business_date": "2026-01-31"}
    code, _, err = cli(url, "date", "set", "2026-01-30")
    assert code == 2 and "--backwards" in err
    code, _, err = cli(url, "date", "set", "31/01/2026")
    assert code == 2 and "not a date" in err


def test_run_start_show_list_and_a_second_start(url: str, tmp_path: Path) -> None:
    args = ("run", "start", "synthetic-items", "--date", "2026-02-01", "--param", "items=300",
            "--param", "accounts=40", "--chunk-size", "40", "--out", str(tmp_path),
            "--json")  # fmt: skip
    code, out, err = cli(url, *args)
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "completed" and report["items_read"] == 340
    assert report["items_read"] == (report["items_succeeded"] + report["items_failed"]
                                    + report["items_skipped"])  # fmt: skip
    assert (tmp_path / "synthetic-items" / "2026-02-01" / "summary.csv").is_file()
    code, out, err = cli(url, *args)
    assert code == 0 and json.loads(out)["status"] == "already_completed"
    code, out, _ = cli(url, "run", "show", report["run_id"], "--json")
    shown = json.loads(out)
    assert {f["reason_code"] for f in shown["failures"]} == {
        "synthetic_decline", "synthetic_limit", "zero_amount"
    }  # fmt: skip
    assert [s["name"] for s in shown["steps"]] == ["charge", "settle"]
    code, out, _ = cli(url, "run", "list", "--json")
    assert [r["run_id"] for r in json.loads(out)] == [report["run_id"]]
    code, out, _ = cli(url, "run", "show", report["run_id"])
    assert code == 0 and "synthetic_decline" in out
    code, _, err = cli(url, "run", "abandon", report["run_id"], "--reason", "late")
    assert code == 2 and "completed" in err
    code, _, err = cli(url, "run", "show", "nope")
    assert code == 2 and "no run" in err


def test_dry_run_through_the_cli_commits_nothing(url: str, tmp_path: Path) -> None:
    out_dir = str(tmp_path / "out")
    code, out, err = cli(url, "run", "start", "synthetic-items", "--date", "2026-02-01",
                         "--param", "items=120", "--dry-run", "--out", out_dir)  # fmt: skip
    assert code == 0, err
    assert "dry run: nothing committed" in out and "would write" in out
    code, out, _ = cli(url, "run", "list", "--json")
    assert json.loads(out) == []
    assert not (tmp_path / "out").exists()


def test_unknown_job_and_bad_options_are_one_line_errors(url: str) -> None:
    code, _, err = cli(url, "run", "start", "nope", "--date", "2026-02-01")
    assert code == 2 and "no job named 'nope'" in err
    code, _, err = cli(url, "run", "start", "synthetic-items", "--date", "2026-02-01",
                       "--chunk-size", "0")  # fmt: skip
    assert code == 2 and "chunk_size" in err
    code, _, err = cli(url, "run", "abandon", "x", "--reason", "r")
    assert code == 2 and "no run 'x'" in err


def test_stop_of_a_dead_run_then_resume(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = migrated(url)
    monkeypatch.setenv("CARDBATCH_TEST_EXPLODE_ITEM", "i000090")
    with pytest.raises(RuntimeError):
        run_job(store, synthetic_request(date(2026, 2, 2), items=200))
    monkeypatch.delenv("CARDBATCH_TEST_EXPLODE_ITEM")
    code, out, _ = cli(url, "run", "list", "--json")
    run_id = json.loads(out)[0]["run_id"]
    code, out, _ = cli(url, "run", "stop", run_id, "--json")
    assert code == 0 and json.loads(out)["outcome"] == "stopped"
    code, out, err = cli(url, "run", "resume", run_id, "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "completed" and json.loads(out)["attempts"] == 2
    store.dispose()


def test_purge_deletes_old_finished_results_in_bounded_batches(url: str) -> None:
    store = migrated(url)
    today = date(2027, 6, 1)
    old = today - timedelta(days=500)
    run_job(store, synthetic_request(old, items=300))
    run_job(store, synthetic_request(today, items=100))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CARDBATCH_TEST_EXPLODE_ITEM", "i000120")
        with pytest.raises(RuntimeError):  # an unfinished old run keeps its results
            run_job(store, synthetic_request(old - timedelta(days=1), items=300))
    cli(url, "date", "set", today.isoformat())
    code, out, _ = cli(url, "run", "purge", "--retention-days", "400", "--batch-rows", "100",
                       "--json")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert result["rows_deleted"] == 340 and result["batches"] == 4
    with store.read() as conn:
        day = item_results.c.business_date
        by_date = dict(conn.execute(select(day, func.count()).group_by(day)).all())
    assert by_date == {today: 140, old - timedelta(days=1): 100}
    store.dispose()


def test_night_dry_run_does_not_move_the_business_date(url: str, tmp_path: Path) -> None:
    cli(url, "date", "set", "2026-01-01")
    inbox = tmp_path / "inbox"
    (inbox).mkdir()
    (inbox / "transactions_20260102.csv").write_text(
        "txn_id,account_id,kind,amount,business_date,description\n"
        "T1,CA0000000001,purchase,10.00,2026-01-02,shop\n"
    )
    code, out, err = cli(url, "night", "run", "--dry-run", "--inbox", str(inbox), "--out",
                         str(tmp_path / "out"), "--json")  # fmt: skip
    assert code == 0, err
    night = json.loads(out)["dates"][0]
    assert night["business_date"] == "2026-01-02" and not night["closed"]
    assert night["jobs"][0]["report"]["failures"][0]["reason_code"] == "unknown_account"
    assert json.loads(cli(url, "date", "show")[1]) == {"business_date": "2026-01-01"}
    assert not (tmp_path / "out").exists()
