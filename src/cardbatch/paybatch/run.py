"""Running an approved batch: per-row checks, postings of the successful rows, results.

Rows are run in file order, in chunks of ``chunk_rows``. Each chunk is one write
transaction holding its rows' journal entries and their results, so a run that dies
(crash, SIGKILL) leaves whole chunks behind and nothing half-done; running the batch
again resumes after the last row that has a result. Every row is its own journal entry
with the idempotency key ``paybatch:<batch id>:<row no>``: the store refuses to post a
row twice even if a result were lost. The engine (runs, chunks, checkpoints, locks) can
take this over as it is: item key = (batch id, row no), checkpoint = last row with a
result, chunk = :func:`run_chunk`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

import polars as pl
from sqlalchemy import Connection

from cardbatch.domain.ledger import Component, EntryKind
from cardbatch.money import format_fen
from cardbatch.paybatch.batches import require_batch
from cardbatch.paybatch.model import (
    CHUNK_ROWS_DEFAULT,
    CHUNK_ROWS_MAX,
    BatchStateError,
    BatchStatus,
    RunOutcome,
    RunRefused,
)
from cardbatch.paybatch.rules import chunk_reasons
from cardbatch.payfiles.model import Kind
from cardbatch.payfiles.reasons import SUCCESS
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store import paybatch_repo as repo
from cardbatch.store.ledger_frames import post_frames

AfterChunk = Callable[[int, int], None]  # (chunk number, rows in it), after its commit
_ENTRY_KIND = {"payroll": EntryKind.PAYROLL, "collection": EntryKind.COLLECTION}
_RUNNABLE = (BatchStatus.APPROVED, BatchStatus.RUNNING)


class BatchRun(NamedTuple):
    """What every chunk of one batch's run needs to know."""

    batch_id: int
    kind: Kind
    party_account: str
    business_date: date
    actor: str


def entry_key(batch_id: int, row_no: int) -> str:
    """The idempotency key of a row's journal entry (and the engine's item key)."""
    return f"paybatch:{batch_id}:{row_no}"


def run_batch(
    store: Store,
    batch_id: int,
    actor: str,
    *,
    chunk_rows: int = CHUNK_ROWS_DEFAULT,
    after_chunk: AfterChunk | None = None,
) -> RunOutcome:
    """Run (or resume) an approved batch to completion."""
    if not 1 <= chunk_rows <= CHUNK_ROWS_MAX:
        raise ValueError(f"chunk_rows must be 1..{CHUNK_ROWS_MAX}")
    job, after_row_no, chunk_no = _start(store, batch_id, actor)
    skipped, chunks_run, rows_run = after_row_no, 0, 0
    while True:
        with store.write() as conn:
            _require_running(conn, batch_id)
            done = run_chunk(conn, job, after_row_no, chunk_no + 1, chunk_rows)
        if done is None:
            break
        chunk_no, chunks_run, rows_run = chunk_no + 1, chunks_run + 1, rows_run + done[1]
        after_row_no = done[0]
        if after_chunk is not None:
            after_chunk(chunk_no, done[1])
    totals = _finish(store, job)
    return RunOutcome(
        batch_id,
        BatchStatus.COMPLETED,
        chunks_run,
        rows_run,
        skipped,
        totals.success_count,
        totals.success_total_fen,
        totals.failure_count,
        totals.failure_total_fen,
    )


def _start(store: Store, batch_id: int, actor: str) -> tuple[BatchRun, int, int]:
    """Move an approved batch to running (a running one is resumed); check the payer's funds."""
    with store.write() as conn:
        row = require_batch(conn, batch_id, lock=True)
        status = row["status"]
        if status not in _RUNNABLE:
            hint = "; a second user must approve it first" if status == "validated" else ""
            raise BatchStateError(f"batch {batch_id} is {status}, not approved{hint}")
        job = BatchRun(batch_id, row["kind"], row["party_account"], row["business_date"], actor)
        after_row_no, chunk_no = repo.results_cursor(conn, batch_id)
        if job.kind == "payroll":
            _require_employer_funds(conn, job, after_row_no)
        if status == BatchStatus.APPROVED:
            repo.update_batch(
                conn, batch_id, status, status=BatchStatus.RUNNING, started_at=utc_now()
            )
        audit.record(
            conn, actor, "paybatch.run", f"paybatch:{batch_id}", resumed_after_row=after_row_no
        )
    return job, after_row_no, chunk_no


