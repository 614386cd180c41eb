"""Reading and writing loan schedules, loan products and deduction attempts in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, select, tuple_, update

from cardbatch.domain.ledger import Component
from cardbatch.store.frame_io import insert_tuples
from cardbatch.store.tables import balances, deposit_accounts
from cardbatch.store.tables_paybatch import loan_deductions, loan_instalments, loan_products, loans

KEY_LOOKUP_CHUNK = 500
INSTALMENT_COLUMNS = ("loan_id", "instalment_no", "due_date", "amount_fen", "paid_fen", "status")
DEDUCTION_COLUMNS = (
    "loan_id", "instalment_no", "attempt_no", "business_date", "deposit_account", "due_fen",
    "debited_fen", "status", "reason_key", "entry_key", "created_at",
)  # fmt: skip


class ProductRow(NamedTuple):
    product_code: str
    retry_days: int
    partial_debit: bool


def products(conn: Connection) -> dict[str, ProductRow]:
    p = loan_products.c
    query = select(p.product_code, p.retry_days, p.partial_debit)
    return {row[0]: ProductRow(row[0], int(row[1]), bool(row[2])) for row in conn.execute(query)}


def save_product(conn: Connection, product: ProductRow, actor: str, now: datetime) -> None:
    values = {**product._asdict(), "updated_at": now, "updated_by": actor}
    p = loan_products.c
    changed = conn.execute(
        update(loan_products).where(p.product_code == product.product_code).values(**values)
    ).rowcount
    if not changed:
        conn.execute(loan_products.insert().values(**values))


def existing_loans(conn: Connection, loan_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    ids = sorted(set(loan_ids))
    for start in range(0, len(ids), KEY_LOOKUP_CHUNK):
        chunk = ids[start : start + KEY_LOOKUP_CHUNK]
        query = select(loans.c.loan_id).where(loans.c.loan_id.in_(chunk))
        found.update(conn.execute(query).scalars())
    return found


def insert_loans(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(loans.insert(), list(rows))


def insert_instalments(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    insert_tuples(conn, loan_instalments.name, INSTALMENT_COLUMNS, rows)


class Candidate(NamedTuple):
    """An instalment with its loan's account and that account's status and balance."""

    loan_id: str
    instalment_no: int
    due_date: date
    amount_fen: int
    paid_fen: int
    status: str
    deposit_account: str
    product_code: str
    account_status: str | None
    balance_fen: int | None


OPEN_STATUSES = ("due", "partial")


def open_instalments_due(conn: Connection, business_date: date) -> list[tuple[str, int]]:
    """The (loan, instalment) keys of the open instalments due by ``business_date``."""
    i = loan_instalments.c
    query = select(i.loan_id, i.instalment_no).where(
        i.status.in_(OPEN_STATUSES), i.due_date <= business_date
    )
    return [(str(loan_id), int(number)) for loan_id, number in conn.execute(query)]


def instalments_by_key(conn: Connection, keys: Sequence[tuple[str, int]]) -> list[Candidate]:
    """The instalments of these (loan, instalment) keys, with their accounts' state now."""
    i, ln, a, b = loan_instalments.c, loans.c, deposit_accounts.c, balances.c
    joined = (
        loan_instalments.join(loans, ln.loan_id == i.loan_id)
        .outerjoin(deposit_accounts, a.account_id == ln.deposit_account)
        .outerjoin(
            balances, and_(b.account_id == ln.deposit_account, b.component == Component.BALANCE)
        )
    )
    found: list[Candidate] = []
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        part = list(keys[start : start + KEY_LOOKUP_CHUNK])
        query = (
            select(i.loan_id, i.instalment_no, i.due_date, i.amount_fen, i.paid_fen, i.status,
                   ln.deposit_account, ln.product_code, a.status, b.balance_fen)
            .select_from(joined)
            .where(tuple_(i.loan_id, i.instalment_no).in_(part))
        )  # fmt: skip
        found += [Candidate._make(row) for row in conn.execute(query)]
    return found


def attempted(conn: Connection, keys: Sequence[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
    """Which (loan, instalment, attempt) keys already have a deduction row."""
    found: set[tuple[str, int, int]] = set()
    d = loan_deductions.c
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        chunk = keys[start : start + KEY_LOOKUP_CHUNK]
        query = select(d.loan_id, d.instalment_no, d.attempt_no).where(
            tuple_(d.loan_id, d.instalment_no, d.attempt_no).in_(chunk)
        )
        found.update((str(r[0]), int(r[1]), int(r[2])) for r in conn.execute(query))
    return found


def insert_deductions(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    insert_tuples(conn, loan_deductions.name, DEDUCTION_COLUMNS, rows)


def update_instalments(conn: Connection, changes: Sequence[dict[str, Any]]) -> None:
    """Set ``paid_fen`` and ``status`` by (``k_loan``, ``k_no``) keys, in one executemany."""
    if not changes:
        return
    i = loan_instalments.c
    stmt = (
        update(loan_instalments)
        .where(i.loan_id == bindparam("k_loan"), i.instalment_no == bindparam("k_no"))
        .values(paid_fen=bindparam("paid_fen"), status=bindparam("status"))
    )
    conn.execute(stmt, list(changes))


def loan_schedule(conn: Connection, loan_id: str) -> list[tuple[Any, ...]]:
    i = loan_instalments.c
    query = (
        select(i.instalment_no, i.due_date, i.amount_fen, i.paid_fen, i.status)
        .where(i.loan_id == loan_id)
        .order_by(i.instalment_no)
    )
    return [tuple(row) for row in conn.execute(query)]


def loan_attempts(conn: Connection, loan_id: str) -> list[tuple[Any, ...]]:
    d = loan_deductions.c
    query = (
        select(d.instalment_no, d.attempt_no, d.business_date, d.due_fen, d.debited_fen,
               d.status, d.reason_key)
        .where(d.loan_id == loan_id)
        .order_by(d.instalment_no, d.attempt_no)
    )  # fmt: skip
    return [tuple(row) for row in conn.execute(query)]


def loan_row(conn: Connection, loan_id: str) -> tuple[str, str] | None:
    row = conn.execute(
        select(loans.c.deposit_account, loans.c.product_code).where(loans.c.loan_id == loan_id)
    ).first()
    return (str(row[0]), str(row[1])) if row else None
