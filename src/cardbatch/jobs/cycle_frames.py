"""The card cycle's outcomes and journal entries built as columns, for the engine's frame form.

A cycle step computes a chunk's results in Polars; these helpers turn them into the
frames :class:`cardbatch.engine.job.ChunkFrames` carries: one outcome row per item
(``<account>:<kind>``) and, for the items that post, entries keyed
``card-cycle:<date>:<account>:<kind>`` with their postings. The entries say exactly
what the row form's :class:`~cardbatch.domain.ledger.JournalEntry` objects said, so
their content hashes are the same and a run replayed over either form posts nothing
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from cardbatch.engine.job import OUTCOME_SCHEMA, ChunkFrames, Item, JobContext
from cardbatch.store.ledger_frames import ENTRY_SCHEMA, POSTING_SCHEMA

ITEM_FRAME_SCHEMA: dict[str, pl.DataType] = {"key": pl.String(), "account_id": pl.String()}


def chunk_frame(chunk: Sequence[Item]) -> pl.DataFrame:
    """The chunk's items in order: ``key`` and ``account_id`` (the item's payload)."""
    return pl.DataFrame(
        {"key": [i.key for i in chunk], "account_id": [i.payload for i in chunk]},
        schema=ITEM_FRAME_SCHEMA,
    )


def entry_key(ctx: JobContext) -> pl.Expr:
    """``<job>:<date>:<item key>``, as :meth:`JobContext.entry_key` makes it."""
    return pl.format(f"{ctx.job_name}:{ctx.business_date.isoformat()}:{{}}", pl.col("key"))


def outcomes(items: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """Outcome rows for ``items`` (one per item, same order) from expressions over its columns.

    Columns of :data:`OUTCOME_SCHEMA` not given are null, except ``amount_fen`` (0).
    """
    defaults: dict[str, pl.Expr] = {"amount_fen": pl.lit(0, pl.Int64)}
    exprs = []
    for name, dtype in OUTCOME_SCHEMA.items():
        given = columns.get(name, defaults.get(name, pl.lit(None)))
        exprs.append(given.cast(dtype).alias(name))
    return items.select(exprs)


def entries(
    posting: pl.DataFrame, day: date, run_id: str, kind: pl.Expr, description: pl.Expr
) -> pl.DataFrame:
    """One entry row per row of ``posting`` (which has ``entry_key``), in its order."""
    return posting.select(
        pl.col("entry_key").alias("idempotency_key"),
        pl.lit(day, pl.Date).alias("business_date"),
        kind.alias("kind"),
        description.alias("description"),
        pl.lit(None, pl.String).alias("reference_key"),
        pl.lit(run_id, pl.String).alias("run_id"),
        pl.lit(None, pl.String).alias("source"),
    ).cast(ENTRY_SCHEMA)  # type: ignore[arg-type]


def legs(rows: pl.DataFrame, *parts: tuple[pl.Expr, str, pl.Expr]) -> pl.DataFrame:
    """Postings of each row's entry: for each (account, component, signed amount) given,
    one posting per row whose amount is not zero; legs of an entry keep the order given."""
    frames = [
        rows.select(
            pl.col("entry_key").alias("idempotency_key"),
            account.alias("account_id"),
            pl.lit(component).alias("component"),
            amount.cast(pl.Int64).alias("amount_fen"),
            pl.lit(n).alias("leg"),
            pl.int_range(pl.len()).alias("row"),
        )
        for n, (account, component, amount) in enumerate(parts)
    ]
    if not frames:
        return pl.DataFrame(schema=POSTING_SCHEMA)
    return (
        pl.concat(frames)
        .filter(pl.col("amount_fen") != 0)
        .sort("row", "leg")
        .select(list(POSTING_SCHEMA))
        .cast(POSTING_SCHEMA)  # type: ignore[arg-type]
    )


def chunk_frames(
    outcome_rows: pl.DataFrame, entry_rows: pl.DataFrame, posting_rows: pl.DataFrame
) -> ChunkFrames:
    if entry_rows.height == 0:
        return ChunkFrames(outcome_rows)
    return ChunkFrames(outcome_rows, entry_rows, posting_rows)
