"""Tables of batch payment files (payroll, collections), debit mandates and loan deductions.

``paybatches`` holds one row per submitted file and its lifecycle
(submitted -> validated -> approved -> running -> completed, or rejected);
``paybatch_rows`` the file's detail rows as parsed, keyed by ``row_no`` (1-based position
in the file); ``paybatch_results`` exactly one result per row once it has been run (the
primary key makes a second result impossible, which is what makes a resumed run safe).
Accepted files claim their content hash and message id in unique columns, so the store,
not only the code, refuses the same file twice.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from cardbatch.store.tables import BigId, metadata

paybatches = Table(
    "paybatches",
    metadata,
    Column("batch_id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("format", String(16)),
    Column("source_name", String(255), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("message_id", String(64)),
    Column("party_account", String(40), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("batch_date", Date),
    Column("amount_fen_max_per_row", BigInteger, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("file_header", Text, nullable=False),
    Column("reject_code", String(40)),
    Column("reject_reason", Text),
    Column("reject_iso_code", String(8)),
    # Set only for accepted files: the unique constraints refuse a second accepted copy.
    Column("accepted_sha256", String(64), unique=True),
    Column("accepted_message_key", String(120), unique=True),
    Column("success_count", Integer),
    Column("success_total_fen", BigInteger),
    Column("failure_count", Integer),
    Column("failure_total_fen", BigInteger),
    Column("submitted_by", String(64), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Index("ix_paybatches_status", "status"),
)

paybatch_rows = Table(
    "paybatch_rows",
    metadata,
    Column("batch_id", BigInteger, primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("line_no", Integer, nullable=False),
    Column("seq", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("account", String(256), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("memo", Text, nullable=False),
    Column("end_to_end_id", String(64), nullable=False),
    Column("mandate_id", String(64), nullable=False),
    Column("mandate_signed_on", Date),
    Column("group_id", String(64), nullable=False),
    Column("unit_no", String(64), nullable=False),
    Column("raw_fields", Text),
    Column("pre_reason", String(32)),
)

paybatch_results = Table(
    "paybatch_results",
    metadata,
    Column("batch_id", BigInteger, primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason_key", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("chunk_no", Integer, nullable=False),
    Column("entry_key", String(200)),
)

mandates = Table(
    "mandates",
    metadata,
    Column("biller_account", String(40), primary_key=True),
    Column("payer_account", String(40), primary_key=True),
    Column("mandate_ref", String(64), nullable=False),
    Column("signed_on", Date),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)

loan_products = Table(
    "loan_products",
    metadata,
    Column("product_code", String(32), primary_key=True),
    Column("retry_days", Integer, nullable=False),
    Column("partial_debit", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

loans = Table(
    "loans",
    metadata,
    Column("loan_id", String(40), primary_key=True),
    Column("deposit_account", String(40), nullable=False),
    Column("product_code", String(32), nullable=False),
    Column("source_name", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)

loan_instalments = Table(
    "loan_instalments",
    metadata,
    Column("loan_id", String(40), primary_key=True),
    Column("instalment_no", Integer, primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_loan_instalments_status_due", "status", "due_date"),
)

loan_deductions = Table(
    "loan_deductions",
    metadata,
    Column("loan_id", String(40), primary_key=True),
    Column("instalment_no", Integer, primary_key=True),
    Column("attempt_no", Integer, primary_key=True),
    Column("business_date", Date, nullable=False),
    Column("deposit_account", String(40), nullable=False),
    Column("due_fen", BigInteger, nullable=False),
    Column("debited_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason_key", String(32), nullable=False),
    Column("entry_key", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_loan_deductions_business_date", "business_date"),
)
