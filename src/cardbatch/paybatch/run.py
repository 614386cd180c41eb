"""Running an approved batch on the engine: the ``paybatch`` job and :func:`run_batch`.

``run_batch`` checks the batch (approved by a second user, or running: a resume), moves it to
running, checks the employer's funds (payroll), runs the engine job ``paybatch`` for it and,
once the engine run completed, completes the batch with its totals and an audit record.

The job (params ``batch_id``; business date = the batch's) has one columnar step, ``pay``.
Its items are the batch's rows, keyed by row number, in file order. A chunk (``chunk_scale``
times the engine's chunk size, so a few thousand rows) decides its rows column-wise
(:func:`cardbatch.paybatch.rules.chunk_reasons`), writes the batch's own result of every row
(``paybatch_results``, which the return files are made from) and hands the engine the journal
entries of the successful rows, which the engine posts in the same transaction with the item
results, control totals and checkpoint. A run that dies leaves whole chunks; running the batch
again resumes the engine run after its last committed chunk. Each row is its own journal entry
with the idempotency key ``paybatch:<batch id>:<row no>`` (:func:`entry_key`): the ledger never
posts a row twice, even if a result were lost.

Outcomes, one per row:

* a row paid (collected): ``succeeded``, the row's amount, tally ``paid`` (``collected``);
* a row the checks refuse (户名不符 ``name_mismatch``, 余额不足 ``insufficient_funds``, account
  closed, no mandate, ...): ``skipped`` with the row's reason key as reason code and its amount.
  A refused row is a business outcome of the batch, reported in its failure file, not a
  processing failure: as ``failed`` it would count toward the engine's failure-rate stop, and a
  file with many bad rows (a wrong employer file, an old account list) would stop half-paid;
* a row that already has a result (run by an earlier, abandoned engine run of the batch):
  ``skipped`` with ``done_before``; it is neither decided again nor posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import NamedTuple

import polars as pl
from sqlalchemy import Connection, select

from cardbatch.domain.ledger import Component, EntryKind
from cardbatch.engine.job import (
    ChunkFrames,
    EngineError,
    Item,
    ItemStatus,
    Job,
    JobContext,
    Step,
    StepInputError,
)
from cardbatch.engine.registry import register
from cardbatch.engine.repo import RunStatus
from cardbatch.engine.runner import AlreadyCompleted, ChunkProgress, OnChunk, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings, load_settings
from cardbatch.money import format_fen
from cardbatch.paybatch.batches import require_batch
from cardbatch.paybatch.model import (
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
from cardbatch.store.tables_engine import run_steps

JOB_NAME = "paybatch"
STEP_NAME = "pay"
CHUNK_SCALE = 10  # rows per chunk = the engine's chunk size (500) x 10
TALLY = {"payroll": "paid", "collection": "collected"}
DONE_BEFORE = "done_before"
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
    """The idempotency key of a row's journal entry."""
    return f"paybatch:{batch_id}:{row_no}"


def _entry_key_expr(batch_id: int) -> pl.Expr:
    return pl.format("paybatch:{}:{}", pl.lit(batch_id), pl.col("row_no"))


# ----------------------------------------------------------------------------- the job


def list_rows(conn: Connection, ctx: JobContext) -> list[Item]:
    """The batch's rows in file order (rows never change once submitted)."""
    batch_id = int(ctx.params["batch_id"])
    return [Item(str(row_no), row_no) for row_no in repo.row_numbers(conn, batch_id)]


