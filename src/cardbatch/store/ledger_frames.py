"""Columnar posting: many journal entries given as two polars frames, written in bulk.

:func:`post_frames` is the column-at-a-time twin of
:func:`cardbatch.store.ledger_repo.post_entries` for producers with many rows
(payroll and collection runs): instead of one :class:`JournalEntry` object per
entry it takes

- ``entries``: idempotency_key, business_date, kind, description, reference_key, run_id,
  and optionally source (the producer's input an entry's hash covers instead of its postings)
- ``postings``: idempotency_key, account_id, component, amount_fen (debit +, credit -)

and applies the same rules with vectorised checks: every entry has
2..``POSTINGS_PER_ENTRY_MAX`` non-zero postings on known components that sum to
zero, amounts are within :data:`cardbatch.money.AMOUNT_FEN_MAX`, a key already
stored is a no-op when its content hash is equal and an
:class:`IdempotencyConflict` otherwise. The content hash is the one of
:func:`cardbatch.domain.ledger.entry_content_hash`, so an entry replayed through
either path is recognised. Like ``post_entries`` it does not look account ids
up: producers check their accounts (payment batches do, row by row) before they
post. Nothing is written unless every entry passes; the caller's transaction
(``Store.write()``) makes the entries, postings and balance changes one unit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from cardbatch.domain.ledger import (
    ACCOUNT_ID_LEN_MAX,
    IDEMPOTENCY_KEY_LEN_MAX,
    POSTINGS_PER_ENTRY_MAX,
    Component,
    IdempotencyConflict,
    JournalEntry,
    LedgerError,
    UnbalancedEntry,
)
from cardbatch.money import AMOUNT_FEN_MAX
from cardbatch.store.frame_io import bulk_insert
from cardbatch.store.ledger_repo import PostResult, allocate_entry_ids

ENTRIES_PER_CALL_MAX = 2_000_000
INT64_MAX = 2**63 - 1

ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "idempotency_key": pl.String(),
    "business_date": pl.Date(),
    "kind": pl.String(),
    "description": pl.String(),
    "reference_key": pl.String(),
    "run_id": pl.String(),
    "source": pl.String(),
}
POSTING_SCHEMA: dict[str, pl.DataType] = {
    "idempotency_key": pl.String(),
    "account_id": pl.String(),
    "component": pl.String(),
    "amount_fen": pl.Int64(),
}
_NULLABLE = frozenset({"reference_key", "run_id", "source"})
_OPTIONAL = frozenset({"source"})  # added as null when a frame does not have it
_COMPONENTS = [str(c) for c in Component]
_ENTRY_COLUMNS = (
    "entry_id", "idempotency_key", "content_hash", "business_date", "kind", "description",
    "reference_key", "run_id", "actor", "created_at",
)  # fmt: skip
_POSTING_COLUMNS = ("entry_id", "account_id", "component", "amount_fen")


def post_frames(
    conn: Connection, entries: pl.DataFrame, postings: pl.DataFrame, *, actor: str, now: datetime
) -> PostResult:
    """Post the entries (and their postings) idempotently; all of them or, on any error, none."""
    hashed, postings = checked_frames(entries, postings)
    stored = _existing_entries(conn, hashed["idempotency_key"])
    _refuse_conflicts(hashed, stored)
    return _write_fresh(conn, hashed, postings, stored, actor, now)[0]


SETTLED_SCHEMA: dict[str, pl.DataType] = {
    "idempotency_key": pl.String(),
    "entry_id": pl.Int64(),
    "state": pl.String(),
}


def post_frames_settled(
    conn: Connection, entries: pl.DataFrame, postings: pl.DataFrame, *, actor: str, now: datetime
) -> tuple[PostResult, pl.DataFrame]:
    """Like :func:`post_frames`, but a changed replay is reported per key instead of raised.

    Returns the result and one row per entry (:data:`SETTLED_SCHEMA`): ``state`` is
    ``written`` (posted now), ``replayed`` (stored before with the same content; its
    stored id) or ``conflict`` (stored before with other content; nothing written for
    it, entry_id null). Malformed entries still refuse the whole call.
    """
    hashed, postings = checked_frames(entries, postings)
    stored = _existing_entries(conn, hashed["idempotency_key"])
    clashing = hashed.join(stored, on="idempotency_key", how="inner").filter(
        pl.col("content_hash") != pl.col("stored_hash")
    )["idempotency_key"]
    result, written = _write_fresh(conn, hashed, postings, stored, actor, now)
    settled = hashed.select("idempotency_key").with_columns(
        entry_id=pl.col("idempotency_key").replace_strict(
            result.entry_ids, default=None, return_dtype=pl.Int64
        ),
        state=pl.when(pl.col("idempotency_key").is_in(clashing.implode()))
        .then(pl.lit("conflict"))
        .when(pl.col("idempotency_key").is_in(written.implode()))
        .then(pl.lit("written"))
        .otherwise(pl.lit("replayed")),
    )
    settled = settled.with_columns(
        entry_id=pl.when(pl.col("state") == "conflict").then(None).otherwise(pl.col("entry_id"))
    )
    return result, settled


def checked_frames(
    entries: pl.DataFrame, postings: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames conformed and validated, the entries with their ``content_hash``."""
    entries = conform(entries, ENTRY_SCHEMA, "entries")
    postings = conform(postings, POSTING_SCHEMA, "postings")
    validate_frames(entries, postings)
    hashed = entries.with_columns(
        content_hash=pl.Series(content_hashes(entries, postings), dtype=pl.String)
    )
    return hashed, postings


