"""``cardbatch rules`` and ``cardbatch segment`` end to end, as an operator runs them."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.e2e.cli import cli_json, run_cli

REPO = Path(__file__).resolve().parents[2]
STANDARD = str(REPO / "examples" / "rules" / "standard.toml")
CCB_LIKE = str(REPO / "examples" / "rules" / "ccb_like.toml")
LOWER_RATE = str(REPO / "tests" / "data" / "valid" / "rules_standard_lower_rate.toml")
THREE_ERRORS = str(REPO / "tests" / "data" / "invalid" / "rules_three_errors.toml")
SYNTAX_ERROR = str(REPO / "tests" / "data" / "invalid" / "rules_syntax_error.toml")


def test_check_valid_examples_exit_0() -> None:
    for path in (STANDARD, CCB_LIKE, LOWER_RATE):
        done = run_cli("rules", "check", path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "valid rules for product" in done.stdout


def test_check_reports_every_error_with_key_path_and_exits_1() -> None:
    done = run_cli("rules", "check", THREE_ERRORS)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{THREE_ERRORS}: cycle.due_days: must be at least 1, got 0",
        f"{THREE_ERRORS}: interest.daily_rate: must be an exact decimal string such as"
        ' "0.0005", got 0.0005',
        f"{THREE_ERRORS}: interest.mode: must be one of 'full_balance', 'unpaid_only', got 'full'",
        "3 error(s)",
    ]
    report = cli_json_allow_fail("rules", "check", SYNTAX_ERROR)
    assert report["valid"] is False
    assert "line 3" in report["errors"][0]["message"]


def cli_json_allow_fail(*args: str) -> dict[str, object]:
    import json

    done = run_cli(*args, "--json")
    assert done.returncode == 1, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    done = run_cli("rules", "check", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "cannot read" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_load_approve_list_show_diff(sqlite_url: str) -> None:
    cli_json("--db", sqlite_url, "db", "upgrade")
    first = cli_json("--db", sqlite_url, "--as", "alice", "rules", "load", STANDARD,
                     "--effective", "2024-01-01")  # fmt: skip
    assert (first["version"], first["status"], first["created"]) == ("STD@1", "pending", True)
    again = cli_json("--db", sqlite_url, "--as", "alice", "rules", "load", STANDARD,
                     "--effective", "2024-01-01")  # fmt: skip
    assert (again["version"], again["created"]) == ("STD@1", False)

    refused = run_cli("--db", sqlite_url, "--as", "alice", "rules", "approve", "STD@1")
    assert refused.returncode == 1
    assert "a different user must approve it" in refused.stderr
    none_yet = run_cli("--db", sqlite_url, "rules", "show", "STD", "--date", "2024-02-01")
    assert none_yet.returncode == 2

    approved = cli_json("--db", sqlite_url, "rules", "approve", "STD@1",
                        env={"CARDBATCH_USER": "bob"})  # fmt: skip
    assert (approved["status"], approved["approved_by"]) == ("approved", "bob")
    cli_json("--db", sqlite_url, "--as", "alice", "rules", "load", LOWER_RATE,
             "--effective", "2024-03-01")  # fmt: skip
    cli_json("--db", sqlite_url, "--as", "bob", "rules", "approve", "STD@2")

    listed = cli_json("--db", sqlite_url, "rules", "list")
    assert [(v["version"], v["status"]) for v in listed["versions"]] == [
        ("STD@1", "approved"),
        ("STD@2", "approved"),
    ]
    feb = cli_json("--db", sqlite_url, "rules", "show", "STD", "--date", "2024-02-29")
    march = cli_json("--db", sqlite_url, "rules", "show", "STD", "--date", "2024-03-01")
    assert (feb["version"], march["version"]) == ("STD@1", "STD@2")
    assert march["toml"] == Path(LOWER_RATE).read_text(encoding="utf-8")

    diff = cli_json("--db", sqlite_url, "rules", "diff", "STD@1", "STD@2")
    assert diff["changes"] == [
        {"key": "interest.daily_rate", "left": '"0.0005"', "right": '"0.0004"'}
    ]
    files = cli_json("rules", "diff", STANDARD, CCB_LIKE)
    assert [c["key"] for c in files["changes"]][:3] == ["product.code", "product.name",
                                                       "cycle.due_days"]  # fmt: skip
    table = run_cli("rules", "diff", STANDARD, CCB_LIKE)
    assert table.returncode == 0 and "cycle.due_days" in table.stdout


def test_load_invalid_file_exits_1_and_stores_nothing(sqlite_url: str) -> None:
    cli_json("--db", sqlite_url, "db", "upgrade")
    done = run_cli("--db", sqlite_url, "rules", "load", THREE_ERRORS, "--effective", "2024-01-01")
    assert done.returncode == 1
    assert "cycle.due_days: must be at least 1, got 0" in done.stdout
    assert cli_json("--db", sqlite_url, "rules", "list")["versions"] == []
    bad_date = run_cli("--db", sqlite_url, "rules", "load", STANDARD, "--effective", "2024-13-01")
    assert bad_date.returncode == 2 and "--effective must be a date" in bad_date.stderr


def test_segment_define_show_export(db_url: str, tmp_path: Path) -> None:
    cli_json("--db", db_url, "demo", "--customers", "30", "--days", "4", "--no-applications",
             "--workdir", str(tmp_path / "demo"))  # fmt: skip
    defined = cli_json("--db", db_url, "--as", "ops", "segment", "define", "owing",
                       "--where", "balance_fen > 0 and autopay_mode in ('none', 'full', 'minimum')",
                       "--classify-by", "balance_fen:100000,1000000",
                       "--classify-by", "autopay_mode")  # fmt: skip
    assert (defined["name"], defined["version_no"], defined["created_by"]) == ("owing", 1, "ops")
    listed = cli_json("--db", db_url, "segment", "list")
    assert [s["name"] for s in listed["segments"]] == ["owing"]

    history_date = "2030-01-01"
    shown = cli_json("--db", db_url, "segment", "show", "owing", "--date", history_date)
    everyone = cli_json("--db", db_url, "segment", "define", "all", "--where", "true")
    assert everyone["defined"] is True
    total = cli_json("--db", db_url, "segment", "show", "all", "--date", history_date)
    assert 0 < shown["accounts"] <= total["accounts"] == 30
    assert sum(c["accounts"] for c in shown["by_class"]) == shown["accounts"]
    assert sum(c["balance_fen"] for c in shown["by_class"]) == shown["balance_fen"]
    bands = {c["class_balance_fen"] for c in shown["by_class"]}
    assert bands <= {"<100000", "[100000,1000000)", ">=1000000"}

    out_file = tmp_path / "owing.csv"
    exported = cli_json("--db", db_url, "segment", "export", "owing", str(out_file),
                        "--date", history_date)  # fmt: skip
    assert exported["rows"] == shown["accounts"] and exported["masked"] is True
    with out_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == shown["accounts"]
    assert all("*" in row["id_number"] and "*" in row["name"] for row in rows)
    human = run_cli("--db", db_url, "segment", "show", "owing", "--date", history_date)
    assert human.returncode == 0 and "class_autopay_mode" in human.stdout


def test_segment_bad_expression_points_at_the_column(sqlite_url: str) -> None:
    cli_json("--db", sqlite_url, "db", "upgrade")
    done = run_cli(
        "--db", sqlite_url, "segment", "define", "x", "--where", "dpd > 1 and citty = 'a'"
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "dpd > 1 and citty = 'a'",
        "            ^ unknown field 'citty' (did you mean 'city'?)",
    ]
    assert cli_json("--db", sqlite_url, "segment", "list")["segments"] == []
    unknown = run_cli("--db", sqlite_url, "segment", "show", "nope", "--date", "2024-01-01")
    assert unknown.returncode == 2 and "no segment named 'nope'" in unknown.stderr