def pay_rows(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> ChunkFrames:
    """Decide a chunk of rows, record the batch's result of each, give the entries to post."""
    batch = _running_batch(conn, ctx)
    biller = batch.party_account if batch.kind == "collection" else None
    rows = repo.chunk_frame(conn, batch.batch_id, chunk[0].payload, chunk[-1].payload, biller)
    todo = rows.filter(pl.col("has_result") == 0)
    todo = todo.with_columns(
        reason_key=chunk_reasons(batch.kind, todo) if todo.height else pl.lit(None, pl.String)
    )
    success = pl.col("reason_key") == SUCCESS.key
    key = _entry_key_expr(batch.batch_id)
    if todo.height:
        results = todo.select(
            pl.lit(batch.batch_id, dtype=pl.Int64).alias("batch_id"),
            "row_no",
            pl.when(success).then(pl.lit("success")).otherwise(pl.lit("failed")).alias("status"),
            "reason_key",
            "amount_fen",
            pl.lit(_chunk_no(conn, ctx), dtype=pl.Int64).alias("chunk_no"),
            pl.when(success).then(key).alias("entry_key"),
        )
        repo.insert_results(conn, results.rows())
    judged = (
        todo
        if todo.height == rows.height
        else rows.join(todo.select("row_no", "reason_key"), on="row_no", how="left",
                       maintain_order="left")
    )  # fmt: skip
    before = pl.col("has_result") == 1
    paid = judged.filter(success.fill_null(False))
    skipped = ItemStatus.SKIPPED.value
    outcomes = judged.select(
        pl.col("row_no").cast(pl.String).alias("key"),
        pl.when(before).then(pl.lit(skipped))
        .when(success).then(pl.lit(ItemStatus.SUCCEEDED.value))
        .otherwise(pl.lit(skipped)).alias("status"),
        pl.when(before).then(pl.lit(DONE_BEFORE))
        .when(success).then(None)
        .otherwise(pl.col("reason_key")).alias("reason_code"),
        pl.when(success).then(key).alias("entry_key"),
        pl.when(before).then(0).otherwise(pl.col("amount_fen")).alias("amount_fen"),
        pl.when(success).then(pl.lit(TALLY[batch.kind])).alias("tally"),
        pl.lit(None, dtype=pl.String).alias("message"),
    )  # fmt: skip
    entries, postings = chunk_entry_frames(batch, paid)
    return ChunkFrames(outcomes, entries, postings)


def _running_batch(conn: Connection, ctx: JobContext) -> BatchRun:
    """The job's batch, which must be running (``run_batch`` moved it there): a run started
    by hand for a batch that is not fails at its first chunk, and changes nothing."""
    batch_id = int(ctx.params["batch_id"])
    row = require_batch(conn, batch_id, lock=True)
    if row["status"] != BatchStatus.RUNNING:
        raise StepInputError(
            f"batch {batch_id} is {row['status']}, not running: run it with `batch run`"
        )
    return BatchRun(batch_id, row["kind"], row["party_account"], row["business_date"], ctx.actor)


def _chunk_no(conn: Connection, ctx: JobContext) -> int:
    """The engine's number of this chunk in its run, from 1 (the batch's results keep it)."""
    s = run_steps.c
    query = select(s.chunks_done).where(s.run_id == ctx.run_id, s.step_name == STEP_NAME)
    return int(conn.execute(query).scalar_one_or_none() or 0) + 1


def chunk_entry_frames(job: BatchRun, paid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The journal entries of a chunk's successful rows: one two-posting entry per row (the
    payer debited, the payee credited), as :func:`cardbatch.domain.ledger.transfer` makes."""
    kind = job.kind
    key = _entry_key_expr(job.batch_id)
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


STEP = Step(STEP_NAME, list_rows, None, process_frames=pay_rows, chunk_scale=CHUNK_SCALE)
JOB = register(
    Job(
        name=JOB_NAME,
        description="Run an approved payment batch (payroll or collection); params batch_id.",
        steps=(STEP,),
        night_order=None,  # run on demand, after a second user approved the batch
    )
)


# ----------------------------------------------------------------------------- the command


def run_batch(
    store: Store,
    batch_id: int,
    actor: str,
    *,
    chunk_rows: int | None = None,
    settings: EngineSettings | None = None,
    on_chunk: OnChunk | None = None,
) -> RunOutcome:
    """Run (or resume) an approved batch to completion on the engine.

    ``chunk_rows`` (1..:data:`CHUNK_ROWS_MAX`) sets the rows per chunk: the run's chunk size,
    taken as it is. Without it a chunk holds the run's chunk size (the engine's ``chunk_size``
    setting) times :data:`CHUNK_SCALE` rows. An engine run keeps the chunk size it was created
    with: a resumed run's chunks are that size (times the scale unless ``chunk_rows`` is given).
    """
    if chunk_rows is not None and not 1 <= chunk_rows <= CHUNK_ROWS_MAX:
        raise ValueError(f"chunk_rows must be 1..{CHUNK_ROWS_MAX}")
    batch, done_before = _start(store, batch_id, actor)
    settings = settings or load_settings()
    job = JOB
    if chunk_rows is not None:
        settings = settings.with_overrides(chunk_size=chunk_rows)
        job = replace(JOB, steps=(replace(STEP, chunk_scale=1),))
    params = {"batch_id": str(batch_id)}
    request = RunRequest(job, batch.business_date, params, actor, settings)
    chunks_run = 0

    def progress(p: ChunkProgress) -> None:
        nonlocal chunks_run
        chunks_run += 1
        if on_chunk is not None:
            on_chunk(p)

    _run_engine(store, request, progress)
    totals = _finish(store, batch)
    return RunOutcome(
        batch_id,
        BatchStatus.COMPLETED,
        chunks_run,
        totals.rows - done_before,
        done_before,
        totals.success_count,
        totals.success_total_fen,
        totals.failure_count,
        totals.failure_total_fen,
    )


def _start(store: Store, batch_id: int, actor: str) -> tuple[BatchRun, int]:
    """Move an approved batch to running (a running one is resumed); check the payer's funds.
    Returns the batch and how many of its rows already have a result."""
    with store.write() as conn:
        row = require_batch(conn, batch_id, lock=True)
        status = row["status"]
        if status not in _RUNNABLE:
            hint = "; a second user must approve it first" if status == "validated" else ""
            raise BatchStateError(f"batch {batch_id} is {status}, not approved{hint}")
        batch = BatchRun(batch_id, row["kind"], row["party_account"], row["business_date"], actor)
        done_before = repo.results_count(conn, batch_id)
        if batch.kind == "payroll":
            _require_employer_funds(conn, batch)
        if status == BatchStatus.APPROVED:
            repo.update_batch(
                conn, batch_id, status, status=BatchStatus.RUNNING, started_at=utc_now()
            )
        audit.record(
            conn, actor, "paybatch.run", f"paybatch:{batch_id}", rows_done_before=done_before
        )
    return batch, done_before


def _require_employer_funds(conn: Connection, batch: BatchRun) -> None:
    pending_fen = repo.pending_total_fen(conn, batch.batch_id)
    available_fen = -repo.ledger_balance(conn, batch.party_account)
    if available_fen < pending_fen:
        raise RunRefused(
            f"employer account {batch.party_account} holds {format_fen(available_fen)} but the "
            f"rows still to run pay out up to {format_fen(pending_fen)}; fund it and run again"
        )


def _run_engine(store: Store, request: RunRequest, on_chunk: OnChunk) -> None:
    """Run (or resume) the batch's engine run to completion, or refuse with the reason."""
    batch_id = request.params["batch_id"]
    try:
        try:
            report = run_job(store, request, on_chunk)
        except AlreadyCompleted:
            # The engine run completed but the batch did not (the process died in between):
            # nothing is left to run unless rows lack a result.
            with store.read() as conn:
                row_count = int(require_batch(conn, int(batch_id))["row_count"])
                if repo.results_count(conn, int(batch_id)) == row_count:
                    return
            report = run_job(store, replace(request, rerun=True), on_chunk)
    except EngineError as exc:
        raise RunRefused(f"batch {batch_id}: {exc}") from exc
    if report.status != RunStatus.COMPLETED:
        raise RunRefused(
            f"batch {batch_id}: engine run {report.run_id} {report.status}: {report.reason}; "
            "run the batch again to resume it"
        )


def _finish(store: Store, batch: BatchRun) -> repo.ResultTotals:
    with store.write() as conn:
        row = require_batch(conn, batch.batch_id, lock=True)
        totals = repo.result_totals(conn, batch.batch_id)
        if row["status"] == BatchStatus.COMPLETED:
            return totals
        assert totals.rows == row["row_count"], "a finished run leaves a result on every row"
        repo.update_batch(
            conn,
            batch.batch_id,
            BatchStatus.RUNNING,
            status=BatchStatus.COMPLETED,
            completed_at=utc_now(),
            success_count=totals.success_count,
            success_total_fen=totals.success_total_fen,
            failure_count=totals.failure_count,
            failure_total_fen=totals.failure_total_fen,
        )
        audit.record(
            conn, batch.actor, "paybatch.complete", f"paybatch:{batch.batch_id}",
            **totals._asdict(),
        )  # fmt: skip
    return totals
