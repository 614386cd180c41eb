"""Read-only queries for the console: one account with its holder, a page of card accounts,
an account's stored statements and the ledger lines of a statement's period.

The per-account queries answer the console's hot endpoints, so they are built once at
import with bound parameters: a request only binds the account id (SQLAlchemy's
compiled cache then skips the SQL compilation too). Each is a primary-key or indexed
lookup: no scans.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from cardbatch.store.tables import (
    balances,
    card_accounts,
    customers,
    deposit_accounts,
    journal_entries,
    postings,
)
from cardbatch.store.tables_cycle import STATEMENT_AMOUNTS, statements

_ca, _da, _cu = card_accounts.c, deposit_accounts.c, customers.c
_CARD_WITH_HOLDER = (
    select(_ca.account_id, _ca.product_code, _ca.card_number, _ca.credit_limit_fen,
           _ca.statement_day, _ca.repayment_account_id, _ca.autopay_mode, _ca.status,
           _ca.opened_on, _cu.customer_id, _cu.name, _cu.id_number, _cu.phone, _cu.city)
    .join_from(card_accounts, customers, _ca.customer_id == _cu.customer_id)
    .where(_ca.account_id == bindparam("account_id"))
)  # fmt: skip
_DEPOSIT_WITH_HOLDER = (
    select(_da.account_id, _da.holder_name, _da.status, _da.opened_on, _da.enterprise_id,
           _cu.customer_id, _cu.id_number, _cu.phone, _cu.city)
    .join_from(deposit_accounts, customers, _da.customer_id == _cu.customer_id, isouter=True)
    .where(_da.account_id == bindparam("account_id"))
)  # fmt: skip


_b = balances.c
_CARD_HOLDER_BALANCES = _CARD_WITH_HOLDER.add_columns(_b.component, _b.balance_fen).outerjoin(
    balances, _b.account_id == _ca.account_id
)


def card_holder_balances(conn: Connection, account_id: str) -> tuple[Any, dict[str, int]]:
    """The card account joined with its holder, and its balance by component (in component
    order), in one query: the console's account answer. (None, {}) when there is no such card."""
    rows = conn.execute(_CARD_HOLDER_BALANCES, {"account_id": account_id}).all()
    if not rows:
        return None, {}
    found = {row.component: row.balance_fen for row in rows if row.component is not None}
    return rows[0], dict(sorted(found.items()))


def card_with_holder(conn: Connection, account_id: str) -> Any:
    """The card account joined with its holder, or None."""
    return conn.execute(_CARD_WITH_HOLDER, {"account_id": account_id}).first()


def deposit_with_holder(conn: Connection, account_id: str) -> Any:
    """The deposit account with its holder (if a person), or None."""
    return conn.execute(_DEPOSIT_WITH_HOLDER, {"account_id": account_id}).first()


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


_s = statements.c
_STATEMENTS = (
    select(*(_s[name] for name in STATEMENT_FIELDS))
    .where(_s.account_id == bindparam("account_id"))
    .order_by(_s.statement_date.desc())
    .limit(bindparam("rows_max"))
)
_STATEMENT_ON = select(*(_s[name] for name in STATEMENT_FIELDS)).where(
    _s.account_id == bindparam("account_id"), _s.statement_date == bindparam("on")
)
_je, _p = journal_entries.c, postings.c
_STATEMENT_LINES = (
    select(_je.business_date, _je.kind, _je.description, _p.component, _p.amount_fen)
    .join(journal_entries, _je.entry_id == _p.entry_id)
    .where(_p.account_id == bindparam("account_id"))
    .where(_je.business_date >= bindparam("first"), _je.business_date <= bindparam("last"))
    .order_by(_je.business_date, _je.entry_id, _p.posting_id)
)


def statement_rows(
    conn: Connection, account_id: str, rows_max: int, on: date | None = None
) -> list[dict[str, Any]]:
    """The card cycle's stored statements of an account (only the one of ``on`` if given),
    newest first; a primary-key range."""
    if on is not None:
        found = conn.execute(_STATEMENT_ON, {"account_id": account_id, "on": on})
    else:
        found = conn.execute(_STATEMENTS, {"account_id": account_id, "rows_max": rows_max})
    return [dict(row) for row in found.mappings()]


def statement_lines(
    conn: Connection, account_id: str, first: date, last: date
) -> list[dict[str, Any]]:
    """The ledger's postings on the account from ``first`` to ``last``: a statement's lines
    (the postings' account index, then each entry by its key)."""
    params = {"account_id": account_id, "first": first, "last": last}
    return [
        {"date": d, "kind": k, "description": text, "component": c, "amount_fen": int(a)}
        for d, k, text, c, a in conn.execute(_STATEMENT_LINES, params)
    ]
