"""The night on a real store: catch-up in order, each date once, reconciliation, the posting job."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.domain.transactions import TxnKind
from cardbatch.engine import EngineSettings, RunRequest, get_job, run_job
from cardbatch.engine.calendar import CalendarError, current_business_date, set_business_date
from cardbatch.engine.night import run_night
from cardbatch.jobs.post_transactions import transaction_file, write_transaction_file
from cardbatch.money import format_fen, parse_yuan
from cardbatch.services import ledger
from cardbatch.services.actor import utc_now
from cardbatch.services.posting import TxnLine, post_transactions
from cardbatch.services.synthetic import Bank, build_bank, day_transactions
from cardbatch.store import Store
from cardbatch.store.parties_repo import (
    insert_card_accounts,
    insert_customers,
    insert_deposit_accounts,
)
from cardbatch.store.tables import balances
from cardbatch.store.tables_engine import job_runs
from tests.engine_helpers import ACTOR, migrated

START = date(2026, 1, 1)
SEED = 11


def load_bank(store: Store, customers: int = 40) -> Bank:
    bank = build_bank(customers, SEED, START - timedelta(days=1))
    with store.write() as conn:
        insert_customers(conn, bank.customers, ACTOR, utc_now())
        insert_deposit_accounts(conn, bank.deposits, ACTOR, utc_now())
        insert_card_accounts(conn, bank.cards, ACTOR, utc_now())
    openings = [
        transfer(f"opening:{a}", START - timedelta(days=1), EntryKind.OPENING,
                 (GL.COUNTER_CASH, Component.BALANCE), (a, Component.BALANCE), fen)
        for a, fen in sorted(bank.opening_deposit_fen.items()) if fen > 0
    ]  # fmt: skip
    ledger.post(store, openings, ACTOR)
    return bank


def file_rows(bank: Bank, day: date, extra_bad: bool = True) -> list[tuple[str, ...]]:
    rows = [
        (t.txn_id, t.account_id, t.kind, format_fen(t.amount_fen, grouping=False),
         t.business_date.isoformat(), t.merchant)
        for t in day_transactions(bank, day, SEED)
    ]  # fmt: skip
    if extra_bad:
        rows.insert(3, (f"X{day:%m%d}1", "CA9999999999", "purchase", "5.00", day.isoformat(), ""))
        rows.append((f"X{day:%m%d}2", bank.cards[0].account_id, "purchase", "1.2.3",
                     day.isoformat(), ""))  # fmt: skip
        rows.append(rows[0])  # the same transaction twice in one file
    return rows


def settings_for(tmp: Path, chunk_size: int = 7) -> EngineSettings:
    return EngineSettings(chunk_size=chunk_size, inbox_dir=tmp / "inbox", out_dir=tmp / "out")


def test_catch_up_runs_missed_dates_in_order_each_once(store: Store, tmp_path: Path) -> None:
    bank = load_bank(store)
    settings = settings_for(tmp_path)
    days = [START + timedelta(days=i) for i in range(4)]
    for day in days:
        write_transaction_file(transaction_file(settings.inbox_dir, day), file_rows(bank, day))
    with store.write() as conn:
        set_business_date(conn, START - timedelta(days=1), ACTOR)
    transaction_file(settings.inbox_dir, days[2]).rename(tmp_path / "held-back.csv")
    first = run_night(store, settings, ACTOR, through=days[-1])
    assert [d.business_date for d in first.dates] == days[:3]
    assert [d.closed for d in first.dates] == [True, True, False]
    assert first.dates[2].jobs[0].outcome == "failed"
    assert "transaction file for 2026-01-03 not found" in (first.dates[2].jobs[0].reason or "")
    (tmp_path / "held-back.csv").rename(transaction_file(settings.inbox_dir, days[2]))
    second = run_night(store, settings, ACTOR, through=days[-1])
    assert [d.business_date for d in second.dates] == days[2:]
    assert all(d.closed and d.ok for d in second.dates)
    with store.read() as conn:
        assert current_business_date(conn) == days[-1]
        runs = conn.execute(
            select(job_runs.c.business_date, job_runs.c.status, job_runs.c.attempts)
            .where(job_runs.c.job_name == "post-transactions")
            .order_by(job_runs.c.created_at)
        ).all()  # fmt: skip
    assert [r.business_date for r in runs] == days  # in order, one run per date
    assert all(r.status == "completed" for r in runs)
    assert [r.attempts for r in runs] == [1, 1, 2, 1]  # the failed date resumed, not repeated
    with pytest.raises(CalendarError, match="not after"):
        run_night(store, settings, ACTOR, through=days[-1])
    again = run_night(store, settings, ACTOR, day=days[1])
    assert again.dates[0].jobs[0].outcome == "already_completed"
    assert ledger.check(store).balanced


def test_the_night_writes_a_reconciliation_that_agrees(store: Store, tmp_path: Path) -> None:
    bank = load_bank(store)
    settings = settings_for(tmp_path)
    write_transaction_file(transaction_file(settings.inbox_dir, START), file_rows(bank, START))
    report = run_night(store, settings, ACTOR, day=START)
    night = report.dates[0]
    assert night.closed and night.reconciliation is not None and night.reconciliation["agree"]
    ran = [job.job for job in night.jobs]  # loans are deducted after posting, before the cycle
    assert ran.index("post-transactions") < ran.index("loans-deduct") < ran.index("card-cycle")
    assert all(job.outcome == "completed" for job in night.jobs)
    folder = settings.out_dir / "night" / START.isoformat()
    with (folder / "trial_balance.csv").open() as fh:
        trial = {(r["account_type"], r["component"]): int(r["balance_fen"])
                 for r in csv.DictReader(fh)}  # fmt: skip
    with store.read() as conn:
        total = conn.execute(select(text("SUM(balance_fen)")).select_from(balances)).scalar_one()
    assert total == 0
    assert trial[("TOTAL_DEBIT_BALANCES", "")] == trial[("TOTAL_CREDIT_BALANCES", "")]
    assert ("card_receivables", "purchase") in trial and ("deposits", "balance") in trial
    assert trial[(GL.CARD_SETTLEMENT.value, "balance")] < 0
    with (folder / "gl_summary.csv").open() as fh:
        lines = list(csv.DictReader(fh))
    assert sum(int(r["debits_fen"]) for r in lines) == sum(int(r["credits_fen"]) for r in lines)
    for r in lines:
        assert int(r["opening_fen"]) + int(r["debits_fen"]) - int(r["credits_fen"]) == int(
            r["closing_fen"]
        )
    rejects = settings.out_dir / "post-transactions" / START.isoformat() / "rejects.csv"
    reasons = [r["reason_code"] for r in csv.DictReader(rejects.open())]
    assert sorted(reasons) == ["bad_amount", "duplicate_txn", "unknown_account"]


def test_tampered_balances_make_the_reconciliation_disagree(store: Store, tmp_path: Path) -> None:
    bank = load_bank(store)
    settings = settings_for(tmp_path)
    with store.write() as conn:
        set_business_date(conn, START - timedelta(days=1), ACTOR)
        conn.execute(text("UPDATE balances SET balance_fen = balance_fen + 1 "
                          "WHERE account_id = :a"), {"a": bank.deposits[0].account_id})  # fmt: skip
    write_transaction_file(transaction_file(settings.inbox_dir, START), file_rows(bank, START))
    report = run_night(store, settings, ACTOR)
    night = report.dates[0]
    assert not night.ok and not night.closed
    assert night.reconciliation is not None
    bad = {c["name"] for c in night.reconciliation["checks"] if not c["ok"]}
    assert bad == {"ledger_check", "trial_balance"}
    with store.read() as conn:
        assert current_business_date(conn) == START - timedelta(days=1)


def test_chunked_posting_equals_the_one_shot_posting_service(
    store: Store, tmp_path: Path, db_url: str
) -> None:
    """The engine's post-transactions gives the balances of services/posting.py, any chunking."""
    if not db_url.startswith("sqlite"):
        pytest.skip("one backend is enough for this oracle")
    bank = load_bank(store)
    settings = settings_for(tmp_path, chunk_size=3)
    rows = file_rows(bank, START, extra_bad=False)
    write_transaction_file(transaction_file(settings.inbox_dir, START), rows)
    job = get_job("post-transactions")
    report = run_job(store, RunRequest(job, START, {}, ACTOR, settings))
    assert report.status == "completed" and report.items_failed == 0
    oracle = migrated(f"sqlite:///{tmp_path / 'oracle.db'}")
    try:
        load_bank(oracle)
        lines = [TxnLine(r[0], r[1], TxnKind(r[2]), parse_yuan(r[3]), START, r[5])
                 for r in rows]  # fmt: skip
        post_transactions(oracle, lines, START, ACTOR, run_id="oracle")
        assert _balances(store) == _balances(oracle)
    finally:
        oracle.dispose()


def _balances(store: Store) -> list[tuple[str, str, int]]:
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(balances).order_by(*balances.primary_key))]
