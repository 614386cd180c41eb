"""The batch engine's tables: business calendar, runs, run locks, steps, chunks, item results.

A run is identified by job + business date + parameters hash + rerun number;
``run_locks`` holds one row per run identity (job + date + parameters) while a
process runs it: the row's primary key is what makes "exactly one runner" hold
in the database on SQLite and PostgreSQL alike. ``item_results`` keeps one row
per item a run processed; its rows are purged after the retention period. Two
indexes on the ledger's tables serve the engine's control totals and the
night's reconciliation.
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
    UniqueConstraint,
)

from cardbatch.store.tables import journal_entries, metadata, not_null_only, postings

# Indexes the engine needs on the ledger's tables: control totals read the postings
# of a step's entries by entry id, and the night reads what each run posted.
Index("ix_postings_entry_id", postings.c.entry_id)
Index("ix_journal_entries_run_id", journal_entries.c.run_id)

business_calendar = Table(
    "business_calendar",
    metadata,
    Column("calendar_id", String(16), primary_key=True),
    Column("business_date", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("job_name", String(32), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("params_hash", String(16), nullable=False),
    Column("params_json", Text, nullable=False),
    Column("rerun_no", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("chunk_size", Integer, nullable=False),
    Column("items_total", BigInteger, nullable=False),
    Column("items_read", BigInteger, nullable=False),
    Column("items_succeeded", BigInteger, nullable=False),
    Column("items_failed", BigInteger, nullable=False),
    Column("items_skipped", BigInteger, nullable=False),
    Column("stop_requested", Boolean, nullable=False),
    Column("reason", Text),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    UniqueConstraint("job_name", "business_date", "params_hash", "rerun_no"),
    Index("ix_job_runs_business_date", "business_date"),
)

run_locks = Table(
    "run_locks",
    metadata,
    Column("lock_key", String(80), primary_key=True),
    Column("owner_token", String(64), nullable=False),
    Column("run_id", String(64)),
    Column("host", String(128), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("lease_expires_at", DateTime(timezone=True), nullable=False),
)

run_steps = Table(
    "run_steps",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("step_name", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("items_total", BigInteger, nullable=False),
    Column("items_fingerprint", String(64), nullable=False),
    Column("items_read", BigInteger, nullable=False),
    Column("items_succeeded", BigInteger, nullable=False),
    Column("items_failed", BigInteger, nullable=False),
    Column("items_skipped", BigInteger, nullable=False),
    Column("chunks_done", Integer, nullable=False),
    Column("entries_written", BigInteger, nullable=False),
    Column("postings_written", BigInteger, nullable=False),
    Column("debits_fen", BigInteger, nullable=False),
    Column("credits_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("totals_json", Text, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("work_ms", BigInteger, nullable=False),
)

run_chunks = Table(
    "run_chunks",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("step_name", String(32), primary_key=True),
    Column("chunk_no", Integer, primary_key=True),
    Column("first_item", BigInteger, nullable=False),
    Column("items", Integer, nullable=False),
    Column("succeeded", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    Column("work_ms", Integer, nullable=False),
)

item_results = Table(
    "item_results",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("step_name", String(32), primary_key=True),
    Column("item_key", String(120), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason_code", String(40)),
    Column("entry_key", String(200)),
    Column("entry_id", BigInteger),
    Column("amount_fen", BigInteger, nullable=False),
    Column("chunk_no", Integer, nullable=False),
    Column("message", Text),
    Index("ix_item_results_business_date", "business_date"),
    # The item that posted an entry (explain, feedback links); rows without one stay out.
    Index("ix_item_results_entry_id", "entry_id", **not_null_only("entry_id")),
)
