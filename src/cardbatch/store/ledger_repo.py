"""Writing and reading the ledger: idempotent bulk posting, balances, checks, history.

``post_entries`` writes many journal entries in one call and must run inside
``Store.write()``: entries, postings and balance changes commit together or
not at all. It never writes row by row: executemany on SQLite, COPY on
PostgreSQL, and one upsert per touched balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cardbatch.domain.ledger import IdempotencyConflict, JournalEntry
from cardbatch.store.frame_io import PG_COPY_MIN_ROWS, insert_tuples
from cardbatch.store.tables import balances, journal_entries, postings

KEY_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class PostResult:
    """What a call to :func:`post_entries` did: ids by key, new entries, replays ignored."""

    entry_ids: dict[str, int]
    written: int
    replayed: int
    postings_written: int


def post_entries(
    conn: Connection, entries: Sequence[JournalEntry], *, actor: str, now: datetime
) -> PostResult:
    """Post journal entries idempotently: a key seen before is a no-op, or an error if changed.

    Every entry was validated (balanced) when it was built, so nothing unbalanced
    reaches this point. Conflicts are found before anything is written.
    """
    unique = _dedupe(entries)
    existing = _existing_entries(conn, list(unique))
    for key, (_entry_id, content_hash) in existing.items():
        if content_hash != unique[key].content_hash:
            raise IdempotencyConflict(
                f"idempotency key {key} already posted with different content"
            )
    fresh = [entry for key, entry in unique.items() if key not in existing]
    entry_ids = {key: entry_id for key, (entry_id, _) in existing.items()}
    if not fresh:
        return PostResult(entry_ids, written=0, replayed=len(existing), postings_written=0)
    new_ids = allocate_entry_ids(conn, len(fresh))
    entry_rows = [
        (new_id, e.idempotency_key, e.content_hash, e.business_date, e.kind, e.description,
         e.reference_key, e.run_id, actor, now)
        for new_id, e in zip(new_ids, fresh, strict=True)
    ]  # fmt: skip
    posting_rows = [
        (new_id, p.account_id, p.component, p.amount_fen)
        for new_id, e in zip(new_ids, fresh, strict=True)
        for p in e.postings
    ]
    insert_tuples(conn, journal_entries.name, _ENTRY_COLUMNS, entry_rows)
    insert_tuples(conn, postings.name, _POSTING_COLUMNS, posting_rows)
    apply_balance_deltas(conn, _balance_deltas(fresh))
    entry_ids.update((e.idempotency_key, i) for i, e in zip(new_ids, fresh, strict=True))
    return PostResult(entry_ids, len(fresh), len(existing), len(posting_rows))


_ENTRY_COLUMNS = (
    "entry_id", "idempotency_key", "content_hash", "business_date", "kind", "description",
    "reference_key", "run_id", "actor", "created_at",
)  # fmt: skip
_POSTING_COLUMNS = ("entry_id", "account_id", "component", "amount_fen")


def _dedupe(entries: Sequence[JournalEntry]) -> dict[str, JournalEntry]:
    unique: dict[str, JournalEntry] = {}
    for entry in entries:
        seen = unique.setdefault(entry.idempotency_key, entry)
        if seen.content_hash != entry.content_hash:
            raise IdempotencyConflict(
                f"idempotency key {entry.idempotency_key} given twice with different content"
            )
    return unique


def _existing_entries(conn: Connection, keys: list[str]) -> dict[str, tuple[int, str]]:
    """The entries already stored under any of ``keys``: one array lookup on PostgreSQL."""
    found: dict[str, tuple[int, str]] = {}
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT idempotency_key, entry_id, content_hash FROM journal_entries "
            "WHERE idempotency_key = ANY(%s)",
            (keys,),
        )
        return {key: (entry_id, content_hash) for key, entry_id, content_hash in rows}
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        chunk = keys[start : start + KEY_LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.exec_driver_sql(
            "SELECT idempotency_key, entry_id, content_hash FROM journal_entries "
            f"WHERE idempotency_key IN ({marks})",
            tuple(chunk),
        )
        found.update((key, (entry_id, content_hash)) for key, entry_id, content_hash in rows)
    return found


def allocate_entry_ids(conn: Connection, count: int) -> list[int]:
    """Reserve ``count`` entry ids: the sequence on PostgreSQL, max+1 under SQLite's write lock."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('journal_entries', 'entry_id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return sorted(row[0] for row in rows)
    top = conn.execute(select(func.coalesce(func.max(journal_entries.c.entry_id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + count))


def _balance_deltas(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], int]:
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        for p in entry.postings:
            deltas[(p.account_id, p.component)] += p.amount_fen
    return deltas


def apply_balance_deltas(conn: Connection, deltas: dict[tuple[str, str], int]) -> None:
    """Add each delta to its balance row, creating the row when it is the first posting."""
    if not deltas:
        return
    if conn.dialect.name == "postgresql" and len(deltas) >= PG_COPY_MIN_ROWS:
        _pg_apply_balance_deltas(conn, deltas)
        return
    rows = [
        {"account_id": a, "component": c, "balance_fen": d} for (a, c), d in sorted(deltas.items())
    ]
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(balances)
    stmt = stmt.on_conflict_do_update(
        index_elements=[balances.c.account_id, balances.c.component],
        set_={"balance_fen": balances.c.balance_fen + stmt.excluded.balance_fen},
    )
    conn.execute(stmt, rows)


def _pg_apply_balance_deltas(conn: Connection, deltas: dict[tuple[str, str], int]) -> None:
    """COPY the deltas into a temporary table and merge them with one upsert."""
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS balance_deltas "
        "(account_id varchar(40), component varchar(16), delta_fen bigint) ON COMMIT DELETE ROWS"
    )
    conn.exec_driver_sql("TRUNCATE balance_deltas")
    insert_tuples(
        conn,
        "balance_deltas",
        ("account_id", "component", "delta_fen"),
        [(a, c, d) for (a, c), d in sorted(deltas.items())],
    )
    conn.exec_driver_sql(
        "INSERT INTO balances (account_id, component, balance_fen) "
        "SELECT account_id, component, delta_fen FROM balance_deltas "
        "ON CONFLICT (account_id, component) "
        "DO UPDATE SET balance_fen = balances.balance_fen + EXCLUDED.balance_fen"
    )


