"""cycle: card cycle state, statements, delinquency history and auto-repayment attempts

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = (
    "status_actions",
    "instalment_plans",
    "instalment_lines",
    "delinquency_history",
    "statements",
    "cycle_lots",
    "cycle_accounts",
    "autopay_attempts",
)


def upgrade() -> None:
    op.create_table(
        "autopay_attempts",
        sa.Column(
            "attempt_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("attempt_date", sa.Date(), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("deposit_account_id", sa.String(length=40), nullable=True),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=8), nullable=True),
        sa.Column("entry_key", sa.String(length=200), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_autopay_attempts")),
        sa.UniqueConstraint(
            "account_id", "attempt_date", name=op.f("uq_autopay_attempts_account_id_attempt_date")
        ),
    )
    op.create_index(
        "ix_autopay_attempts_attempt_date", "autopay_attempts", ["attempt_date"], unique=False
    )
    op.create_table(
        "cycle_accounts",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("last_statement_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("statement_balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("minimum_fen", sa.BigInteger(), nullable=False),
        sa.Column("arrears_fen", sa.BigInteger(), nullable=False),
        sa.Column("arrears_since", sa.Date(), nullable=True),
        sa.Column("overpaid_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_purchase_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_late_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_instalment_fen", sa.BigInteger(), nullable=False),
        sa.Column("retro_fen_days", sa.BigInteger(), nullable=False),
        sa.Column("unbilled_instalment_fen", sa.BigInteger(), nullable=False),
        sa.Column("instalment_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("instalment_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=4), nullable=False),
        sa.Column("five_category", sa.String(length=16), nullable=False),
        sa.Column("state_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_cycle_accounts")),
    )
    op.create_table(
        "cycle_lots",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("post_date", sa.Date(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("remaining_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "component", "post_date", "seq", name=op.f("pk_cycle_lots")
        ),
    )
    op.create_table(
        "delinquency_history",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=4), nullable=False),
        sa.Column("five_category", sa.String(length=16), nullable=False),
        sa.Column("previous_bucket", sa.String(length=4), nullable=False),
        sa.Column("previous_category", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "business_date", name=op.f("pk_delinquency_history")),
    )
    op.create_table(
        "statements",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("opening_balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("purchases_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("instalment_fen", sa.BigInteger(), nullable=False),
        sa.Column("payments_fen", sa.BigInteger(), nullable=False),
        sa.Column("credits_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("fees_fen", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("closing_balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("minimum_payment_fen", sa.BigInteger(), nullable=False),
        sa.Column("unbilled_instalment_fen", sa.BigInteger(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=4), nullable=False),
        sa.Column("five_category", sa.String(length=16), nullable=False),
        sa.Column("rule_version", sa.String(length=48), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("inputs_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "statement_date", name=op.f("pk_statements")),
    )

    op.create_table(
        "instalment_lines",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "number", name=op.f("pk_instalment_lines")),
    )
    op.create_index(
        "ix_instalment_lines_account_id_bill_date",
        "instalment_lines",
        ["account_id", "bill_date"],
        unique=False,
    )
    op.create_table(
        "instalment_plans",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("converted_on", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column("monthly_fee_percent", sa.String(length=16), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_instalment_plans")),
    )

    op.create_table(
        "status_actions",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "business_date", name=op.f("pk_status_actions")),
    )


def downgrade() -> None:
    op.drop_index("ix_autopay_attempts_attempt_date", table_name="autopay_attempts")
    op.drop_index("ix_instalment_lines_account_id_bill_date", table_name="instalment_lines")
    for name in TABLES:
        op.drop_table(name)
