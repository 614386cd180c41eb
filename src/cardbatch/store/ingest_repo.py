"""Store access for imports: chunked key lookups, bulk inserts, updates, the imports record."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import polars as pl
from sqlalchemy import Connection, Index, Table, func, select
from sqlalchemy.schema import CreateIndex, DropIndex

from cardbatch.gcpause import gc_paused
from cardbatch.store.tables_ingest import imports

KEY_LOOKUP_CHUNK = 500


def lookup(
    conn: Connection, table: Table, key: str, values: Iterable[Any], columns: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Rows of ``table`` whose ``key`` is in ``values``: key value -> {column: value}."""
    wanted = sorted(set(values))
    found: dict[Any, dict[str, Any]] = {}
    selected = [table.c[name] for name in columns]
    for start in range(0, len(wanted), KEY_LOOKUP_CHUNK):
        part = wanted[start : start + KEY_LOOKUP_CHUNK]
        for row in conn.execute(select(*selected).where(table.c[key].in_(part))):
            mapping = dict(row._mapping)
            found[mapping[key]] = mapping
    return found


@contextmanager
def sqlite_cache(conn: Connection, cache_mb: int) -> Iterator[None]:
    """A larger SQLite page cache for the duration of a bulk load (no-op elsewhere).

    Inserting a million rows into tables with unique indexes otherwise thrashes
    SQLite's default 2 MB cache. The previous size is restored afterwards.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-int(cache_mb) * 1024}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def drop_index(conn: Connection, index: Index) -> None:
    """Drop a secondary index inside the caller's transaction (a rollback restores it)."""
    conn.execute(DropIndex(index))


def create_index(conn: Connection, index: Index) -> None:
    """Build an index over the rows now in its table (a unique index checks them all)."""
    conn.execute(CreateIndex(index))


def is_empty(conn: Connection, table: Table) -> bool:
    return conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def insert_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert a Polars frame whose columns are named as the table's.

    PostgreSQL: one COPY of the frame written as CSV. SQLite: dates and times
    become ISO text first (as the sqlite3 adapters would write them, but without
    a Python object per cell), then one executemany.
    """
    if frame.height == 0:
        return
    names = ", ".join(frame.columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(_copy_sql(table, frame.columns)) as copy:
            copy.write(_csv_bytes(frame))
        return
    temporal = [
        pl.col(name).dt.to_string("%Y-%m-%d" if dtype == pl.Date else "%Y-%m-%d %H:%M:%S%.6f%:z")
        for name, dtype in frame.schema.items()
        if dtype == pl.Date or isinstance(dtype, pl.Datetime)
    ]
    frame = frame.with_columns(temporal) if temporal else frame
    rows = zip(*(frame.get_column(name).to_list() for name in frame.columns), strict=True)
    placeholders = ", ".join("?" for _ in frame.columns)
    raw = conn.connection.driver_connection  # the same connection and transaction
    assert raw is not None
    cursor = raw.cursor()
    try:  # the DB-API cursor takes the rows lazily: no list of a chunk's tuples
        with gc_paused():
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})", rows)
    finally:
        cursor.close()


def _copy_sql(table: Table, columns: Sequence[str]) -> str:
    """COPY of CSV rows in which ``\\N`` (unquoted) is NULL, as :func:`_csv_bytes` writes them."""
    return f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT csv, NULL '\\N')"


def _csv_bytes(frame: pl.DataFrame) -> memoryview:
    """The frame's rows as CSV bytes straight from Polars (no str to encode again)."""
    data = io.BytesIO()
    frame.write_csv(data, include_header=False, null_value=r"\N")
    return data.getbuffer()


class CopyStream:
    """One PostgreSQL COPY kept open across a bulk load's chunks, fed from a queue.

    Each :meth:`write` hands a frame's rows (as CSV) to a writer thread and
    returns at once, so the server stores chunk N while the caller validates
    chunk N+1. Nothing else may run on the connection until :meth:`close`
    (which waits for the server to take every row) or :meth:`abort` (which
    fails the COPY, so the transaction holds none of its rows).
    """

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]) -> None:
        from psycopg.copy import QueuedLibpqWriter

        raw = conn.connection.driver_connection
        assert raw is not None and conn.dialect.name == "postgresql"
        self.columns = list(columns)
        sql = _copy_sql(table, self.columns)
        self._stack = ExitStack()
        cursor = self._stack.enter_context(raw.cursor())
        self._copy = self._stack.enter_context(cursor.copy(sql, writer=QueuedLibpqWriter(cursor)))

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self._copy.write(_csv_bytes(frame.select(self.columns)))

    def close(self) -> None:
        self._stack.close()

    def abort(self, error: BaseException) -> None:
        self._stack.__exit__(type(error), error, error.__traceback__)


def update_rows(
    conn: Connection, table: Table, key: str, changes: Sequence[dict[str, Any]]
) -> None:
    """Update rows by ``key``; each change dict holds the key and the columns to set."""
    for change in changes:
        values = {name: value for name, value in change.items() if name != key}
        conn.execute(table.update().where(table.c[key] == change[key]).values(**values))


def earlier_imports(conn: Connection, content_sha256: str) -> list[tuple[int, int]]:
    """(import_id, duplicate_seq) of earlier imports of the same content, oldest first."""
    query = (
        select(imports.c.import_id, imports.c.duplicate_seq)
        .where(imports.c.content_sha256 == content_sha256)
        .order_by(imports.c.duplicate_seq)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]


def record_import(conn: Connection, values: dict[str, Any]) -> int:
    """Insert the import's row (the unique content hash is checked by the store)."""
    result = conn.execute(imports.insert().values(**values).returning(imports.c.import_id))
    return int(result.scalar_one())
