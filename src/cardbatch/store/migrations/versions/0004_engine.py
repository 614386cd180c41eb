"""engine: business calendar, runs, locks, steps, chunks, item results

Revision ID: 0004
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_calendar",
        sa.Column("calendar_id", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("calendar_id", name=op.f("pk_business_calendar")),
    )
    op.create_table(
        "item_results",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=32), nullable=False),
        sa.Column("item_key", sa.String(length=120), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("entry_key", sa.String(length=200), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "step_name", "item_key", name=op.f("pk_item_results")),
    )
    with op.batch_alter_table("item_results", schema=None) as batch_op:
        batch_op.create_index("ix_item_results_business_date", ["business_date"], unique=False)

    op.create_table(
        "job_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("job_name", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("params_hash", sa.String(length=16), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("rerun_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("items_total", sa.BigInteger(), nullable=False),
        sa.Column("items_read", sa.BigInteger(), nullable=False),
        sa.Column("items_succeeded", sa.BigInteger(), nullable=False),
        sa.Column("items_failed", sa.BigInteger(), nullable=False),
        sa.Column("items_skipped", sa.BigInteger(), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint(
            "job_name",
            "business_date",
            "params_hash",
            "rerun_no",
            name=op.f("uq_job_runs_job_name_business_date_params_hash_rerun_no"),
        ),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_business_date", ["business_date"], unique=False)

    op.create_table(
        "run_chunks",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=32), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("first_item", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("work_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step_name", "chunk_no", name=op.f("pk_run_chunks")),
    )
    op.create_table(
        "run_locks",
        sa.Column("lock_key", sa.String(length=80), nullable=False),
        sa.Column("owner_token", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("host", sa.String(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lock_key", name=op.f("pk_run_locks")),
    )
    op.create_table(
        "run_steps",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items_total", sa.BigInteger(), nullable=False),
        sa.Column("items_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("items_read", sa.BigInteger(), nullable=False),
        sa.Column("items_succeeded", sa.BigInteger(), nullable=False),
        sa.Column("items_failed", sa.BigInteger(), nullable=False),
        sa.Column("items_skipped", sa.BigInteger(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("entries_written", sa.BigInteger(), nullable=False),
        sa.Column("postings_written", sa.BigInteger(), nullable=False),
        sa.Column("debits_fen", sa.BigInteger(), nullable=False),
        sa.Column("credits_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("totals_json", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("work_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step_name", name=op.f("pk_run_steps")),
    )
    op.create_index("ix_postings_entry_id", "postings", ["entry_id"], unique=False)
    op.create_index("ix_journal_entries_run_id", "journal_entries", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_journal_entries_run_id", table_name="journal_entries")
    op.drop_index("ix_postings_entry_id", table_name="postings")
    op.drop_table("run_steps")
    op.drop_table("run_locks")
    op.drop_table("run_chunks")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_business_date")

    op.drop_table("job_runs")
    with op.batch_alter_table("item_results", schema=None) as batch_op:
        batch_op.drop_index("ix_item_results_business_date")

    op.drop_table("item_results")
    op.drop_table("business_calendar")
