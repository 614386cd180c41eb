"""Read-only queries for the console: one account with its holder, a page of card accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from cardbatch.store.tables import card_accounts, customers, deposit_accounts


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