def _require_employer_funds(conn: Connection, job: BatchRun, after_row_no: int) -> None:
    pending_fen = repo.pending_total_fen(conn, job.batch_id, after_row_no)
    available_fen = -repo.ledger_balance(conn, job.party_account)
    if available_fen < pending_fen:
        raise RunRefused(
            f"employer account {job.party_account} holds {format_fen(available_fen)} but the "
            f"rows still to run pay out up to {format_fen(pending_fen)}; fund it and run again"
        )


def _require_running(conn: Connection, batch_id: int) -> None:
    status = require_batch(conn, batch_id, lock=True)["status"]
    if status != BatchStatus.RUNNING:
        raise BatchStateError(f"batch {batch_id} is {status}, no longer running")


def run_chunk(
    conn: Connection, job: BatchRun, after_row_no: int, chunk_no: int, rows_max: int
) -> tuple[int, int] | None:
    """Run the next ``rows_max`` rows after ``after_row_no`` inside the caller's transaction:
    decide them (column-wise), post the successes, record every result. Returns (last row
    no, rows) or None when no row is left."""
    biller = job.party_account if job.kind == "collection" else None
    rows = repo.next_chunk_frame(conn, job.batch_id, after_row_no, rows_max, biller)
    if rows.height == 0:
        return None
    decided = rows.with_columns(reason_key=chunk_reasons(job.kind, rows))
    success = pl.col("reason_key") == SUCCESS.key
    key = pl.format("paybatch:{}:{}", pl.lit(job.batch_id), pl.col("row_no"))
    paid = decided.filter(success)
    entries, postings = chunk_entry_frames(job, paid)
    post_frames(conn, entries, postings, actor=job.actor, now=utc_now())
    results = decided.select(
        pl.lit(job.batch_id, dtype=pl.Int64).alias("batch_id"),
        "row_no",
        pl.when(success).then(pl.lit("success")).otherwise(pl.lit("failed")).alias("status"),
        "reason_key",
        "amount_fen",
        pl.lit(chunk_no, dtype=pl.Int64).alias("chunk_no"),
        pl.when(success).then(key).alias("entry_key"),
    )
    repo.insert_results(conn, results.rows())
    return int(rows["row_no"][-1]), rows.height


def chunk_entry_frames(job: BatchRun, paid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The journal entries of a chunk's successful rows: one two-posting entry per row (the
    payer debited, the payee credited), as :func:`cardbatch.domain.ledger.transfer` makes."""
    kind = job.kind
    key = pl.format("paybatch:{}:{}", pl.lit(job.batch_id), pl.col("row_no"))
    entries = paid.select(
        key.alias("idempotency_key"),
        pl.lit(job.business_date, dtype=pl.Date).alias("business_date"),
        pl.lit(str(_ENTRY_KIND[kind])).alias("kind"),
        pl.format(f"{kind} batch {job.batch_id} row {{}}", pl.col("row_no")).alias("description"),
        pl.lit(None, dtype=pl.String).alias("reference_key"),
        pl.lit(f"paybatch:{job.batch_id}").alias("run_id"),
    )
    party = pl.lit(job.party_account)
    payer, payee = (party, pl.col("account")) if kind == "payroll" else (pl.col("account"), party)
    legs = [
        paid.select(
            key.alias("idempotency_key"),
            account.alias("account_id"),
            pl.lit(str(Component.BALANCE)).alias("component"),
            (sign * pl.col("amount_fen")).alias("amount_fen"),
        )
        for account, sign in ((payer, 1), (payee, -1))
    ]
    return entries, pl.concat(legs)


def _finish(store: Store, job: BatchRun) -> repo.ResultTotals:
    with store.write() as conn:
        row = require_batch(conn, job.batch_id, lock=True)
        totals = repo.result_totals(conn, job.batch_id)
        if row["status"] == BatchStatus.COMPLETED:
            return totals
        assert totals.rows == row["row_count"], "a finished run leaves a result on every row"
        repo.update_batch(
            conn,
            job.batch_id,
            BatchStatus.RUNNING,
            status=BatchStatus.COMPLETED,
            completed_at=utc_now(),
            success_count=totals.success_count,
            success_total_fen=totals.success_total_fen,
            failure_count=totals.failure_count,
            failure_total_fen=totals.failure_total_fen,
        )
        audit.record(
            conn, job.actor, "paybatch.complete", f"paybatch:{job.batch_id}", **totals._asdict()
        )
    return totals
