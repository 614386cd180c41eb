"""Connections to the store: URL handling, SQLite settings, transactions, clear errors.

SQLite is the embedded default and PostgreSQL (psycopg 3) the production store.
On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` so that it holds
the write lock from its first statement (no lock upgrade deadlocks, and id
ranges can be allocated safely); reads use plain deferred transactions, which
WAL lets run beside a writer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

DEFAULT_DB_URL = "sqlite:///cardbatch.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 5

# The newest migration (store/migrations/versions); tests keep it equal to Alembic's head.
SCHEMA_HEAD = "0016"


class StoreError(RuntimeError):
    """A store problem an operator can act on; the CLI prints it as one line."""


class StoreUnavailable(StoreError):
    """The database URL is malformed or the database cannot be reached."""


class SchemaMissing(StoreError):
    """The database has no cardbatch schema, or an older one."""


@dataclass
class Store:
    """One database: a read engine and a write engine (the same one on PostgreSQL)."""

    url: str
    engine: Engine
    writer: Engine
    # SQLite: the statement that starts a read snapshot, sent on the driver's connection.
    # Not a "begin" event on the read engine: any engine event makes SQLAlchemy dispatch
    # events around every statement, a tenth of a console read's CPU.
    read_begin: str | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction, rolled back at the end (on SQLite one snapshot for all its
        statements; on PostgreSQL read committed, as every transaction there)."""
        with self.engine.connect() as conn:
            if self.read_begin is not None:
                conn.exec_driver_sql(self.read_begin)
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self.writer.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        if self.writer is not self.engine:
            self.writer.dispose()


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def open_store(url: str = DEFAULT_DB_URL, *, require_schema: bool = True) -> Store:
    """Open a store and check that it answers; ``require_schema`` checks the migrations ran."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreUnavailable(f"not a database URL: {redact_url(url)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        store = _open_sqlite(url)
    elif backend == "postgresql":
        engine = create_engine(
            url, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}, pool_pre_ping=True
        )
        store = Store(url=url, engine=engine, writer=engine)
    else:
        raise StoreUnavailable(f"unsupported database {backend!r} in {redact_url(url)}")
    _ping(store)
    if require_schema:
        check_schema(store)
    return store


def _open_sqlite(url: str) -> Store:
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:"):
        raise StoreUnavailable("an in-memory SQLite database cannot be shared; give a file path")
    engine = _sqlite_engine(url, begin=None)
    writer = _sqlite_engine(url, begin="BEGIN IMMEDIATE")
    return Store(url=url, engine=engine, writer=writer, read_begin="BEGIN")


def _sqlite_engine(url: str, *, begin: str | None) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    if begin is not None:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

    return engine


def _ping(store: Store) -> None:
    try:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        store.dispose()
        raise StoreUnavailable(f"cannot reach database {redact_url(store.url)}: {reason}") from None


def check_schema(store: Store) -> None:
    """Refuse to work on a database whose schema is missing or behind the code.

    Reads the recorded revision with one query and compares it with
    :data:`SCHEMA_HEAD`, so that a command does not load the migration scripts.
    """
    with store.read() as conn:
        if not inspect(conn).has_table("alembic_version"):
            raise SchemaMissing(
                f"database {redact_url(store.url)} has no cardbatch schema; "
                "run `cardbatch db upgrade` first"
            )
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if current != SCHEMA_HEAD:
        raise SchemaMissing(
            f"database {redact_url(store.url)} is at schema {current}, the code needs "
            f"{SCHEMA_HEAD}; run `cardbatch db upgrade`"
        )
