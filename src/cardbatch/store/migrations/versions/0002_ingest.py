"""ingest: the imports table (one row per imported file, content hash unique)

Revision ID: 0002
Revises: 0003 (chained after the rules migration already on main; the lead may re-chain)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column(
            "import_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("duplicate_seq", sa.Integer(), nullable=False),
        sa.Column("duplicate_of", sa.BigInteger(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_warned", sa.Integer(), nullable=False),
        sa.Column("rejects_file", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_imports")),
        sa.UniqueConstraint(
            "content_sha256", "duplicate_seq", name=op.f("uq_imports_content_sha256_duplicate_seq")
        ),
    )


def downgrade() -> None:
    op.drop_table("imports")
