"""feedback: customer feedback, its links to ledger entries, corrections

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("feedback_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_account_id", "feedback", ["account_id"], unique=False)
    op.create_table(
        "feedback_links",
        sa.Column("feedback_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("step_name", sa.String(length=32), nullable=True),
        sa.Column("item_key", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("feedback_id", "entry_key", name=op.f("pk_feedback_links")),
    )
    op.create_table(
        "corrections",
        sa.Column("correction_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("feedback_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_key", sa.String(length=200), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("correction_id", name=op.f("pk_corrections")),
        sa.UniqueConstraint("entry_key", name=op.f("uq_corrections_entry_key")),
    )
    op.create_index("ix_corrections_business_date", "corrections", ["business_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_corrections_business_date", table_name="corrections")
    op.drop_table("corrections")
    op.drop_table("feedback_links")
    op.drop_index("ix_feedback_account_id", table_name="feedback")
    op.drop_table("feedback")