# ----------------------------------------------------------------------------- reading


# Built once: the console's account answers read it on every request (only the id is bound).
_ACCOUNT_BALANCES = select(balances.c.component, balances.c.balance_fen).where(
    balances.c.account_id == bindparam("account_id")
)


def account_balances(conn: Connection, account_id: str) -> dict[str, int]:
    """The balance of each component of one ledger account (debit-positive)."""
    params = {"account_id": account_id}
    return {component: amount for component, amount in conn.execute(_ACCOUNT_BALANCES, params)}


@dataclass
class HistoryRow:
    entry_id: int
    business_date: date
    kind: str
    description: str
    run_id: str | None
    amount_fen: int  # debit-positive sum of this account's postings in the entry
    components: dict[str, int]


def account_postings(conn: Connection, account_id: str, rows_max: int) -> list[HistoryRow]:
    """The journal entries that touched an account, oldest first, at most ``rows_max``."""
    je, p = journal_entries.c, postings.c
    query = (
        select(je.entry_id, je.business_date, je.kind, je.description, je.run_id,
               p.component, p.amount_fen)
        .join_from(postings, journal_entries, p.entry_id == je.entry_id)
        .where(p.account_id == account_id)
        .order_by(je.entry_id, p.posting_id)
    )  # fmt: skip
    grouped: dict[int, HistoryRow] = {}
    for entry_id, day, kind, description, run_id, component, amount in conn.execute(query):
        row = grouped.get(entry_id)
        if row is None:
            if len(grouped) >= rows_max:
                break
            row = HistoryRow(entry_id, day, kind, description, run_id, 0, {})
            grouped[entry_id] = row
        row.components[component] = row.components.get(component, 0) + amount
        row.amount_fen += amount
    return list(grouped.values())


# ----------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class LedgerCheck:
    journal_entries: int
    postings: int
    debits_fen: int
    credits_fen: int
    mismatches: list[dict[str, Any]]

    @property
    def balanced(self) -> bool:
        return self.debits_fen == self.credits_fen and not self.mismatches


def check_ledger(conn: Connection, mismatches_max: int = 100) -> LedgerCheck:
    """Verify the whole ledger: debits = credits, every entry balanced, balances = postings."""
    entries_n = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
    postings_n, debits, credits = conn.execute(
        text(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN amount_fen > 0 THEN amount_fen END), 0), "
            "COALESCE(-SUM(CASE WHEN amount_fen < 0 THEN amount_fen END), 0) FROM postings"
        )
    ).one()
    mismatches: list[dict[str, Any]] = []
    for entry_id, total, count in conn.execute(_UNBALANCED_ENTRIES, {"n": mismatches_max}):
        mismatches.append(
            {"kind": "unbalanced_entry", "entry_id": entry_id, "sum_fen": int(total or 0),
             "postings": count}
        )  # fmt: skip
    for account_id, component, from_postings, in_table in conn.execute(
        _BALANCE_MISMATCHES, {"n": mismatches_max}
    ):
        mismatches.append(
            {"kind": "balance_mismatch", "account_id": account_id, "component": component,
             "postings_sum_fen": int(from_postings), "balance_fen": int(in_table)}
        )  # fmt: skip
    return LedgerCheck(entries_n, postings_n, int(debits), int(credits), mismatches)


_UNBALANCED_ENTRIES = text(
    "SELECT je.entry_id, SUM(p.amount_fen), COUNT(p.posting_id) FROM journal_entries je "
    "LEFT JOIN postings p ON p.entry_id = je.entry_id GROUP BY je.entry_id "
    "HAVING COALESCE(SUM(p.amount_fen), 0) <> 0 OR COUNT(p.posting_id) < 2 "
    "ORDER BY je.entry_id LIMIT :n"
)
_BALANCE_MISMATCHES = text(
    "SELECT account_id, component, SUM(from_postings), SUM(in_table) FROM ("
    " SELECT account_id, component, amount_fen AS from_postings, 0 AS in_table FROM postings"
    " UNION ALL"
    " SELECT account_id, component, 0, balance_fen FROM balances"
    ") AS both_sides GROUP BY account_id, component "
    "HAVING SUM(from_postings) <> SUM(in_table) ORDER BY account_id, component LIMIT :n"
)
