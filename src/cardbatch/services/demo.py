"""The demo: a synthetic bank on a fresh database, its batch work, and what happened.

It creates the schema, loads customers, enterprises, deposit and card
accounts, funds the deposits, then runs the nightly posting of the card
switch's transaction file for each business date, and checks the ledger.
As more batch businesses land, the demo runs them too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.domain.transactions import TxnKind
from cardbatch.services import audit, ledger
from cardbatch.services.actor import utc_now
from cardbatch.services.posting import TxnLine, post_transactions
from cardbatch.services.synthetic import Bank, build_bank, day_transactions
from cardbatch.store import Store, StoreError
from cardbatch.store.ledger_repo import LedgerCheck
from cardbatch.store.parties_repo import (
    insert_card_accounts,
    insert_customers,
    insert_deposit_accounts,
    insert_enterprises,
)
from cardbatch.store.tables import balances, customers

DEMO_START = date(2026, 1, 1)
DEMO_CUSTOMERS_MAX = 1_000_000
DEMO_DAYS_MAX = 366


@dataclass(frozen=True)
class DemoConfig:
    customers: int = 1_000
    days: int = 31
    seed: int = 7
    start: date = DEMO_START

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= DEMO_CUSTOMERS_MAX:
            raise ValueError(f"customers must be 1..{DEMO_CUSTOMERS_MAX}")
        if not 1 <= self.days <= DEMO_DAYS_MAX:
            raise ValueError(f"days must be 1..{DEMO_DAYS_MAX}")


@dataclass
class DemoReport:
    customers: int = 0
    card_accounts: int = 0
    deposit_accounts: int = 0
    enterprises: int = 0
    business_dates: list[str] = field(default_factory=list)
    transactions_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    amount_fen_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    receivables_fen_by_component: dict[str, int] = field(default_factory=dict)
    deposits_fen: int = 0
    sample_account_id: str = ""
    ledger: LedgerCheck | None = None


class DatabaseNotEmpty(StoreError):
    """The demo builds a fresh bank and will not mix it into existing data."""


def run_demo(
    store: Store,
    config: DemoConfig,
    actor: str,
    on_day: Callable[[date], None] | None = None,
) -> DemoReport:
    """Build the synthetic bank and run its nights; ``on_day`` reports progress."""
    _require_empty(store)
    bank = build_bank(config.customers, config.seed, config.start - timedelta(days=1))
    report = DemoReport()
    _load_bank(store, bank, config.start - timedelta(days=1), actor, report)
    for offset in range(config.days):
        business_date = config.start + timedelta(days=offset)
        lines = [
            TxnLine(t.txn_id, t.account_id, TxnKind(t.kind), t.amount_fen, t.business_date,
                    t.merchant)
            for t in day_transactions(bank, business_date, config.seed)
        ]  # fmt: skip
        summary = post_transactions(
            store, lines, business_date, actor, run_id=f"post-transactions:{business_date}"
        )
        report.business_dates.append(business_date.isoformat())
        for kind, n in summary.count_by_kind.items():
            report.transactions_by_kind[kind] += n
            report.amount_fen_by_kind[kind] += summary.amount_fen_by_kind[kind]
        if on_day is not None:
            on_day(business_date)
    _portfolio(store, bank, report)
    report.ledger = ledger.check(store)
    return report


def _require_empty(store: Store) -> None:
    with store.read() as conn:
        count = conn.execute(select(func.count()).select_from(customers)).scalar_one()
    if count:
        raise DatabaseNotEmpty(
            f"the database already holds {count} customers; the demo needs a fresh database "
            "(give a new --db file)"
        )


def _load_bank(store: Store, bank: Bank, opened_on: date, actor: str, report: DemoReport) -> None:
    now = utc_now()
    with store.write() as conn:
        report.customers = insert_customers(conn, bank.customers, actor, now)
        report.deposit_accounts = insert_deposit_accounts(conn, bank.deposits, actor, now)
        report.card_accounts = insert_card_accounts(conn, bank.cards, actor, now)
        report.enterprises = insert_enterprises(conn, bank.enterprises, actor, now)
        audit.record(conn, actor, "demo.build", "bank", customers=report.customers)
    openings = [
        transfer(f"opening:{account_id}", opened_on, EntryKind.OPENING,
                 debit=(GL.COUNTER_CASH, Component.BALANCE),
                 credit=(account_id, Component.BALANCE), amount_fen=amount_fen,
                 description="opening deposit", run_id="demo-opening")
        for account_id, amount_fen in sorted(bank.opening_deposit_fen.items())
        if amount_fen > 0
    ]  # fmt: skip
    ledger.post(store, openings, actor)


def _portfolio(store: Store, bank: Bank, report: DemoReport) -> None:
    card_ids = {c.account_id for c in bank.cards}
    deposit_ids = {d.account_id for d in bank.deposits}
    by_component: dict[str, int] = defaultdict(int)
    with store.read() as conn:
        rows = conn.execute(select(balances.c.account_id, balances.c.component,
                                   balances.c.balance_fen))  # fmt: skip
        for account_id, component, amount_fen in rows:
            if account_id in card_ids:
                by_component[component] += amount_fen
            elif account_id in deposit_ids:
                report.deposits_fen -= amount_fen  # deposits are credit balances
    report.receivables_fen_by_component = dict(sorted(by_component.items()))
    report.sample_account_id = bank.cards[0].account_id
