"""apps: applications, decision policies, issuance register, limit changes, notices

Revision ID: 0006
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_batches",
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_application_batches")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_application_batches_content_hash")),
    )
    op.create_table(
        "blocked_parties",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_blocked_parties")),
    )
    op.create_table(
        "decision_policies",
        sa.Column(
            "policy_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_decision_policies")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_decision_policies_code_version")),
    )
    op.create_table(
        "issued_cards",
        sa.Column("card_number", sa.String(length=19), nullable=False),
        sa.Column("bin", sa.String(length=8), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.String(length=48), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("expiry_month", sa.String(length=7), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("card_number", name=op.f("pk_issued_cards")),
        sa.UniqueConstraint("account_id", name=op.f("uq_issued_cards_account_id")),
        sa.UniqueConstraint("application_id", name=op.f("uq_issued_cards_application_id")),
        sa.UniqueConstraint("bin", "serial", name=op.f("uq_issued_cards_bin_serial")),
    )
    op.create_table(
        "limit_change_batches",
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(length=64), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverted_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_limit_change_batches")),
    )
    op.create_table(
        "notices",
        sa.Column("notice_key", sa.String(length=120), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("notice_key", name=op.f("pk_notices")),
    )
    op.create_table(
        "serial_counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_serial_counters")),
    )
    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(length=48), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("employer", sa.String(length=200), nullable=False),
        sa.Column("monthly_income_fen", sa.BigInteger(), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("credit_limit_fen", sa.BigInteger(), nullable=True),
        sa.Column("reason_codes", sa.String(length=300), nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("card_account_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["application_batches.batch_id"],
            name=op.f("fk_applications_batch_id_application_batches"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_applications")),
        sa.UniqueConstraint("seq", name=op.f("uq_applications_seq")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_batch_status", ["batch_id", "status"], unique=False)
        batch_op.create_index(
            "ix_applications_id_number_product", ["id_number", "product_code"], unique=False
        )

    op.create_table(
        "limit_changes",
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("before_fen", sa.BigInteger(), nullable=False),
        sa.Column("after_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["limit_change_batches.batch_id"],
            name=op.f("fk_limit_changes_batch_id_limit_change_batches"),
        ),
        sa.PrimaryKeyConstraint("batch_id", "account_id", name=op.f("pk_limit_changes")),
    )


def downgrade() -> None:
    op.drop_table("limit_changes")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_id_number_product")
        batch_op.drop_index("ix_applications_batch_status")

    op.drop_table("applications")
    op.drop_table("serial_counters")
    op.drop_table("notices")
    op.drop_table("limit_change_batches")
    op.drop_table("issued_cards")
    op.drop_table("decision_policies")
    op.drop_table("blocked_parties")
    op.drop_table("application_batches")
