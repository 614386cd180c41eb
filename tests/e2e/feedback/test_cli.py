"""``cardbatch feedback`` and ``cardbatch report`` through the real command, as an agent would."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

from cardbatch.store import Store
from tests.engine_helpers import REPO_ROOT, cli_command, cli_env
from tests.feedback_helpers import FIX_DAY, seed_double_debit

VALID = REPO_ROOT / "tests" / "data" / "valid" / "feedback"
INVALID = REPO_ROOT / "tests" / "data" / "invalid" / "feedback"


def _cli(db_url: str, *args: str, user: str = "agent01") -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), env=cli_env(db_url, CARDBATCH_USER=user),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


def _json(db_url: str, *args: str, user: str = "agent01") -> Any:
    done = _cli(db_url, *args, "--json", user=user)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_feedback_from_call_to_reversal_through_the_cli(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    card, (first, second) = seed_double_debit(store, tmp_path)
    day = FIX_DAY.isoformat()
    added = _json(db_url, "feedback", "add", "--account", card, "--channel", "call_centre",
                  "--category", "double_debit", "--text", "charged twice",
                  "--date", day)  # fmt: skip
    fid = str(added["feedback_id"])
    assert [link["entry_key"] for link in added["links"]] == [first, second]
    assert _json(db_url, "feedback", "investigate", fid)["status"] == "investigating"
    resolved = _json(db_url, "feedback", "resolve", fid, "--resolution", "duplicate",
                     "--reverse", second, "--date", day)  # fmt: skip
    cid = str(resolved["corrections"][0]["correction_id"])
    own = _cli(db_url, "feedback", "approve", cid)
    assert own.returncode == 2 and "different user" in own.stderr
    assert _json(db_url, "feedback", "approve", cid, user="super01")["status"] == "approved"
    run = _json(db_url, "feedback", "run-corrections", "--date", day, user="super01")
    assert (run["status"], run["items_succeeded"]) == ("completed", 1)
    story = _json(db_url, "feedback", "explain", fid)
    assert story["entries"][1]["corrected_by"][0]["entry_key"] == f"reversal:{second}"
    assert story["entries"][1]["run"]["job"] == "post-transactions"
    history = _json(db_url, "account", "history", card)
    assert sum(1 for line in history["lines"] if line["kind"] == "reversal") == 1
    listed = _json(db_url, "feedback", "list", "--status", "resolved")
    assert [r["feedback_id"] for r in listed] == [int(fid)]
    shown = _cli(db_url, "feedback", "show", fid)
    assert shown.returncode == 0 and f"reversal of {second}" in shown.stdout
    rates_csv = tmp_path / "rates.csv"
    rates = _json(db_url, "report", "rates", "--from", "2026-01-01", "--to", day,
                  "--csv", str(rates_csv))  # fmt: skip
    post = next(r for r in rates["jobs"] if r["job"] == "post-transactions")
    assert (post["items"], post["feedback"]) == (4, 1)
    with rates_csv.open() as handle:
        assert len(list(csv.reader(handle))) == 1 + len(rates["jobs"])
    bad = _cli(db_url, "feedback", "add", "--account", card, "--channel", "fax",
               "--category", "other", "--text", "x", "--date", day)  # fmt: skip
    assert bad.returncode == 2 and "channel must be one of" in bad.stderr


def test_reports_from_files_with_csv_export(sqlite_url: str, tmp_path: Path) -> None:
    out_csv = tmp_path / "impact.csv"
    rows = _json(sqlite_url, "report", "rule-impact", "--facts",
                 str(VALID / "feedback_period_facts.csv"), "--rules-a",
                 str(REPO_ROOT / "examples" / "rules" / "standard.toml"), "--rules-b",
                 str(VALID.parent / "rules_standard_lower_rate.toml"),
                 "--csv", str(out_csv))  # fmt: skip
    assert rows[-1]["interest_diff_fen"] == -6207
    assert out_csv.read_text().splitlines()[0].startswith("segment,product,periods")
    best = _json(sqlite_url, "report", "retry-schedule", "--attempts",
                 str(VALID / "autopay_attempts_history.csv"), "--payroll",
                 str(VALID / "autopay_payroll_days.csv"))  # fmt: skip
    assert best["best"]["retry_days"] == [2, 4]
    bad = _cli(sqlite_url, "report", "retry-schedule", "--attempts",
               str(INVALID / "autopay_attempts_bad_result.csv"), "--payroll",
               str(VALID / "autopay_payroll_days.csv"))  # fmt: skip
    assert bad.returncode == 2
    assert "autopay_attempts_bad_result.csv, line 2, field result" in bad.stderr
