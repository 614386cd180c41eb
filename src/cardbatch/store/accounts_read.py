"""Read-only queries for the console: one account with its holder, a page of card accounts,
an account's stored statements and the ledger lines of a statement's period."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, select

from cardbatch.store.tables import (
    card_accounts,
    customers,
    deposit_accounts,
    journal_entries,
    postings,
)
from cardbatch.store.tables_cycle import STATEMENT_AMOUNTS, statements


def card_with_holder(conn: Connection, account_id: str) -> Any:
    """The card account joined with its holder, or None."""
    ca, cu = card_accounts.c, customers.c
    query = (
        select(ca.account_id, ca.product_code, ca.card_number, ca.credit_limit_fen,
               ca.statement_day, ca.repayment_account_id, ca.autopay_mode, ca.status,
               ca.opened_on, cu.customer_id, cu.name, cu.id_number, cu.phone, cu.city)
        .join_from(card_accounts, customers, ca.customer_id == cu.customer_id)
        .where(ca.account_id == account_id)
    )  # fmt: skip
    return conn.execute(query).first()


def deposit_with_holder(conn: Connection, account_id: str) -> Any:
    """The deposit account with its holder (if a person), or None."""
    da, cu = deposit_accounts.c, customers.c
    query = (
        select(da.account_id, da.holder_name, da.status, da.opened_on, da.enterprise_id,
               cu.customer_id, cu.id_number, cu.phone, cu.city)
        .join_from(deposit_accounts, customers, da.customer_id == cu.customer_id, isouter=True)
        .where(da.account_id == account_id)
    )  # fmt: skip
    return conn.execute(query).first()


def card_page(conn: Connection, after_id: str, rows_max: int) -> list[Row[Any]]:
    """Card accounts in id order after ``after_id`` (keyset paging), with holder names."""
    ca, cu = card_accounts.c, customers.c
    query = (
        select(ca.account_id, ca.card_number, ca.product_code, ca.status, cu.name)
        .join_from(card_accounts, customers, ca.customer_id == cu.customer_id)
        .where(ca.account_id > after_id)
        .order_by(ca.account_id)
        .limit(rows_max)
    )
    return list(conn.execute(query))


STATEMENT_FIELDS: tuple[str, ...] = (
    "account_id", "statement_date", "due_date", *STATEMENT_AMOUNTS, "period_start", "dpd",
    "bucket", "five_category", "rule_version",
)  # fmt: skip


def statement_rows(
    conn: Connection, account_id: str, rows_max: int, on: date | None = None
) -> list[dict[str, Any]]:
    """The card cycle's stored statements of an account (only the one of ``on`` if given),
    newest first; a primary-key range."""
    s = statements.c
    query = (
        select(*(s[name] for name in STATEMENT_FIELDS))
        .where(s.account_id == account_id)
        .order_by(s.statement_date.desc())
        .limit(rows_max)
    )
    if on is not None:
        query = query.where(s.statement_date == on)
    return [dict(row) for row in conn.execute(query).mappings()]


def statement_lines(
    conn: Connection, account_id: str, first: date, last: date
) -> list[dict[str, Any]]:
    """The ledger's postings on the account from ``first`` to ``last``: a statement's lines."""
    je, p = journal_entries.c, postings.c
    query = (
        select(je.business_date, je.kind, je.description, p.component, p.amount_fen)
        .join(journal_entries, je.entry_id == p.entry_id)
        .where(p.account_id == account_id, je.business_date >= first, je.business_date <= last)
        .order_by(je.business_date, je.entry_id, p.posting_id)
    )
    return [
        {"date": d, "kind": k, "description": text, "component": c, "amount_fen": int(a)}
        for d, k, text, c, a in conn.execute(query)
    ]