def _write_fresh(
    conn: Connection,
    hashed: pl.DataFrame,
    postings: pl.DataFrame,
    stored: pl.DataFrame,
    actor: str,
    now: datetime,
) -> tuple[PostResult, pl.Series]:
    """Write the entries not stored yet; the result and the keys written."""
    fresh = hashed.join(stored, on="idempotency_key", how="anti", maintain_order="left")
    entry_ids = dict(zip(stored["idempotency_key"].to_list(), stored["entry_id"].to_list(),
                         strict=True))  # fmt: skip
    if fresh.height == 0:
        empty = PostResult(entry_ids, written=0, replayed=stored.height, postings_written=0)
        return empty, fresh["idempotency_key"]
    new_ids = allocate_entry_ids(conn, fresh.height)
    fresh = fresh.with_columns(entry_id=pl.Series(new_ids, dtype=pl.Int64))
    # Postings in entry order, each entry's postings in the order given (as post_entries does).
    fresh_postings = postings.join(
        fresh.select("idempotency_key", "entry_id"),
        on="idempotency_key",
        how="inner",
        maintain_order="left",
    ).sort("entry_id", maintain_order=True)
    entry_rows = fresh.select(
        "entry_id", "idempotency_key", "content_hash", "business_date", "kind", "description",
        "reference_key", "run_id",
    ).with_columns(actor=pl.lit(actor), created_at=pl.lit(now))  # fmt: skip
    if conn.dialect.name == "sqlite":
        # The text sqlite3's own date adapters would store, made once per column, not per row.
        entry_rows = entry_rows.with_columns(
            pl.col("business_date").dt.strftime("%Y-%m-%d"), created_at=pl.lit(now.isoformat(" "))
        )
    bulk_insert(conn, "journal_entries", _ENTRY_COLUMNS, entry_rows)
    bulk_insert(conn, "postings", _POSTING_COLUMNS, fresh_postings.select(_POSTING_COLUMNS))
    apply_balance_frame(conn, balance_deltas(fresh_postings))
    entry_ids.update(zip(fresh["idempotency_key"].to_list(), new_ids, strict=True))
    result = PostResult(entry_ids, fresh.height, stored.height, fresh_postings.height)
    return result, fresh["idempotency_key"]


# ----------------------------------------------------------------------------- checking


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], name: str) -> pl.DataFrame:
    """The frame's columns in schema order and types; missing columns or nulls are refused."""
    absent = [c for c in schema if c in _OPTIONAL and c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=schema[c]).alias(c) for c in absent)
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise LedgerError(f"{name} frame lacks column(s) {', '.join(missing)}")
    for column, wanted in schema.items():
        given = frame.schema[column]
        if not _castable(column, given, wanted):
            raise LedgerError(f"{name} frame: column {column} is {given}, wanted {wanted}")
    out = frame.select(pl.col(c).cast(t, strict=True) for c, t in schema.items())
    for column in schema:
        if column not in _NULLABLE and out[column].null_count():
            raise LedgerError(f"{name} frame: column {column} has empty (null) values")
    return out


def _castable(column: str, given: pl.DataType, wanted: pl.DataType) -> bool:
    """Same type, an all-null column, or an integer run id (kept as its decimal text)."""
    if given == wanted or given == pl.Null():
        return True
    if wanted == pl.Int64():
        return given.is_integer()
    return column == "run_id" and given.is_integer()


