"""A chunk's outcomes as columns: checking a columnar step's frames, and the item results.

Both kinds of step end here. A row step's :class:`~cardbatch.engine.job.ItemOutcome`
objects become the same frames a columnar step returns (:func:`frames_of_outcomes`);
:func:`checked` holds a columnar step to the rules the objects check one by one;
:func:`results` turns the outcomes and what the ledger made of their entries
(:func:`cardbatch.store.ledger_frames.post_frames_settled`) into the item result rows.

An entry already in the ledger with the same content makes its item ``skipped`` with
reason ``already_posted``; with other content, ``failed`` with ``idempotency_conflict``
(nothing is posted for it). A key given twice within one chunk is treated the same way
against the first item that gave it.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cardbatch.engine.job import (
    OUTCOME_SCHEMA,
    REASON_CODE_LEN_MAX,
    ChunkFrames,
    EngineError,
    Item,
    ItemOutcome,
    ItemStatus,
)
from cardbatch.store.ledger_frames import SETTLED_SCHEMA, frames_of

RESULT_COLUMNS: tuple[str, ...] = (
    "item_key", "seq", "status", "reason_code", "entry_key", "entry_id", "amount_fen", "message",
    "tally",
)  # fmt: skip
_STATUSES = [s.value for s in ItemStatus]
_SUCCEEDED = ItemStatus.SUCCEEDED.value


def frames_of_outcomes(rows: Sequence[ItemOutcome]) -> ChunkFrames:
    """The frames of a row step's outcomes; a key repeated in the chunk is settled here."""
    first_hash: dict[str, str] = {}
    keys, statuses, reasons, messages = [], [], [], []
    entries = []
    for o in rows:
        status, reason, message = o.status.value, o.reason_code, o.message
        entry = o.entry
        if entry is not None:
            key = entry.idempotency_key
            if key not in first_hash:
                first_hash[key] = entry.content_hash
                entries.append(entry)
            elif first_hash[key] == entry.content_hash:
                status, reason = ItemStatus.SKIPPED.value, "already_posted"
            else:
                status, reason = ItemStatus.FAILED.value, "idempotency_conflict"
                message = f"entry {key} already posted with other content"
        keys.append(entry.idempotency_key if entry is not None else None)
        statuses.append(status)
        reasons.append(reason)
        messages.append(message)
    outcomes = pl.DataFrame(
        {
            "key": [o.key for o in rows],
            "status": statuses,
            "reason_code": reasons,
            "entry_key": keys,
            "amount_fen": [o.amount_fen for o in rows],
            "tally": [o.tally for o in rows],
            "message": messages,
        },
        schema=OUTCOME_SCHEMA,
    ).select(list(OUTCOME_SCHEMA))
    if not entries:
        return ChunkFrames(outcomes)
    entry_frame, posting_frame = frames_of(entries)
    return ChunkFrames(outcomes, entry_frame, posting_frame)


def checked(step_name: str, chunk: Sequence[Item], frames: ChunkFrames) -> ChunkFrames:
    """A columnar step's frames, conformed, if they keep the rules of item outcomes."""
    outcomes = _conform(step_name, frames.outcomes)
    if outcomes["key"].to_list() != [item.key for item in chunk]:
        raise EngineError(f"step {step_name}: outcomes do not match the chunk's items one to one")
    status, reason = pl.col("status"), pl.col("reason_code")
    _refuse(step_name, outcomes.filter(~status.is_in(_STATUSES)), "has an unknown status")
    _refuse(step_name, outcomes.filter((status != _SUCCEEDED) & reason.fill_null("").eq("")),
            "is not succeeded and needs a reason code")  # fmt: skip
    _refuse(step_name, outcomes.filter(reason.str.len_chars() > REASON_CODE_LEN_MAX),
            "has a reason code that is too long")  # fmt: skip
    _refuse(step_name, outcomes.filter((status != _SUCCEEDED) & pl.col("entry_key").is_not_null()),
            "posts an entry but did not succeed")  # fmt: skip
    named = outcomes["entry_key"].drop_nulls()
    if frames.entries is None or frames.postings is None:
        if named.len():
            raise EngineError(f"step {step_name}: item {named[0]} names an entry it does not give")
        return ChunkFrames(outcomes)
    given = frames.entries["idempotency_key"]
    if named.is_duplicated().any() or sorted(named.to_list()) != sorted(given.to_list()):
        raise EngineError(f"step {step_name}: entries and the items naming them differ")
    return ChunkFrames(outcomes, frames.entries, frames.postings)


def _conform(step_name: str, outcomes: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in OUTCOME_SCHEMA if c not in outcomes.columns]
    if missing:
        raise EngineError(f"step {step_name}: outcomes lack column(s) {', '.join(missing)}")
    return outcomes.select(pl.col(c).cast(t) for c, t in OUTCOME_SCHEMA.items())


def _refuse(step_name: str, bad: pl.DataFrame, problem: str) -> None:
    if bad.height:
        raise EngineError(f"step {step_name}: item {bad['key'][0]} {problem}")


def results(outcomes: pl.DataFrame, settled: pl.DataFrame | None, first: int) -> pl.DataFrame:
    """The item result rows (:data:`RESULT_COLUMNS`), numbered from ``first``."""
    if settled is None:
        settled = pl.DataFrame(schema=SETTLED_SCHEMA)
    joined = outcomes.join(
        settled.rename({"idempotency_key": "entry_key"}), on="entry_key", how="left",
        maintain_order="left",
    )  # fmt: skip
    owns = (pl.col("status") == _SUCCEEDED) & pl.col("entry_key").is_not_null()
    conflict = owns & (pl.col("state") == "conflict")
    replayed = owns & (pl.col("state") == "replayed")
    status = (
        pl.when(conflict).then(pl.lit(ItemStatus.FAILED.value))
        .when(replayed).then(pl.lit(ItemStatus.SKIPPED.value))
        .otherwise(pl.col("status"))
    )  # fmt: skip
    reason = (
        pl.when(conflict).then(pl.lit("idempotency_conflict"))
        .when(replayed).then(pl.lit("already_posted"))
        .otherwise(pl.col("reason_code"))
    )  # fmt: skip
    message = (
        pl.when(conflict)
        .then(pl.format("entry {} already posted with other content", pl.col("entry_key")))
        .otherwise(pl.col("message"))
    )
    return joined.with_row_index("seq", offset=first).select(
        pl.col("key").alias("item_key"),
        pl.col("seq").cast(pl.Int64),
        status.alias("status"),
        reason.alias("reason_code"),
        "entry_key",
        pl.when(status == ItemStatus.FAILED.value).then(None).otherwise(pl.col("entry_id"))
        .alias("entry_id"),
        "amount_fen",
        message.alias("message"),
        "tally",
    )  # fmt: skip
