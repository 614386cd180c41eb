"""Tables of applications, decisions, card issuance and batch actions (issue 8).

- ``application_batches`` / ``applications``: a submitted file and its accepted rows,
  each with its decision, review and the card it led to.
- ``decision_policies``: versioned decision tables (TOML text), pending until a
  second user approves them.
- ``blocked_parties``: the block list (resident IDs or phones).
- ``serial_counters``: named counters allocated inside the caller's transaction
  (application sequence numbers, card serials per BIN).
- ``issued_cards``: the register of every card number ever issued; a number in it
  is never issued again.
- ``limit_change_batches`` / ``limit_changes``: proposed, approved, applied and
  reverted limit changes with before/after.
- ``notices``: one row per notice produced (template, business date, account).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cardbatch.store.tables import BigId, metadata

application_batches = Table(
    "application_batches",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("file_name", String(255), nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_accepted", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("application_id", String(48), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("batch_id", String(40), ForeignKey("application_batches.batch_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("employer", String(200), nullable=False),
    Column("monthly_income_fen", BigInteger, nullable=False),
    Column("product_code", String(32), nullable=False),
    Column("address", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("score", Integer),
    Column("credit_limit_fen", BigInteger),
    Column("reason_codes", String(300), nullable=False),
    Column("policy_id", BigInteger),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(64)),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("reviewed_by", String(64)),
    Column("customer_id", String(32)),
    Column("card_account_id", String(40)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Index("ix_applications_id_number_product", "id_number", "product_code"),
    Index("ix_applications_batch_status", "batch_id", "status"),
)

decision_policies = Table(
    "decision_policies",
    metadata,
    Column("policy_id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("approved_at", DateTime(timezone=True)),
    Column("approved_by", String(64)),
    UniqueConstraint("code", "version"),
)

blocked_parties = Table(
    "blocked_parties",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("value", String(20), primary_key=True),
    Column("reason", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)

serial_counters = Table(
    "serial_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_value", BigInteger, nullable=False),
)

issued_cards = Table(
    "issued_cards",
    metadata,
    Column("card_number", String(19), primary_key=True),
    Column("bin", String(8), nullable=False),
    Column("serial", BigInteger, nullable=False),
    Column("account_id", String(40), nullable=False, unique=True),
    Column("application_id", String(48), nullable=False, unique=True),
    Column("batch_id", String(40), nullable=False),
    Column("expiry_month", String(7), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    UniqueConstraint("bin", "serial"),
)

limit_change_batches = Table(
    "limit_change_batches",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("rule", String(200), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("items_total", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("approved_at", DateTime(timezone=True)),
    Column("approved_by", String(64)),
    Column("applied_at", DateTime(timezone=True)),
    Column("applied_by", String(64)),
    Column("reverted_at", DateTime(timezone=True)),
    Column("reverted_by", String(64)),
)

limit_changes = Table(
    "limit_changes",
    metadata,
    Column(
        "batch_id",
        String(40),
        ForeignKey("limit_change_batches.batch_id"),
        primary_key=True,
    ),
    Column("account_id", String(40), primary_key=True),
    Column("before_fen", BigInteger, nullable=False),
    Column("after_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
)

notices = Table(
    "notices",
    metadata,
    Column("notice_key", String(120), primary_key=True),
    Column("template", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("account_id", String(40), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)