def validate_frames(entries: pl.DataFrame, postings: pl.DataFrame) -> None:
    """Refuse the whole call, naming the first offending key, unless every entry is well formed.

    The rules are those of :func:`cardbatch.domain.ledger.validate_entry`, plus a known
    component for every posting and exactly one row per key in ``entries``.
    """
    if entries.height > ENTRIES_PER_CALL_MAX:
        raise LedgerError(f"at most {ENTRIES_PER_CALL_MAX} entries per call, got {entries.height}")
    key_len = pl.col("idempotency_key").str.len_chars()
    _refuse_first(
        entries.filter((key_len == 0) | (key_len > IDEMPOTENCY_KEY_LEN_MAX)),
        f"idempotency key must be 1..{IDEMPOTENCY_KEY_LEN_MAX} chars",
    )
    _refuse_first(
        entries.filter(pl.col("idempotency_key").is_duplicated()),
        "is given twice in one call",
        IdempotencyConflict,
    )
    _refuse_first(
        postings.join(entries, on="idempotency_key", how="anti"),
        "has postings but no entry",
    )
    _check_postings(postings)
    per_entry = postings.group_by("idempotency_key").agg(
        count=pl.len(), total_fen=pl.col("amount_fen").cast(pl.Int128).sum()
    )
    counted = entries.select("idempotency_key").join(per_entry, on="idempotency_key", how="left")
    _refuse_first(
        counted.filter(pl.col("count").fill_null(0).is_between(2, POSTINGS_PER_ENTRY_MAX).not_()),
        f"needs 2..{POSTINGS_PER_ENTRY_MAX} postings",
    )
    unbalanced = counted.filter(pl.col("total_fen") != 0)
    if unbalanced.height:
        first = unbalanced.row(0, named=True)
        others = f" (and {unbalanced.height - 1} more)" if unbalanced.height > 1 else ""
        raise UnbalancedEntry(
            f"entry {first['idempotency_key']} does not balance: debits - credits = "
            f"{first['total_fen']} fen{others}"
        )


def _check_postings(postings: pl.DataFrame) -> None:
    account_len = pl.col("account_id").str.len_chars()
    amount = pl.col("amount_fen")
    _refuse_first(
        postings.filter(amount.abs() > AMOUNT_FEN_MAX),
        f"has an amount out of range (|amount| > {AMOUNT_FEN_MAX} fen)",
    )
    _refuse_first(postings.filter(amount == 0), "has a zero posting")
    _refuse_first(
        postings.filter((account_len == 0) | (account_len > ACCOUNT_ID_LEN_MAX)),
        f"has an account id that is not 1..{ACCOUNT_ID_LEN_MAX} chars",
    )
    _refuse_first(
        postings.filter(pl.col("component").is_in(_COMPONENTS).not_()),
        f"has a posting on an unknown component (known: {', '.join(_COMPONENTS)})",
    )


def _refuse_first(bad: pl.DataFrame, problem: str, error: type[LedgerError] = LedgerError) -> None:
    if bad.height == 0:
        return
    first = bad.row(0, named=True)
    detail = ", ".join(
        f"{column}={first[column]!r}"
        for column in ("account_id", "component", "amount_fen")
        if column in first
    )
    others = f" (and {bad.height - 1} more)" if bad.height > 1 else ""
    where = f" ({detail})" if detail else ""
    raise error(f"entry {first['idempotency_key']!r} {problem}{where}{others}")


def content_hashes(entries: pl.DataFrame, postings: pl.DataFrame) -> list[str]:
    """The content hash of each entry, in ``entries`` order, equal to ``entry_content_hash``.

    The text hashed is built column-wise; only the SHA-256 itself runs per entry.
    """
    legs = (
        postings.sort("idempotency_key", "account_id", "component", "amount_fen")
        .group_by("idempotency_key", maintain_order=True)
        .agg(
            legs=pl.concat_str(
                pl.col("account_id"), pl.col("component"), pl.col("amount_fen").cast(pl.String),
                separator="\x1f",
            ).str.join("\x1e")
        )
    )  # fmt: skip
    source = pl.col("source") if "source" in entries.columns else pl.lit(None, pl.String)
    head = pl.concat_str(
        pl.col("business_date").dt.strftime("%Y-%m-%d"), pl.col("kind"), separator="\x1f"
    )
    by_legs = pl.concat_str(
        head, pl.col("description"), pl.col("reference_key").fill_null(""),
        pl.col("legs").fill_null(""), separator="\x1f",
    )  # fmt: skip
    # An entry that names its source is hashed on that input, not on its postings.
    by_source = pl.concat_str(head, pl.lit("source"), source, separator="\x1f")
    text = entries.join(legs, on="idempotency_key", how="left", maintain_order="left").select(
        pl.when(source.fill_null("") != "").then(by_source).otherwise(by_legs)
    )
    sha256 = hashlib.sha256
    return [sha256(t).hexdigest() for t in text.to_series().cast(pl.Binary).to_list()]


