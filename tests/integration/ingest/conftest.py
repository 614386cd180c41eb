"""Helpers for import tests: sample paths, loading the example bank, table snapshots."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cardbatch.ingest.service import ImportResult, import_file
from cardbatch.store import Store
from cardbatch.store.tables import (
    balances,
    card_accounts,
    customers,
    deposit_accounts,
    journal_entries,
    postings,
)
from cardbatch.store.tables_ingest import imports

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"
BUSINESS_DATE = date(2024, 3, 31)
ORDER = ("customers", "deposits", "accounts", "transactions")
# What must be loaded before a file of each kind can be checked against the store.
PREREQUISITES = {
    "customers": ("customers",),
    "deposits": ("customers",),
    "accounts": ("customers", "deposits"),
    "transactions": ORDER,
}


def copy_to(tmp_path: Path, source: Path) -> Path:
    """Imports write their rejects file next to the input: work on a copy."""
    target = tmp_path / source.name
    shutil.copy(source, target)
    return target


def load_examples(store: Store, tmp_path: Path, kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        path = copy_to(tmp_path, EXAMPLES / f"{kind}.csv")
        result = import_file(store, kind, path, business_date=BUSINESS_DATE, actor="tester")
        assert result.rows_rejected == 0, result.rejects


def run(store: Store, kind: str, path: Path, **options: Any) -> ImportResult:
    options.setdefault("business_date", BUSINESS_DATE)
    options.setdefault("actor", "tester")
    return import_file(store, kind, path, **options)


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of every table an import writes (without wall-clock columns)."""
    tables = {
        "customers": select(customers.c.customer_id, customers.c.name, customers.c.id_number,
                            customers.c.phone, customers.c.city, customers.c.birth_date,
                            customers.c.credit_score),
        "deposits": select(deposit_accounts.c.account_id, deposit_accounts.c.holder_name,
                           deposit_accounts.c.status, deposit_accounts.c.customer_id,
                           deposit_accounts.c.opened_on),
        "cards": select(card_accounts.c.account_id, card_accounts.c.customer_id,
                        card_accounts.c.product_code, card_accounts.c.card_number,
                        card_accounts.c.credit_limit_fen, card_accounts.c.statement_day,
                        card_accounts.c.repayment_account_id, card_accounts.c.autopay_mode,
                        card_accounts.c.status, card_accounts.c.opened_on),
        "entries": select(journal_entries.c.idempotency_key, journal_entries.c.content_hash,
                          journal_entries.c.business_date, journal_entries.c.kind),
        "postings": select(postings.c.entry_id, postings.c.account_id, postings.c.component,
                           postings.c.amount_fen),
        "balances": select(balances.c.account_id, balances.c.component, balances.c.balance_fen),
    }  # fmt: skip
    with store.read() as conn:
        return {name: sorted(tuple(row) for row in conn.execute(query))
                for name, query in tables.items()}  # fmt: skip


def import_count(store: Store) -> int:
    with store.read() as conn:
        return len(conn.execute(select(imports.c.import_id)).all())


def fresh_sqlite_store(folder: Path) -> Store:
    """A second, migrated SQLite store (e.g. the reference bank loaded from the examples)."""
    from cardbatch.store import open_store
    from cardbatch.store.migrate import upgrade

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'reference.db'}"
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    return open_store(url)


def reference_snapshot(folder: Path, kinds: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    store = fresh_sqlite_store(folder)
    try:
        load_examples(store, folder, kinds)
        return snapshot(store)
    finally:
        store.dispose()
