"""Writing customers, enterprises, deposit and card accounts in bulk (executemany)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

from cardbatch.domain.records import CardAccount, Customer, DepositAccount, Enterprise
from cardbatch.store.tables import card_accounts, customers, deposit_accounts, enterprises


def insert_customers(
    conn: Connection, records: Sequence[Customer], actor: str, now: datetime
) -> int:
    return _insert(conn, customers, records, actor, now)


def insert_enterprises(
    conn: Connection, records: Sequence[Enterprise], actor: str, now: datetime
) -> int:
    return _insert(conn, enterprises, records, actor, now)


def insert_deposit_accounts(
    conn: Connection, records: Sequence[DepositAccount], actor: str, now: datetime
) -> int:
    return _insert(conn, deposit_accounts, records, actor, now)


def insert_card_accounts(
    conn: Connection, records: Sequence[CardAccount], actor: str, now: datetime
) -> int:
    return _insert(conn, card_accounts, records, actor, now)


def _insert(
    conn: Connection, table: Table, records: Sequence[Any], actor: str, now: datetime
) -> int:
    if not records:
        return 0
    rows = [{**asdict(r), "created_at": now, "created_by": actor} for r in records]
    conn.execute(table.insert(), rows)
    return len(rows)
