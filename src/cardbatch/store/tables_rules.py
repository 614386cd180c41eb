"""Tables of the rules area: product rule-set versions and named screening segments.

A rule version is immutable once loaded: its TOML text and hash never change;
only its approval (status, approver, time) is written once, later. Segments are
versioned the same way: defining a name again adds a version.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cardbatch.store.tables import BigId, metadata

rule_versions = Table(
    "rule_versions",
    metadata,
    Column("version_id", BigId, primary_key=True, autoincrement=True),
    Column("product_code", String(32), nullable=False),
    Column("version_no", Integer, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("toml_text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source_name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("loaded_by", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", DateTime(timezone=True)),
    UniqueConstraint("product_code", "version_no"),
    Index("ix_rule_versions_product_effective", "product_code", "effective_date"),
)

segments = Table(
    "segments",
    metadata,
    Column("segment_id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("version_no", Integer, nullable=False),
    Column("expression", Text, nullable=False),
    Column("classify_by", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "version_no"),
)
