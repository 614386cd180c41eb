"""foundation: parties, accounts, ledger, audit

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_events")),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "component", name=op.f("pk_balances")),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=50), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("credit_score", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customers")),
        sa.UniqueConstraint("id_number", name=op.f("uq_customers_id_number")),
    )
    op.create_table(
        "enterprises",
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_no", sa.String(length=32), nullable=False),
        sa.Column("settlement_account_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_enterprises")),
    )
    op.create_table(
        "journal_entries",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reference_key", sa.String(length=200), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_journal_entries_idempotency_key")),
    )
    op.create_table(
        "deposit_accounts",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_deposit_accounts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_deposit_accounts")),
    )
    op.create_table(
        "postings",
        sa.Column(
            "posting_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.entry_id"],
            name=op.f("fk_postings_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("posting_id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index("ix_postings_account_entry", ["account_id", "entry_id"], unique=False)

    op.create_table(
        "card_accounts",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("card_number", sa.String(length=19), nullable=False),
        sa.Column("credit_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("statement_day", sa.SmallInteger(), nullable=False),
        sa.Column("repayment_account_id", sa.String(length=40), nullable=True),
        sa.Column("autopay_mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_card_accounts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["repayment_account_id"],
            ["deposit_accounts.account_id"],
            name=op.f("fk_card_accounts_repayment_account_id_deposit_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_card_accounts")),
        sa.UniqueConstraint("card_number", name=op.f("uq_card_accounts_card_number")),
    )


def downgrade() -> None:
    op.drop_table("card_accounts")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index("ix_postings_account_entry")

    op.drop_table("postings")
    op.drop_table("deposit_accounts")
    op.drop_table("journal_entries")
    op.drop_table("enterprises")
    op.drop_table("customers")
    op.drop_table("balances")
    op.drop_table("audit_events")
