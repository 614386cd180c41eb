"""The ``imports`` table: one row per imported file, so a file is never loaded twice by mistake.

``content_sha256`` with ``duplicate_seq`` is unique: the first import of some
content has ``duplicate_seq`` 0, so the store itself refuses a second one;
``--force`` gives the next number and names the earlier import.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from cardbatch.store.tables import BigId, metadata

imports = Table(
    "imports",
    metadata,
    Column("import_id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("file_format", String(8), nullable=False),
    Column("encoding", String(16)),
    Column("content_sha256", String(64), nullable=False),
    Column("duplicate_seq", Integer, nullable=False),
    Column("duplicate_of", BigInteger),
    Column("business_date", Date, nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_inserted", Integer, nullable=False),
    Column("rows_updated", Integer, nullable=False),
    Column("rows_unchanged", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("rows_warned", Integer, nullable=False),
    Column("rejects_file", String(500)),
    Column("actor", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("content_sha256", "duplicate_seq"),
)
