"""Reading and writing batch payment files, their rows and results, and debit mandates.

Bulk paths never go row by row: rows and results are written with one executemany
(COPY on PostgreSQL), and a run reads one chunk of rows together with the account,
balance and mandate of each row in one joined query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import Connection, RowMapping, func, insert, select, update

from cardbatch.domain.ledger import Component
from cardbatch.store.frame_io import fetch_rows, insert_tuples
from cardbatch.store.tables import balances, deposit_accounts, enterprises
from cardbatch.store.tables_paybatch import mandates, paybatch_results, paybatch_rows, paybatches

ROW_COLUMNS = (
    "batch_id",
    "row_no",
    "line_no",
    "seq",
    "name",
    "account",
    "amount_fen",
    "memo",
    "end_to_end_id",
    "mandate_id",
    "mandate_signed_on",
    "group_id",
    "unit_no",
    "raw_fields",
    "pre_reason",
)
RESULT_COLUMNS = (
    "batch_id",
    "row_no",
    "status",
    "reason_key",
    "amount_fen",
    "chunk_no",
    "entry_key",
)


# ----------------------------------------------------------------------------- parties


class PartyAccount(NamedTuple):
    """An employer's or biller's settlement account as the store knows it."""

    account_id: str
    status: str | None  # None: no such deposit account
    enterprise_kind: str | None  # None: no enterprise settles on this account
    unit_no: str | None
    balance_fen: int  # debit-positive; a deposit holding money is negative


def party_account(conn: Connection, account_id: str) -> PartyAccount:
    status = conn.execute(
        select(deposit_accounts.c.status).where(deposit_accounts.c.account_id == account_id)
    ).scalar_one_or_none()
    enterprise = conn.execute(
        select(enterprises.c.kind, enterprises.c.unit_no)
        .where(enterprises.c.settlement_account_id == account_id)
        .order_by(enterprises.c.enterprise_id)
    ).first()
    return PartyAccount(
        account_id,
        status,
        enterprise.kind if enterprise else None,
        enterprise.unit_no if enterprise else None,
        ledger_balance(conn, account_id),
    )


def ledger_balance(conn: Connection, account_id: str) -> int:
    """The ``balance`` component of a deposit or GL account (debit-positive), 0 if none."""
    query = select(balances.c.balance_fen).where(
        balances.c.account_id == account_id, balances.c.component == Component.BALANCE
    )
    return int(conn.execute(query).scalar_one_or_none() or 0)


# ----------------------------------------------------------------------------- batches


def accepted_with_hash(conn: Connection, content_sha256: str) -> int | None:
    query = select(paybatches.c.batch_id).where(paybatches.c.accepted_sha256 == content_sha256)
    found = conn.execute(query).scalar_one_or_none()
    return int(found) if found is not None else None


def accepted_with_message(conn: Connection, message_key: str) -> int | None:
    query = select(paybatches.c.batch_id).where(paybatches.c.accepted_message_key == message_key)
    found = conn.execute(query).scalar_one_or_none()
    return int(found) if found is not None else None


def insert_batch(conn: Connection, values: dict[str, Any]) -> int:
    result = conn.execute(insert(paybatches).values(**values))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def insert_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows as tuples in :data:`ROW_COLUMNS` order."""
    insert_tuples(conn, paybatch_rows.name, ROW_COLUMNS, rows)


def get_batch(conn: Connection, batch_id: int) -> RowMapping | None:
    return (
        conn.execute(select(paybatches).where(paybatches.c.batch_id == batch_id)).mappings().first()
    )


