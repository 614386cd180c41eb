"""Loan schedules and the nightly deduction on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardbatch.domain.records import DepositAccount
from cardbatch.jobs.loans_deduct import deduct
from cardbatch.paybatch.loans import (
    GL_LOAN_RECEIVABLE,
    ScheduleError,
    deduction_key,
    import_schedules,
    set_product,
    show_loan,
)
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.parties_repo import insert_deposit_accounts
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_paybatch import loan_instalments, loans
from tests.integration.paybatch.worlds import ACTIVE, CLOSED, available_fen, fund

DATA = Path(__file__).resolve().parents[2] / "data"
SCHEDULES = DATA / "valid" / "paybatch" / "loan_schedules_20240415.csv"
PARTIAL_SCHEDULE = DATA / "valid" / "paybatch" / "loan_schedules_partial_product_20240415.csv"
OPS = "ops"
FUNDS = {"1": 500_000, "2": 30_000, "3": 25_000, "4": 100_000, "5": 0}


def accounts(store: Store) -> None:
    records = [
        DepositAccount(f"623000000000000{n}", f"借款人{n}", CLOSED if n == "4" else ACTIVE)
        for n in FUNDS
    ]
    with store.write() as conn:
        insert_deposit_accounts(conn, records, OPS, datetime(2024, 4, 1, tzinfo=UTC))
    for n, amount_fen in FUNDS.items():
        if amount_fen:
            fund(store, f"623000000000000{n}", amount_fen, f"loan-{n}")


@pytest.fixture
def loan_store(store: Store) -> Store:
    accounts(store)
    set_product(store, "partial", retry_days=2, partial_debit=True, actor=OPS)
    import_schedules(store, SCHEDULES, OPS)
    import_schedules(store, PARTIAL_SCHEDULE, OPS, product_code="partial")
    return store


def statuses(store: Store) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.execute(
            select(loan_instalments.c.loan_id, loan_instalments.c.instalment_no,
                   loan_instalments.c.status)
        )  # fmt: skip
        return {f"{loan}#{no}": status for loan, no, status in rows}


def test_deduction_day_by_day(loan_store: Store) -> None:
    store = loan_store
    first = deduct(store, date(2024, 4, 15), OPS)
    assert first.attempts == 5  # L001#1 L002 L003 L004 L005 (L001#2 is not due yet)
    assert first.by_reason == {"account_closed": 1, "insufficient_funds": 3, "success": 1}
    assert statuses(store) == {
        "L001#1": "paid", "L001#2": "due", "L002#1": "due", "L003#1": "partial",
        "L004#1": "failed", "L005#1": "due",
    }  # fmt: skip
    assert available_fen(store, "6230000000000001") == 500_000 - 100_000
    assert available_fen(store, "6230000000000003") == 0  # partial: took all 250.00
    assert first.debited_fen == 100_000 + 25_000

    again = deduct(store, date(2024, 4, 15), OPS)  # the same night re-run: nothing new
    assert again.attempts == 0 and again.skipped_done_before == 3  # the still-open ones

    fund(store, "6230000000000002", 50_000, "top-up-2")
    fund(store, "6230000000000003", 40_000, "top-up-3")
    second = deduct(store, date(2024, 4, 16), OPS)
    assert statuses(store)["L002#1"] == "paid"  # retry on a later day succeeds
    assert statuses(store)["L003#1"] == "paid"  # the rest of the partial instalment
    assert available_fen(store, "6230000000000003") == 40_000 - 35_000
    assert statuses(store)["L005#1"] == "overdue"  # due 04-13, last retry 04-16 failed
    assert second.by_reason["success"] == 2

    view = show_loan(store, "L003")
    assert [(a["attempt_no"], a["debited_fen"], a["status"]) for a in view.attempts] == [
        (1, 25_000, "partial"), (2, 35_000, "paid"),
    ]  # fmt: skip
    assert ledger.history(store, GL_LOAN_RECEIVABLE).balance_fen == -(
        100_000 + 25_000 + 80_000 + 35_000
    )
    assert ledger.check(store).balanced


def test_deduction_keys_are_one_entry_per_attempt(loan_store: Store) -> None:
    deduct(loan_store, date(2024, 4, 15), OPS)
    deduct(loan_store, date(2024, 4, 15), OPS)
    with loan_store.read() as conn:
        keys = list(conn.execute(select(journal_entries.c.idempotency_key)).scalars())
    loan_keys = [k for k in keys if k.startswith("loan:")]
    assert sorted(loan_keys) == [deduction_key("L001", 1, 1), deduction_key("L003", 1, 1)]


def test_closed_account_is_not_retried(loan_store: Store) -> None:
    deduct(loan_store, date(2024, 4, 15), OPS)
    fund(loan_store, "6230000000000004", 1, "noise")
    later = deduct(loan_store, date(2024, 4, 16), OPS)
    assert "account_closed" not in later.by_reason
    assert statuses(loan_store)["L004#1"] == "failed"


def test_a_schedule_imports_once(loan_store: Store) -> None:
    with pytest.raises(ScheduleError, match="imported before"):
        import_schedules(loan_store, SCHEDULES, OPS)


def test_chinese_headers_in_gbk(store: Store) -> None:
    outcome = import_schedules(store, DATA / "valid/paybatch/loan_schedules_zh_headers_gbk.csv",
                               OPS)  # fmt: skip
    assert (outcome.loans, outcome.instalments, outcome.total_fen) == (1, 2, 24_100)


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("loan_schedules_bad_rows.csv", [
            "loan_schedules_bad_rows.csv:2: due_date '2024-02-30'",
            ":3: amount '0.00': must be above zero", ":4: account: must not be empty",
            ":5: instalment_no 'x': not a number",
        ]),
        ("loan_schedules_same_instalment_twice.csv", [
            "loan B005 instalment 1 appears 2 times", "loan B006 names more than one account",
        ]),
        ("loan_schedules_unknown_column.csv", ["header 'colour': unknown column"]),
    ],
)  # fmt: skip
def test_bad_schedules_are_refused_whole(store: Store, name: str, fragments: list[str]) -> None:
    with pytest.raises(ScheduleError) as caught:
        import_schedules(store, DATA / "invalid" / "paybatch" / name, OPS)
    text = "\n".join(caught.value.problems)
    for fragment in fragments:
        assert fragment in text
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(loans)).scalar_one() == 0


def test_an_undefined_product_is_refused(store: Store) -> None:
    with pytest.raises(ScheduleError, match="product 'gold' is not defined"):
        import_schedules(store, SCHEDULES, OPS, product_code="gold")


def test_missing_instalment_numbers_follow_the_due_dates(loan_store: Store) -> None:
    assert [i["instalment_no"] for i in show_loan(loan_store, "L003").instalments] == [1]
