"""The cycle through the CLI: the demo's two months of cycles, statement render (HTML, PDF),
errors."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import func, select

from cardbatch.rules.versions import load_version
from cardbatch.services.demo import DEMO_DAYS, cycle_summary
from cardbatch.store import open_store
from cardbatch.store.migrate import upgrade
from cardbatch.store.tables_engine import job_runs
from tests.e2e.cli import cli_json, run_cli
from tests.e2e.cycle.bank import EXAMPLE, load_rules, open_cards, post


def test_demo_runs_two_months_of_cycles(sqlite_url: str, tmp_path: Path) -> None:
    args = ("--db", sqlite_url, "demo", "--customers", "60", "--workdir", str(tmp_path / "d"))
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    for heading in ("statements", "auto-repayment attempts", "late fees:",
                    "delinquency distribution", "ledger check: balanced"):  # fmt: skip
        assert heading in done.stdout, heading
    store = open_store(sqlite_url)
    with store.read() as conn:
        cycle = cycle_summary(conn)
        runs = conn.execute(
            select(func.count())
            .select_from(job_runs)
            .where(job_runs.c.job_name == "card-cycle", job_runs.c.status == "completed")
        ).scalar_one()
    store.dispose()
    assert runs == DEMO_DAYS >= 59
    assert cycle["statements"] >= 2 * 60 - 5  # two statements for (nearly) every account
    assert {a["status"] for a in cycle["autopay"]} >= {"debited"}
    assert cycle["late_fees"] > 0
    assert sum(b["accounts"] for b in cycle["delinquency"]) == 60
    assert "card cycle (standard@1)" in done.stdout


def test_statement_render_html_pdf_and_errors(sqlite_url: str, tmp_path: Path) -> None:
    store = open_store(sqlite_url, require_schema=False)
    upgrade(store)
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    store.dispose()
    switch = tmp_path / "txns.csv"
    switch.write_text("txn_id,account_id,card_number,type,amount,txn_date,posting_date,description\n"
                      f"T1,{card},,purchase,1000.00,2024-03-30,2024-03-30,超市购物\n",
                      encoding="utf-8")  # fmt: skip
    imported = run_cli("--db", sqlite_url, "import", "transactions", str(switch),
                       "--date", "2024-03-30")  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert run_cli("--db", sqlite_url, "date", "set", "2024-03-19").returncode == 0
    assert run_cli("--db", sqlite_url, "cycle", "run", "--through", "2024-04-05").returncode == 0
    args = ("--db", sqlite_url, "statement", "render", card, "--date", "2024-04-05")
    page = run_cli(*args, "--format", "html")
    assert page.returncode == 0, page.stderr
    assert "信用卡对账单" in page.stdout and "622588******0000" in page.stdout
    assert '<td class="amount">1,000.00</td>' in page.stdout
    assert '<td class="due">2024-04-23</td>' in page.stdout
    assert "超市购物" in page.stdout and "6225880000000000" not in page.stdout

    out = tmp_path / "april.pdf"
    done = run_cli(*args, "--format", "pdf", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"written to {out}" in done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = PdfReader(out).pages[0].extract_text()
    assert "本期应还金额" in text and "1,000.00" in text and "622588******0000" in text

    missing = run_cli(*args[:4], card, "--date", "2024-04-06", "--format", "pdf", "--out",
                      str(tmp_path / "x.pdf"))  # fmt: skip
    assert missing.returncode == 1
    assert "has no statement on 2024-04-06" in missing.stderr
    assert not (tmp_path / "x.pdf").exists()
    unknown = run_cli(*args[:4], "CA404", "--date", "2024-04-05")
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert "no card account 'CA404'" in unknown.stderr
    wrong = run_cli(*args, "--format", "docx")
    assert wrong.returncode == 2 and "--format: must be one of html, pdf" in wrong.stderr
    show = run_cli("--db", sqlite_url, "statement", "show", card, "--date", "2024-04-06")
    assert show.returncode == 1 and "has no statement on 2024-04-06" in show.stderr


def test_product_without_approved_rules_fails_clearly(sqlite_url: str) -> None:
    store = open_store(sqlite_url, require_schema=False)
    upgrade(store)
    open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    store.dispose()
    unconfigured = cli_json("--db", sqlite_url, "cycle", "run", "--date", "2024-04-05")
    (skipped,) = unconfigured["dates"][0]["report"]["failures"]
    assert skipped["reason_code"] == "no_rules"
    store = open_store(sqlite_url)
    with store.write() as conn:  # loaded but never approved
        load_version(conn, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1), "a", "s.toml")
    store.dispose()
    done = run_cli("--db", sqlite_url, "cycle", "run", "--date", "2024-05-05")
    assert done.returncode != 0
    assert "product STD has no approved rule version in force on 2024-05-05" in (
        done.stdout + done.stderr
    )


def test_cycle_dry_run_reports_and_writes_nothing(sqlite_url: str) -> None:
    store = open_store(sqlite_url, require_schema=False)
    upgrade(store)
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    post(store, "p1", card, "purchase", 100_000, date(2024, 3, 30))
    store.dispose()
    assert run_cli("--db", sqlite_url, "date", "set", "2024-03-19").returncode == 0
    assert run_cli("--db", sqlite_url, "cycle", "run", "--through", "2024-04-04").returncode == 0
    rehearsal = cli_json("--db", sqlite_url, "cycle", "run", "--through", "2024-04-05",
                         "--dry-run")  # fmt: skip
    last = rehearsal["dates"][-1]
    assert rehearsal["dry_run"] is True and last["business_date"] == "2024-04-05"
    steps = {s["name"]: s for s in last["report"]["steps"]}
    assert steps["statement"]["items_succeeded"] == 1
    missing = run_cli("--db", sqlite_url, "statement", "show", card, "--date", "2024-04-05")
    assert missing.returncode == 1


def test_instalment_conversion_command(sqlite_url: str) -> None:
    store = open_store(sqlite_url, require_schema=False)
    upgrade(store)
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 10))
    post(store, "p1", card, "purchase", 120_000, date(2024, 3, 12))
    store.dispose()
    args = ("--db", sqlite_url, "cycle", "instalment", card, "--amount", "1200.00")
    plan = cli_json(*args, "--months", "6", "--fee-percent", "0.6", "--date", "2024-03-12")
    assert plan["plan_id"] == f"{card}:1"
    assert plan["fee_fen"] == 4320  # 0.6 % x 1,200.00 x 6 months
    assert plan["first_bill_date"] == "2024-04-05"
    refused = run_cli(*args, "--months", "5", "--date", "2024-03-12")
    assert refused.returncode == 1
    assert "instalment count must be one of" in refused.stderr
    assert cli_json("--db", sqlite_url, "ledger", "check")["balanced"] is True


def test_instalment_payoff_through_the_cli(sqlite_url: str) -> None:
    store = open_store(sqlite_url, require_schema=False)
    upgrade(store)
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 10))
    post(store, "p1", card, "purchase", 150_000, date(2024, 3, 12))
    store.dispose()
    base = ("--db", sqlite_url, "cycle")
    plan = cli_json(*base, "instalment", card, "--amount", "1500.00", "--months", "3",
                    "--fee-percent", "0.5", "--date", "2024-03-12")  # fmt: skip
    done = cli_json(*base, "instalment-payoff", plan["plan_id"], "--date", "2024-03-20")
    assert (done["bill_date"], done["principal_fen"]) == ("2024-04-05", 150_000)
    assert (done["fee_fen"], done["waived_fee_fen"]) == (0, 2_250)  # all three months waived
    again = run_cli(*base, "instalment-payoff", plan["plan_id"], "--date", "2024-03-21")
    assert again.returncode == 1
    assert "was paid off on 2024-03-20" in again.stderr
