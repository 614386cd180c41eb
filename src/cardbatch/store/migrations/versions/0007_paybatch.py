"""paybatch: batch files, mandates, loans

Revision ID: 0007
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loan_deductions",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("instalment_no", sa.Integer(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("deposit_account", sa.String(length=40), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("debited_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_key", sa.String(length=32), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "loan_id", "instalment_no", "attempt_no", name=op.f("pk_loan_deductions")
        ),
    )
    with op.batch_alter_table("loan_deductions", schema=None) as batch_op:
        batch_op.create_index("ix_loan_deductions_business_date", ["business_date"], unique=False)

    op.create_table(
        "loan_instalments",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("instalment_no", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "instalment_no", name=op.f("pk_loan_instalments")),
    )
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_instalments_status_due", ["status", "due_date"], unique=False
        )

    op.create_table(
        "loan_products",
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("retry_days", sa.Integer(), nullable=False),
        sa.Column("partial_debit", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("product_code", name=op.f("pk_loan_products")),
    )
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("deposit_account", sa.String(length=40), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_loans")),
    )
    op.create_table(
        "mandates",
        sa.Column("biller_account", sa.String(length=40), nullable=False),
        sa.Column("payer_account", sa.String(length=40), nullable=False),
        sa.Column("mandate_ref", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("biller_account", "payer_account", name=op.f("pk_mandates")),
    )
    op.create_table(
        "paybatch_results",
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_key", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "row_no", name=op.f("pk_paybatch_results")),
    )
    op.create_table(
        "paybatch_rows",
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("seq", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("account", sa.String(length=256), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=64), nullable=False),
        sa.Column("mandate_id", sa.String(length=64), nullable=False),
        sa.Column("mandate_signed_on", sa.Date(), nullable=True),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("unit_no", sa.String(length=64), nullable=False),
        sa.Column("raw_fields", sa.Text(), nullable=True),
        sa.Column("pre_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "row_no", name=op.f("pk_paybatch_rows")),
    )
    op.create_table(
        "paybatches",
        sa.Column(
            "batch_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("party_account", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("batch_date", sa.Date(), nullable=True),
        sa.Column("amount_fen_max_per_row", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("file_header", sa.Text(), nullable=False),
        sa.Column("reject_code", sa.String(length=40), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("reject_iso_code", sa.String(length=8), nullable=True),
        sa.Column("accepted_sha256", sa.String(length=64), nullable=True),
        sa.Column("accepted_message_key", sa.String(length=120), nullable=True),
        sa.Column("success_count", sa.Integer(), nullable=True),
        sa.Column("success_total_fen", sa.BigInteger(), nullable=True),
        sa.Column("failure_count", sa.Integer(), nullable=True),
        sa.Column("failure_total_fen", sa.BigInteger(), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_paybatches")),
        sa.UniqueConstraint(
            "accepted_message_key", name=op.f("uq_paybatches_accepted_message_key")
        ),
        sa.UniqueConstraint("accepted_sha256", name=op.f("uq_paybatches_accepted_sha256")),
    )
    with op.batch_alter_table("paybatches", schema=None) as batch_op:
        batch_op.create_index("ix_paybatches_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paybatches", schema=None) as batch_op:
        batch_op.drop_index("ix_paybatches_status")

    op.drop_table("paybatches")
    op.drop_table("paybatch_rows")
    op.drop_table("paybatch_results")
    op.drop_table("mandates")
    op.drop_table("loans")
    op.drop_table("loan_products")
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_instalments_status_due")

    op.drop_table("loan_instalments")
    with op.batch_alter_table("loan_deductions", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_deductions_business_date")

    op.drop_table("loan_deductions")
