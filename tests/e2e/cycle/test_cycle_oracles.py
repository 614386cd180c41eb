"""DOMAIN.md O1 end to end: transactions posted, `cycle run`, `statement show --json`."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from cardbatch.jobs.post_transactions import transaction_file, write_transaction_file
from cardbatch.store import open_store
from cardbatch.store.migrate import upgrade
from tests.e2e.cli import cli_json, run_cli
from tests.e2e.cycle.bank import EXAMPLE, load_rules, open_cards, post

STANDARD = EXAMPLE.read_text(encoding="utf-8")


def _bank(url: str, rules_text: str = STANDARD) -> str:
    store = open_store(url, require_schema=False)
    upgrade(store)
    load_rules(store, rules_text, date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    post(store, "p1", card, "purchase", 100_000, date(2024, 3, 30))
    store.dispose()
    return card


def _cycle_through(url: str, day: str) -> None:
    done = run_cli("--db", url, "cycle", "run", "--through", day)
    assert done.returncode == 0, done.stdout + done.stderr
    check = cli_json("--db", url, "ledger", "check")
    assert check["balanced"] is True


def _statement(url: str, card: str, day: str) -> dict[str, int]:
    found: dict[str, int] = cli_json("--db", url, "statement", "show", card, "--date", day)
    total = (
        found["opening_balance_fen"] + found["purchases_fen"] + found["cash_fen"]
        + found["instalment_fen"] + found["interest_fen"] + found["fees_fen"]
        + found["late_fee_fen"] - found["payments_fen"] - found["credits_fen"]
    )  # fmt: skip
    assert found["closing_balance_fen"] == total
    return found


def _set_date(url: str, day: str) -> None:
    done = run_cli("--db", url, "date", "set", day)
    assert done.returncode == 0, done.stderr


def test_o1_full_balance_minimum_paid_on_due_date(db_url: str) -> None:
    card = _bank(db_url)
    _set_date(db_url, "2024-03-19")
    _cycle_through(db_url, "2024-04-05")
    april = _statement(db_url, card, "2024-04-05")
    assert april["minimum_payment_fen"] == 10_000
    assert april["due_date"] == "2024-04-23"
    assert april["closing_balance_fen"] == 100_000
    store = open_store(db_url)
    post(store, "pay1", card, "payment", 10_000, date(2024, 4, 23))
    store.dispose()
    _cycle_through(db_url, "2024-05-05")
    may = _statement(db_url, card, "2024-05-05")
    assert may["interest_fen"] == 1785
    assert may["late_fee_fen"] == 0
    assert may["payments_fen"] == 10_000
    assert may["closing_balance_fen"] == 100_000 - 10_000 + 1785


def test_o1_unpaid_only_mode(db_url: str) -> None:
    card = _bank(db_url, STANDARD.replace('mode = "full_balance"', 'mode = "unpaid_only"'))
    store = open_store(db_url)
    post(store, "pay1", card, "payment", 10_000, date(2024, 4, 23))
    store.dispose()
    _set_date(db_url, "2024-03-19")
    _cycle_through(db_url, "2024-05-05")
    assert _statement(db_url, card, "2024-05-05")["interest_fen"] == 1665


def test_o1_no_payment_interest_and_late_fee(db_url: str) -> None:
    card = _bank(db_url)
    _set_date(db_url, "2024-03-19")
    _cycle_through(db_url, "2024-05-05")
    may = _statement(db_url, card, "2024-05-05")
    assert may["interest_fen"] == 1850
    assert may["late_fee_fen"] == 1000
    lines = cli_json("--db", db_url, "statement", "show", card, "--date", "2024-05-05")["lines"]
    fees = [ln for ln in lines if ln["kind"] == "late_fee"]
    assert [(f["date"], f["amount_fen"]) for f in fees] == [("2024-04-27", 1000)]


def test_explain_names_rule_version_and_days(sqlite_url: str) -> None:
    card = _bank(sqlite_url)
    _set_date(sqlite_url, "2024-03-19")
    _cycle_through(sqlite_url, "2024-05-05")
    found = cli_json("--db", sqlite_url, "cycle", "explain", card, "--date", "2024-05-05")
    texts = [line["text"] for line in found["lines"]]
    assert texts[0] == "rule version STD@1"
    assert any("18.50" in t for t in texts), texts
    assert any("late fee" in t for t in texts), texts
    _store_inputs_the_older_way(sqlite_url, card)  # lots and txns carrying the account id
    again = cli_json("--db", sqlite_url, "cycle", "explain", card, "--date", "2024-05-05")
    assert again["lines"] == found["lines"]


def _store_inputs_the_older_way(sqlite_url: str, card: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        (raw,) = conn.execute(
            "SELECT inputs_json FROM statements WHERE account_id = ? AND statement_date = ?",
            (card, "2024-05-05"),
        ).fetchone()
        inputs = json.loads(raw)
        rows = inputs["lots"] + inputs["txns"]
        assert rows and all("account_id" not in row for row in rows)
        for part in ("lots", "txns"):
            inputs[part] = [{"account_id": card, **row} for row in inputs[part]]
        conn.execute(
            "UPDATE statements SET inputs_json = ? WHERE account_id = ? AND statement_date = ?",
            (json.dumps(inputs), card, "2024-05-05"),
        )


def test_o1_through_the_night_from_transaction_files(db_url: str, tmp_path: Path) -> None:
    """The switch's files for every date, `night run` (post-transactions, then card-cycle)."""
    store = open_store(db_url, require_schema=False)
    upgrade(store)
    load_rules(store, STANDARD, date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    store.dispose()
    inbox = tmp_path / "inbox"
    lines = {
        date(2024, 3, 30): [("T1", card, "purchase", "1000.00", "2024-03-30", "shop")],
        date(2024, 4, 23): [("T2", card, "payment", "100.00", "2024-04-23", "counter")],
    }
    day = date(2024, 3, 20)
    while day <= date(2024, 5, 5):
        write_transaction_file(transaction_file(inbox, day), lines.get(day, []))
        day += timedelta(days=1)
    _set_date(db_url, "2024-03-19")
    night = run_cli("--db", db_url, "night", "run", "--through", "2024-05-05",
                    "--inbox", str(inbox), "--out", str(tmp_path / "out"))  # fmt: skip
    assert night.returncode == 0, night.stdout + night.stderr
    assert "card-cycle: completed" in night.stdout
    assert cli_json("--db", db_url, "ledger", "check")["balanced"] is True
    may = _statement(db_url, card, "2024-05-05")
    assert (may["interest_fen"], may["payments_fen"], may["late_fee_fen"]) == (1785, 10_000, 0)
