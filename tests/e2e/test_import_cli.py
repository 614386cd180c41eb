"""``cardbatch import`` through the real command line: JSON result, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("cardbatch"))
RESULT_KEYS = {"file", "kind", "rows_total", "rows_accepted", "rows_rejected", "rejects_file",
               "duplicate_of"}  # fmt: skip


def cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "--db", db, "--as", "operator", *args], capture_output=True, text=True, timeout=120
    )


def imported(db: str, kind: str, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = cli(db, "import", kind, str(path), "--json", *extra)
    return done.returncode, json.loads(done.stdout) if done.stdout else {}


@pytest.fixture
def bank(tmp_path: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path / 'bank.db'}"
    assert cli(db, "db", "upgrade").returncode == 0
    work = tmp_path / "files"
    shutil.copytree(ROOT / "examples", work)
    shutil.copytree(ROOT / "tests" / "data", work / "data")
    return db, work


def test_examples_import_in_order_and_the_ledger_balances(bank: tuple[str, Path]) -> None:
    db, work = bank
    for kind in ("customers", "deposits", "accounts"):
        code, result = imported(db, kind, work / f"{kind}.csv")
        assert code == 0 and set(result) >= RESULT_KEYS
        assert result["rows_total"] == result["rows_accepted"] > 0
        assert result["rows_rejected"] == 0 and result["rejects_file"] is None
    fixed = work / "data" / "valid" / "transactions_gbk_fixed.dat"  # the same six transactions
    code, result = imported(db, "transactions", fixed, "--format", "fixed", "--encoding",
                            "gb18030", "--date", "2024-03-31")  # fmt: skip
    assert (code, result["format"], result["rows_accepted"]) == (0, "fixed", 6)
    assert cli(db, "ledger", "check").returncode == 0
    done = cli(db, "import", "customers", str(work / "customers.csv"), "--encoding", "latin-1")
    assert done.returncode == 2 and "unknown encoding" in done.stderr


def test_dirty_file_exits_1_and_writes_its_rejects_next_to_it(bank: tuple[str, Path]) -> None:
    db, work = bank
    imported(db, "customers", work / "customers.csv")
    dirty = work / "data" / "invalid" / "customers_dirty_en.csv"
    code, result = imported(db, "customers", dirty)
    assert code == 1
    assert result["rows_total"] == result["rows_accepted"] + result["rows_rejected"] == 12
    assert result["rejects_file"] == str(dirty.with_name("customers_dirty_en.rejects.csv"))
    assert Path(result["rejects_file"]).exists()
    assert "110105194912310021" not in json.dumps(result, ensure_ascii=False)  # masked


def test_a_file_imported_before_is_refused_with_exit_2(bank: tuple[str, Path]) -> None:
    db, work = bank
    code, first = imported(db, "customers", work / "customers.csv")
    done = cli(db, "import", "customers", str(work / "customers.csv"), "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["duplicate_of"] == first["import_id"]
    assert len(done.stderr.strip().splitlines()) == 1 and "--force" in done.stderr
    code, forced = imported(db, "customers", work / "customers.csv", "--force")
    assert (
        code == 0 and forced["rows_accepted"] == 5 and forced["duplicate_of"] == first["import_id"]
    )


def test_whole_file_error_is_one_line_exit_2_and_writes_nothing(bank: tuple[str, Path]) -> None:
    db, work = bank
    bad = work / "data" / "invalid" / "whole_file" / "customers_missing_id_number.csv"
    done = cli(db, "import", "customers", str(bad), "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: customers_missing_id_number.csv: missing required column(s) for customers: "
        "id_number"
    ]
    assert not bad.with_name("customers_missing_id_number.rejects.csv").exists()
    code, result = imported(db, "customers", work / "customers.csv")
    assert code == 0 and result["import_id"] == 1
