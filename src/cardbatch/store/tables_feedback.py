"""Feedback's tables: customer feedback, the ledger entries it concerns, and corrections.

``feedback`` holds one row per complaint or dispute; ``feedback_links`` ties it
to the journal entries (and, where the engine recorded one, the run and item)
it concerns; ``corrections`` holds the reversals and waivers that upheld
disputes produce. A correction's ``entry_key`` is unique, so one original entry
can be corrected at most once, and the ledger's unique idempotency key makes
posting it twice impossible.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, String, Table, Text

from cardbatch.store.tables import BigId, metadata

feedback = Table(
    "feedback",
    metadata,
    Column("feedback_id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("resolution", Text),
    Column("resolved_by", String(64)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64)),
    Column("updated_at", DateTime(timezone=True)),
    Index("ix_feedback_account_id", "account_id"),
)

feedback_links = Table(
    "feedback_links",
    metadata,
    Column("feedback_id", BigInteger, primary_key=True),
    Column("entry_key", String(200), primary_key=True),
    Column("entry_id", BigInteger, nullable=False),
    Column("run_id", String(64)),
    Column("step_name", String(32)),
    Column("item_key", String(120)),
)

corrections = Table(
    "corrections",
    metadata,
    Column("correction_id", BigId, primary_key=True, autoincrement=True),
    Column("feedback_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target_key", String(200), nullable=False),
    Column("entry_key", String(200), nullable=False, unique=True),
    Column("account_id", String(40), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", DateTime(timezone=True)),
    Column("run_id", String(64)),
    Index("ix_corrections_business_date", "business_date"),
)