def lock_batch(conn: Connection, batch_id: int) -> RowMapping | None:
    """The batch row, locked for this transaction on PostgreSQL (SQLite's writer is exclusive)."""
    query = select(paybatches).where(paybatches.c.batch_id == batch_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def list_batches(
    conn: Connection, status: str | None, kind: str | None, rows_max: int
) -> list[RowMapping]:
    query = select(paybatches).order_by(paybatches.c.batch_id.desc()).limit(rows_max)
    if status:
        query = query.where(paybatches.c.status == status)
    if kind:
        query = query.where(paybatches.c.kind == kind)
    return list(conn.execute(query).mappings())


def update_batch(conn: Connection, batch_id: int, expected_status: str, **values: Any) -> bool:
    """Change a batch only if it is still in ``expected_status``; True when it was."""
    stmt = (
        update(paybatches)
        .where(paybatches.c.batch_id == batch_id, paybatches.c.status == expected_status)
        .values(**values)
    )
    return conn.execute(stmt).rowcount == 1


# ----------------------------------------------------------------------------- running


def row_numbers(conn: Connection, batch_id: int) -> list[int]:
    """The row numbers of a batch, in file order."""
    sql = "SELECT row_no FROM paybatch_rows WHERE batch_id = ? ORDER BY row_no"
    return [n for (n,) in raw_fetchall(conn, sql, (batch_id,))]


def results_count(conn: Connection, batch_id: int) -> int:
    """How many rows of a batch have a result."""
    res = paybatch_results.c
    query = select(func.count()).select_from(paybatch_results).where(res.batch_id == batch_id)
    return int(conn.execute(query).scalar_one())


_CHUNK_SQL = (
    "SELECT r.row_no, r.name, r.account, r.amount_fen, r.pre_reason, a.holder_name, a.status,"
    " b.balance_fen, {mandate_status}, CASE WHEN res.row_no IS NULL THEN 0 ELSE 1 END"
    " FROM paybatch_rows r"
    " LEFT JOIN paybatch_results res ON res.batch_id = r.batch_id AND res.row_no = r.row_no"
    " LEFT JOIN deposit_accounts a ON a.account_id = r.account"
    " LEFT JOIN balances b ON b.account_id = r.account AND b.component = '{balance}'"
    " {mandate_join}"
    " WHERE r.batch_id = ? AND r.row_no BETWEEN ? AND ?"
    " ORDER BY r.row_no"
)
_PAYROLL_CHUNK_SQL = _CHUNK_SQL.format(
    balance=Component.BALANCE.value, mandate_status="NULL", mandate_join=""
)
_COLLECTION_CHUNK_SQL = _CHUNK_SQL.format(
    balance=Component.BALANCE.value,
    mandate_status="m.status",
    mandate_join="LEFT JOIN mandates m ON m.biller_account = ? AND m.payer_account = r.account",
)
CHUNK_FRAME_SCHEMA = {
    "row_no": pl.Int64, "name": pl.String, "account": pl.String, "amount_fen": pl.Int64,
    "pre_reason": pl.String, "holder_name": pl.String, "account_status": pl.String,
    "balance_fen": pl.Int64, "mandate_status": pl.String, "has_result": pl.Int64,
}  # fmt: skip


def chunk_frame(
    conn: Connection, batch_id: int, first_row_no: int, last_row_no: int, biller: str | None
) -> pl.DataFrame:
    """The rows ``first_row_no..last_row_no`` with their account, balance, (for a collection
    from ``biller``) mandate, and whether they already have a result (``has_result`` 1), in
    row order: one query through the driver's cursor, read into a frame."""
    if biller is None:
        rows = raw_fetchall(conn, _PAYROLL_CHUNK_SQL, (batch_id, first_row_no, last_row_no))
    else:
        params = (biller, batch_id, first_row_no, last_row_no)
        rows = raw_fetchall(conn, _COLLECTION_CHUNK_SQL, params)
    return pl.DataFrame(rows, schema=CHUNK_FRAME_SCHEMA, orient="row")


def pending_total_fen(conn: Connection, batch_id: int) -> int:
    """The sum of the amounts of the rows without a result (those not yet run)."""
    r, res = paybatch_rows.c, paybatch_results.c
    has_result = (
        select(res.row_no).where(res.batch_id == r.batch_id, res.row_no == r.row_no).exists()
    )
    query = select(func.coalesce(func.sum(r.amount_fen), 0)).where(
        r.batch_id == batch_id, ~has_result
    )
    return int(conn.execute(query).scalar_one())


def insert_results(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Results as tuples in :data:`RESULT_COLUMNS` order."""
    insert_tuples(conn, paybatch_results.name, RESULT_COLUMNS, rows)


class ResultTotals(NamedTuple):
    rows: int
    success_count: int
    success_total_fen: int
    failure_count: int
    failure_total_fen: int


def result_totals(conn: Connection, batch_id: int) -> ResultTotals:
    res = paybatch_results.c
    counts = {"success": (0, 0), "failed": (0, 0)}
    query = (
        select(res.status, func.count(), func.coalesce(func.sum(res.amount_fen), 0))
        .where(res.batch_id == batch_id)
        .group_by(res.status)
    )
    for status, count, total in conn.execute(query):
        counts[status] = (int(count), int(total))
    success, failure = counts["success"], counts["failed"]
    return ResultTotals(success[0] + failure[0], *success, *failure)


def reason_counts(conn: Connection, batch_id: int) -> dict[str, tuple[int, int]]:
    """Per reason key: (rows, amount) of the batch's results."""
    res = paybatch_results.c
    query = (
        select(res.reason_key, func.count(), func.coalesce(func.sum(res.amount_fen), 0))
        .where(res.batch_id == batch_id)
        .group_by(res.reason_key)
        .order_by(res.reason_key)
    )
    return {key: (int(n), int(total)) for key, n, total in conn.execute(query)}


_ROWS_AND_RESULTS_SQL = (
    "SELECT r.line_no, r.seq, r.name, r.account, r.amount_fen, r.memo, r.end_to_end_id,"
    " r.mandate_id, r.mandate_signed_on, r.group_id, r.unit_no, r.raw_fields,"
    " res.status, res.reason_key"
    " FROM paybatch_rows r LEFT JOIN paybatch_results res"
    " ON res.batch_id = r.batch_id AND res.row_no = r.row_no"
    " WHERE r.batch_id = ? ORDER BY r.row_no"
)


def rows_and_results(conn: Connection, batch_id: int) -> list[tuple[Any, ...]]:
    """Every row with its result (None columns when it has none), in file order.

    Read through the driver's cursor (inside the caller's transaction): plain tuples, no
    per-row result objects. ``mandate_signed_on`` comes back as ISO text on SQLite.
    """
    return raw_fetchall(conn, _ROWS_AND_RESULTS_SQL, (batch_id,))


def raw_fetchall(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``?`` markers) on the driver connection of ``conn``; all rows as tuples."""
    if conn.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    return fetch_rows(conn, sql, params)


# ----------------------------------------------------------------------------- mandates


class MandateRecord(NamedTuple):
    biller_account: str
    payer_account: str
    mandate_ref: str
    signed_on: date | None
    status: str


def existing_mandates(conn: Connection, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    m = mandates.c
    for biller, payer in pairs:
        query = select(m.biller_account).where(m.biller_account == biller, m.payer_account == payer)
        if conn.execute(query).first() is not None:
            found.add((biller, payer))
    return found


def insert_mandates(
    conn: Connection, records: Sequence[MandateRecord], actor: str, now: datetime
) -> int:
    if records:
        conn.execute(
            insert(mandates),
            [{**record._asdict(), "created_at": now, "created_by": actor} for record in records],
        )
    return len(records)


def list_mandates(conn: Connection, biller: str | None, rows_max: int) -> list[MandateRecord]:
    m = mandates.c
    query = select(m.biller_account, m.payer_account, m.mandate_ref, m.signed_on, m.status)
    if biller:
        query = query.where(m.biller_account == biller)
    query = query.order_by(m.biller_account, m.payer_account).limit(rows_max)
    return [MandateRecord(*row) for row in conn.execute(query)]