def _refuse_conflicts(hashed: pl.DataFrame, stored: pl.DataFrame) -> None:
    changed = hashed.join(stored, on="idempotency_key", how="inner").filter(
        pl.col("content_hash") != pl.col("stored_hash")
    )
    if changed.height:
        key = changed["idempotency_key"][0]
        others = f" (and {changed.height - 1} more)" if changed.height > 1 else ""
        raise IdempotencyConflict(
            f"idempotency key {key} already posted with different content{others}"
        )


# ----------------------------------------------------------------------------- writing

_STORED_SCHEMA = {"idempotency_key": pl.String, "entry_id": pl.Int64, "stored_hash": pl.String}


def _existing_entries(conn: Connection, keys: pl.Series) -> pl.DataFrame:
    """The entries already stored under any of ``keys``: one statement on either backend."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT idempotency_key, entry_id, content_hash FROM journal_entries "
            "WHERE idempotency_key = ANY(%s)",
            (keys.to_list(),),
        ).all()
    else:
        rows = conn.exec_driver_sql(
            "SELECT je.idempotency_key, je.entry_id, je.content_hash "
            "FROM json_each(?) AS k JOIN journal_entries AS je ON je.idempotency_key = k.value",
            (json.dumps(keys.to_list()),),
        ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=_STORED_SCHEMA, orient="row")


def balance_deltas(postings: pl.DataFrame) -> pl.DataFrame:
    """One row per touched (account, component): the sum of its postings, sorted."""
    deltas = (
        postings.group_by("account_id", "component")
        .agg(delta_fen=pl.col("amount_fen").cast(pl.Int128).sum())
        .sort("account_id", "component")
    )
    too_big = deltas.filter(pl.col("delta_fen").abs() > INT64_MAX)
    if too_big.height:
        raise LedgerError(f"balance change on {too_big['account_id'][0]} exceeds a 64-bit column")
    return deltas.with_columns(pl.col("delta_fen").cast(pl.Int64))


def apply_balance_frame(conn: Connection, deltas: pl.DataFrame) -> None:
    """Add each delta to its balance row (creating it on the first posting): one merge."""
    if deltas.height == 0:
        return
    upsert = (
        "INSERT INTO balances (account_id, component, balance_fen) {source} "
        "ON CONFLICT (account_id, component) "
        "DO UPDATE SET balance_fen = balances.balance_fen + excluded.balance_fen"
    )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS balance_deltas (account_id varchar(40), "
            "component varchar(16), delta_fen bigint) ON COMMIT DELETE ROWS"
        )
        conn.exec_driver_sql("TRUNCATE balance_deltas")
        bulk_insert(conn, "balance_deltas", ("account_id", "component", "delta_fen"), deltas)
        conn.exec_driver_sql(
            upsert.format(source="SELECT account_id, component, delta_fen FROM balance_deltas")
        )
        return
    # SQLite: the deltas travel as one JSON array; "WHERE true" lets the parser see the upsert.
    conn.exec_driver_sql(
        upsert.format(source="SELECT value->>0, value->>1, value->>2 FROM json_each(?) WHERE true"),
        (json.dumps(deltas.rows()),),
    )


def frames_of(entries: Sequence[JournalEntry]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The two frames :func:`post_frames` takes, made from journal entry objects."""
    entry_frame = pl.DataFrame(
        {
            "idempotency_key": [e.idempotency_key for e in entries],
            "business_date": [e.business_date for e in entries],
            "kind": [str(e.kind) for e in entries],
            "description": [e.description for e in entries],
            "reference_key": [e.reference_key for e in entries],
            "run_id": [e.run_id for e in entries],
            "source": [e.source or None for e in entries],
        },
        schema=ENTRY_SCHEMA,
    )
    posting_frame = pl.DataFrame(
        [
            (e.idempotency_key, p.account_id, str(p.component), p.amount_fen)
            for e in entries
            for p in e.postings
        ],
        schema=POSTING_SCHEMA,
        orient="row",
    )
    return entry_frame, posting_frame
