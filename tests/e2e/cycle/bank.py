"""A small bank for the cycle tests: one product's rules approved, cards, transactions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import update

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.domain.records import CardAccount, Customer, DepositAccount
from cardbatch.domain.transactions import TxnKind
from cardbatch.engine.calendar import current_business_date, set_business_date
from cardbatch.engine.settings import load_settings
from cardbatch.jobs.cycle_service import CycleDate, account_status, run_cycle, statement_of
from cardbatch.rules.versions import approve_version, load_version
from cardbatch.services import ledger
from cardbatch.services.actor import utc_now
from cardbatch.services.posting import TxnLine, post_transactions
from cardbatch.store import Store
from cardbatch.store.parties_repo import (
    insert_card_accounts,
    insert_customers,
    insert_deposit_accounts,
)
from cardbatch.store.tables import card_accounts

EXAMPLE = Path(__file__).parents[3] / "examples" / "rules" / "standard.toml"
RICS = ("11010519491231002X", "360426199101010071", "110105199001011232")


def load_rules(store: Store, text: str, effective: date) -> None:
    with store.write() as conn:
        version, _ = load_version(conn, text, effective, "maker", "standard.toml")
        approve_version(conn, version.product_code, version.version_no, "checker")


def open_cards(store: Store, statement_day: int, opened_on: date, count: int = 1) -> list[str]:
    now = utc_now()
    customers, deposits, cards = [], [], []
    for n in range(count):
        cid = f"C{n:08d}"
        customers.append(Customer(cid, f"Holder {n}", RICS[n], None, None, None, None))
        deposits.append(DepositAccount(f"D{n:09d}", f"Holder {n}", customer_id=cid,
                                       opened_on=opened_on))  # fmt: skip
        cards.append(CardAccount(
            account_id=f"CA{n:010d}", customer_id=cid, product_code="STD",
            card_number=f"622588000000{n:04d}", credit_limit_fen=5_000_000,
            statement_day=statement_day, repayment_account_id=f"D{n:09d}",
            autopay_mode="none", opened_on=opened_on,
        ))  # fmt: skip
    with store.write() as conn:
        insert_customers(conn, customers, "tester", now)
        insert_deposit_accounts(conn, deposits, "tester", now)
        insert_card_accounts(conn, cards, "tester", now)
    return [c.account_id for c in cards]


def post(store: Store, txn_id: str, account_id: str, kind: str, amount_fen: int, on: date) -> None:
    line = TxnLine(txn_id, account_id, TxnKind(kind), amount_fen, on, kind)
    post_transactions(store, [line], on, "tester", run_id=f"test:{on}")


def fee(store: Store, key: str, account_id: str, amount_fen: int, on: date) -> None:
    entry = transfer(f"test-fee:{key}", on, EntryKind.FEE, (account_id, Component.FEE),
                     (GL.FEE_INCOME, Component.BALANCE), amount_fen, "annual fee")  # fmt: skip
    ledger.post(store, [entry], "tester")


def fund(store: Store, key: str, deposit_id: str, amount_fen: int, on: date) -> None:
    entry = transfer(f"test-deposit:{key}", on, EntryKind.DEPOSIT,
                     (GL.COUNTER_CASH, Component.BALANCE), (deposit_id, Component.BALANCE),
                     amount_fen, "cash deposit")  # fmt: skip
    ledger.post(store, [entry], "tester")


def set_autopay(store: Store, account_id: str, mode: str) -> None:
    with store.write() as conn:
        conn.execute(
            update(card_accounts).where(card_accounts.c.account_id == account_id)
            .values(autopay_mode=mode)
        )  # fmt: skip


def cycle_through(store: Store, day: date, dry_run: bool = False) -> list[CycleDate]:
    """Run the card cycle up to ``day``; every date completes and the ledger checks out."""
    with store.write() as conn:
        if current_business_date(conn) is None:
            set_business_date(conn, date(2024, 3, 1), "tester")
    done = run_cycle(store, load_settings(), "tester", None, day, dry_run)
    assert all(d.status in ("completed", "already_completed") for d in done), done
    assert ledger.check(store).balanced
    return done


def statement(store: Store, account_id: str, day: date) -> dict[str, Any]:
    with store.read() as conn:
        found = statement_of(conn, account_id, day)
    total = (
        found["opening_balance_fen"] + found["purchases_fen"] + found["cash_fen"]
        + found["instalment_fen"] + found["interest_fen"] + found["fees_fen"]
        + found["late_fee_fen"] - found["payments_fen"] - found["credits_fen"]
    )  # fmt: skip
    assert found["closing_balance_fen"] == total
    return found


def status(store: Store, account_id: str) -> dict[str, Any]:
    with store.read() as conn:
        return account_status(conn, account_id)
