"""instalment early payoff: when a plan was paid off and the fee waived then

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instalment_plans") as batch:
        batch.add_column(sa.Column("paid_off_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("payoff_waived_fee_fen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instalment_plans") as batch:
        batch.drop_column("payoff_waived_fee_fen")
        batch.drop_column("paid_off_on")
