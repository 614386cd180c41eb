"""Shared by the scale tests: a small worst-case portfolio, fresh databases, ledger snapshots."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import text

from cardbatch.jobs.cycle_portfolio import build_portfolio
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade
from tests.conftest import PG_ADMIN_URL


def portfolio_store(url: str, accounts_n: int, seed: int = 7) -> Store:
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    store = open_store(url)
    build_portfolio(store, accounts_n, seed)
    return store


@contextmanager
def extra_pg_database(copy_of: str | None = None) -> Iterator[str]:
    """One more PostgreSQL database: fresh, or a copy of the (unused) database ``copy_of``."""
    name = f"cardbatch_t_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{copy_of.rsplit("/", 1)[1]}"' if copy_of else ""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Postings (by entry key), statements, balances and cycle state, in a stable order."""
    queries = {
        "postings": "SELECT je.idempotency_key, je.content_hash, je.kind, je.business_date, "
        "p.account_id, p.component, p.amount_fen FROM postings p JOIN journal_entries je "
        "ON je.entry_id = p.entry_id ORDER BY 1, 5, 6, 7",
        "statements": "SELECT account_id, statement_date, period_start, due_date, "
        "closing_balance_fen, minimum_payment_fen, interest_fen, late_fee_fen, payments_fen, "
        "dpd, bucket, five_category, rule_version, run_id, inputs_json FROM statements "
        "ORDER BY 1, 2",
        "balances": "SELECT account_id, component, balance_fen FROM balances ORDER BY 1, 2",
        "cycle_accounts": "SELECT * FROM cycle_accounts ORDER BY account_id",
        "autopay_attempts": "SELECT account_id, attempt_date, status, reason_code, amount_fen, "
        "entry_key FROM autopay_attempts ORDER BY 1, 2",
    }
    with store.read() as conn:
        found = {name: [tuple(r) for r in conn.execute(text(q))] for name, q in queries.items()}
    found["statements"] = [(*row[:-1], _without_entry_ids(row[-1])) for row in found["statements"]]
    return found


def _without_entry_ids(inputs_json: str) -> str:
    """A statement's inputs, less the entry ids (``seq``) that depend on posting order only."""
    inputs = json.loads(inputs_json)
    for name in ("lots", "txns"):
        for row in inputs[name]:
            row.pop("seq", None)
    return json.dumps(inputs, sort_keys=True)


def duplicate_keys(store: Store) -> int:
    with store.read() as conn:
        total, distinct = conn.execute(
            text("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM journal_entries")
        ).one()
    return int(total) - int(distinct)
