"""The foundation's tables, as SQLAlchemy Core objects on one ``metadata``.

Other areas define their tables in ``tables_<area>.py`` on the same metadata;
the Alembic migrations in ``migrations/versions`` are the source of truth for
the schema in a database, and a test checks that they agree with this file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# An integer id that is a rowid alias on SQLite and a 64-bit integer elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def not_null_only(column: str) -> dict[str, Any]:
    """Index options for a partial index over the rows where ``column`` holds a value."""
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("phone", String(20)),
    Column("city", String(50)),
    Column("birth_date", Date),
    Column("credit_score", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("updated_by", String(64)),
    # A unique index, not a table constraint, so that a bulk load into an empty
    # table can build it once after the rows are in (cardbatch.store.ingest_repo).
    Index("uq_customers_id_number", "id_number", unique=True),
)

enterprises = Table(
    "enterprises",
    metadata,
    Column("enterprise_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("unit_no", String(32), nullable=False),
    Column("settlement_account_id", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)

deposit_accounts = Table(
    "deposit_accounts",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("holder_name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("customer_id", String(32), ForeignKey("customers.customer_id")),
    Column("enterprise_id", String(32)),
    Column("opened_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("updated_by", String(64)),
)

card_accounts = Table(
    "card_accounts",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("customer_id", String(32), ForeignKey("customers.customer_id"), nullable=False),
    Column("product_code", String(32), nullable=False),
    Column("card_number", String(19), nullable=False, unique=True),
    Column("credit_limit_fen", BigInteger, nullable=False),
    Column("statement_day", SmallInteger, nullable=False),
    Column("repayment_account_id", String(40), ForeignKey("deposit_accounts.account_id")),
    Column("autopay_mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("updated_by", String(64)),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", BigId, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("content_hash", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("reference_key", String(200)),
    Column("run_id", String(64)),
    Column("actor", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The entries that correct or reverse one (explain); the night's entries refer to none.
    Index("ix_journal_entries_reference_key", "reference_key", **not_null_only("reference_key")),
)

postings = Table(
    "postings",
    metadata,
    Column("posting_id", BigId, primary_key=True, autoincrement=True),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("account_id", String(40), nullable=False),
    Column("component", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Index("ix_postings_account_entry", "account_id", "entry_id"),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("component", String(16), primary_key=True),
    Column("balance_fen", BigInteger, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("event_id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", Text, nullable=False),
)
