"""Applications, cards and actions through the real command, as an operator runs them."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.e2e.cli import cli_json, run_cli

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "decision" / "standard_policy.toml"
FIXTURE = ROOT / "tests" / "data" / "invalid" / "applications" / "mixed_edge_cases_zh_headers.csv"
TEMPLATES = ROOT / "examples" / "templates"
ENV = {"CARDBATCH_APPROVERS": "checker"}


def test_application_batch_to_cards_and_limit_change_and_notice(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'e2e.db'}"
    base = ("--db", db)
    assert run_cli(*base, "db", "upgrade").returncode == 0
    version = cli_json(
        *base,
        "--as",
        "maker",
        "applications",
        "policy",
        "load",
        str(POLICY),
        "--effective",
        "2026-01-01",
    )
    refused = run_cli(
        *base,
        "--as",
        "maker",
        "applications",
        "policy",
        "approve",
        str(version["policy_id"]),
        env=ENV,
    )
    assert refused.returncode == 2 and "different user" in refused.stderr
    cli_json(
        *base,
        "--as",
        "checker",
        "applications",
        "policy",
        "approve",
        str(version["policy_id"]),
        env=ENV,
    )
    source = tmp_path / "batch.csv"
    shutil.copy(FIXTURE, source)
    submitted = cli_json(
        *base,
        "--as",
        "maker",
        "applications",
        "submit",
        str(source),
        "--date",
        "2026-03-15",
        "--channel",
        "employer",
    )
    assert (submitted["rows_total"], submitted["rows_accepted"], submitted["rows_rejected"]) == (
        21,
        15,
        6,
    )
    assert Path(submitted["rejects_file"]).is_file()
    batch = submitted["batch_id"]
    dry = cli_json(*base, "applications", "decide", batch, "--date", "2026-03-15", "--dry-run")
    real = cli_json(*base, "applications", "decide", batch, "--date", "2026-03-15")
    assert dry["by_outcome"] == real["by_outcome"] and dry["dry_run"] is True
    queue = cli_json(*base, "applications", "queue")
    first = queue[0]["application_id"]
    reviewed = cli_json(
        *base,
        "--as",
        "checker",
        "applications",
        "review",
        first,
        "--approve",
        "--limit",
        "8000",
        env=ENV,
    )
    assert reviewed["status"] == "approved"
    issued = cli_json(
        *base, "cards", "issue", batch, "--date", "2026-03-16", "--out", str(tmp_path / "cards")
    )
    assert issued["cards_issued"] == real["by_outcome"]["approve"] + 1
    emboss = Path(issued["embossing_file"])
    assert emboss.stat().st_mode & 0o777 == 0o600
    shown = run_cli(
        *base, "cards", "issue", batch, "--date", "2026-03-16", "--out", str(tmp_path / "cards")
    )
    card_numbers = [line.split("|")[1] for line in emboss.read_text().splitlines()[1:-1]]
    assert not any(n in shown.stdout + shown.stderr for n in card_numbers)  # never printed
    accounts = tmp_path / "accounts.txt"
    accounts.write_text("CC0000000001\nCC0000000002\n", encoding="utf-8")
    proposed = cli_json(
        *base,
        "--as",
        "maker",
        "action",
        "limit-change",
        "--accounts",
        str(accounts),
        "--rule",
        "+20% cap 50000",
        "--date",
        "2026-04-01",
    )
    lc = proposed["batch_id"]
    early = run_cli(*base, "action", "limit-apply", lc)
    assert early.returncode == 2 and "only an approved batch" in early.stderr
    cli_json(*base, "--as", "checker", "action", "limit-approve", lc, env=ENV)
    applied = cli_json(*base, "action", "limit-apply", lc)
    assert applied["by_status"]["applied"] >= 1
    reverted = cli_json(*base, "--as", "checker", "action", "limit-revert", lc, env=ENV)
    assert reverted["status"] == "reverted"
    cli_json(*base, "segment", "define", "new_cards", "--where", 'status = "inactive"')
    by_segment = cli_json(
        *base,
        "--as",
        "maker",
        "action",
        "limit-change",
        "--segment",
        "new_cards",
        "--rule",
        "+1000",
        "--date",
        "2026-04-01",
        "--dry-run",
    )
    assert by_segment["status"] == "dry_run"
    assert len(by_segment["items"]) == issued["cards_issued"]
    notice = cli_json(
        *base,
        "action",
        "notify",
        "--template",
        "overdue_m1",
        "--templates",
        str(TEMPLATES),
        "--accounts",
        str(_dpd_file(tmp_path)),
        "--date",
        "2026-05-01",
        "--out",
        str(tmp_path / "notices"),
    )
    assert notice["notices"] == 1
    text = Path(notice["notice_file"]).read_text(encoding="utf-8")
    assert text.startswith("CC0000000001|138****8000|【卡批银行】尊敬的张*，") and "逾期9天" in text


def _dpd_file(tmp_path: Path) -> Path:
    path = tmp_path / "overdue.csv"
    path.write_text(
        "account_id,dpd,amount_due\nCC0000000001,9,1200.00\nCC0000000002,40,5\n", encoding="utf-8"
    )
    return path


def test_whole_file_error_exits_2_with_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'e2e.db'}"
    assert run_cli("--db", db, "db", "upgrade").returncode == 0
    bad = ROOT / "tests" / "data" / "invalid" / "applications" / "missing_id_column.csv"
    done = run_cli("--db", db, "applications", "submit", str(bad))
    assert done.returncode == 2
    assert "required column(s) missing: id_number" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    bad_policy = tmp_path / "bad.toml"
    bad_policy.write_text(
        POLICY.read_text(encoding="utf-8").replace("step_fen = 10000", "step_fen = -1")
    )
    checked = run_cli("applications", "policy", "check", str(bad_policy))
    assert checked.returncode == 1 and "limits.step_fen" in checked.stdout
    refused = run_cli(
        "--db", db, "action", "notify", "--template", "due_reminder", "--segment", "good_credit"
    )
    assert refused.returncode == 2 and "no segment named" in refused.stderr


def test_demo_runs_an_application_batch_and_a_reminder_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    document = cli_json(
        "--db",
        db,
        "--as",
        "li.lei",
        "demo",
        "--customers",
        "60",
        "--days",
        "3",
        "--workdir",
        str(tmp_path / "out"),
    )
    apps = document["applications"]
    assert apps["rows_total"] == apps["rows_rejected"] + sum(apps["by_outcome"].values())
    assert apps["rows_rejected"] == 3 and apps["cards_issued"] >= 1
    assert Path(apps["result_file"]).is_file() and Path(apps["reminder_file"]).is_file()
