"""What a job is: steps forming a small DAG, each listing its items and processing chunks.

A step's ``list_items`` must return the same items, in the same order, every
time it is called for the same run: it may depend on the job's inputs (files,
parameters, the business date) and on what earlier steps did, never on what
the step itself changes. The engine fingerprints the list when the step
starts and refuses to resume if the list changed.

``process`` turns a chunk of items into one :class:`ItemOutcome` per item, in
the same order; outcomes may carry a journal entry, which the engine posts in
the chunk's transaction. A columnar step gives ``process_frames`` instead: it
returns the chunk's outcomes as one frame (:data:`OUTCOME_SCHEMA`, a row per
item in the chunk's order) and the entries they post as the two frames of
:func:`cardbatch.store.ledger_frames.post_frames` (:class:`ChunkFrames`); the
engine applies the same rules to both forms.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import Connection

from cardbatch.domain.ledger import JournalEntry
from cardbatch.engine.settings import EngineSettings

JOB_NAME_LEN_MAX = 32
STEP_NAME_LEN_MAX = 32
ITEM_KEY_LEN_MAX = 120
REASON_CODE_LEN_MAX = 40
STEPS_MAX = 32
CHUNK_ITEMS_MAX = 20_000  # keeps a chunk's lookups by account id within bound parameter limits


class EngineError(RuntimeError):
    """An engine condition an operator can act on; the CLI prints it as one line."""


class StepInputError(EngineError):
    """A step's whole input is unusable (missing or malformed file): the run fails."""


class JobDefinitionError(EngineError):
    """A job declared wrongly (programmer error found at registration)."""


class ItemStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Item:
    """One unit of work: ``key`` is unique within its step and stable across restarts."""

    key: str
    payload: Any = None


@dataclass(frozen=True)
class ItemOutcome:
    """What became of one item. Failed and skipped items carry a reason code."""

    key: str
    status: ItemStatus
    reason_code: str | None = None
    entry: JournalEntry | None = None
    amount_fen: int = 0
    tally: str | None = None  # a category counted in the step's control totals
    message: str | None = None

    def __post_init__(self) -> None:
        if self.status is not ItemStatus.SUCCEEDED and not self.reason_code:
            raise ValueError(f"item {self.key}: {self.status} needs a reason code")
        if self.reason_code and len(self.reason_code) > REASON_CODE_LEN_MAX:
            raise ValueError(f"item {self.key}: reason code too long: {self.reason_code!r}")
        if self.entry is not None and self.status is not ItemStatus.SUCCEEDED:
            raise ValueError(f"item {self.key}: only succeeded items post entries")


def succeeded(
    item: Item, entry: JournalEntry | None, amount_fen: int = 0, tally: str | None = None
) -> ItemOutcome:
    return ItemOutcome(item.key, ItemStatus.SUCCEEDED, None, entry, amount_fen, tally)


def failed(item: Item, reason_code: str, message: str = "", amount_fen: int = 0) -> ItemOutcome:
    return ItemOutcome(item.key, ItemStatus.FAILED, reason_code, None, amount_fen, None, message)


def skipped(item: Item, reason_code: str, message: str = "") -> ItemOutcome:
    return ItemOutcome(item.key, ItemStatus.SKIPPED, reason_code, None, 0, None, message)


@dataclass(frozen=True)
class JobContext:
    """What a step knows about the run it works for."""

    job_name: str
    business_date: date
    params: Mapping[str, str]
    run_id: str
    settings: EngineSettings
    actor: str
    now: datetime
    dry_run: bool = False

    def entry_key(self, item_key: str) -> str:
        """The idempotency key (job, business date, item) of the entry an item posts."""
        return f"{self.job_name}:{self.business_date.isoformat()}:{item_key}"


@dataclass(frozen=True)
class OutputFile:
    """A file a job writes when its run completes (or would write, in a dry run)."""

    name: str
    text: str
    rows: int


@dataclass(frozen=True)
class StepTotals:
    """The control totals a step declared, as stored when its chunks committed."""

    step_name: str
    status: str
    items_total: int
    items_read: int
    items_succeeded: int
    items_failed: int
    items_skipped: int
    entries_written: int
    postings_written: int
    debits_fen: int
    credits_fen: int
    amount_fen: int
    tallies: dict[str, int] = field(default_factory=dict)


OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "key": pl.String(),
    "status": pl.String(),
    "reason_code": pl.String(),
    "entry_key": pl.String(),  # the idempotency key of the entry the item posts, if any
    "amount_fen": pl.Int64(),
    "tally": pl.String(),
    "message": pl.String(),
}


@dataclass(frozen=True)
class ChunkFrames:
    """A chunk's outcomes as columns and the journal entries they post (None: no entries).

    Each entry belongs to the one outcome row that names its key in ``entry_key``.
    """

    outcomes: pl.DataFrame
    entries: pl.DataFrame | None = None
    postings: pl.DataFrame | None = None


ListItems = Callable[[Connection, JobContext], Sequence[Item]]
ProcessChunk = Callable[[Connection, JobContext, Sequence[Item]], Sequence[ItemOutcome]]
ProcessFrames = Callable[[Connection, JobContext, Sequence[Item]], ChunkFrames]
CheckBefore = Callable[[Connection, JobContext, Mapping[str, StepTotals]], list[str]]
Outputs = Callable[[Connection, JobContext], Sequence[OutputFile]]


@dataclass(frozen=True)
class Step:
    name: str
    list_items: ListItems
    process: ProcessChunk | None
    after: tuple[str, ...] = ()
    check_before: CheckBefore | None = None  # the job's own checks of earlier steps' totals
    process_frames: ProcessFrames | None = None  # a columnar step gives this, not ``process``
    # A columnar step's cost per chunk is mostly fixed, so it takes this many times the
    # run's chunk size (bounded by CHUNK_ITEMS_MAX) in one chunk.
    chunk_scale: int = 1


def _always(_day: date) -> bool:
    return True


@dataclass(frozen=True)
class Job:
    """A batch business: its steps, when it is due, and the files it writes."""

    name: str
    description: str
    steps: tuple[Step, ...]
    night_order: int | None = None  # place in `night run`; None keeps it out of the night
    due: Callable[[date], bool] = _always
    outputs: Outputs | None = None

    def __post_init__(self) -> None:
        validate_job(self)

    def ordered_steps(self) -> list[Step]:
        """Steps in dependency order (ties keep declaration order)."""
        done: list[Step] = []
        names: set[str] = set()
        pending = list(self.steps)
        while pending:
            ready = next(s for s in pending if set(s.after) <= names)
            pending.remove(ready)
            done.append(ready)
            names.add(ready.name)
        return done


def validate_job(job: Job) -> None:
    if not job.name or len(job.name) > JOB_NAME_LEN_MAX or ":" in job.name or "|" in job.name:
        raise JobDefinitionError(f"job name must be 1..{JOB_NAME_LEN_MAX} chars without : or |")
    if not 1 <= len(job.steps) <= STEPS_MAX:
        raise JobDefinitionError(f"job {job.name}: needs 1..{STEPS_MAX} steps")
    names = [s.name for s in job.steps]
    if len(set(names)) != len(names):
        raise JobDefinitionError(f"job {job.name}: step names repeat: {names}")
    for step in job.steps:
        if not step.name or len(step.name) > STEP_NAME_LEN_MAX:
            raise JobDefinitionError(f"job {job.name}: bad step name {step.name!r}")
        if (step.process is None) == (step.process_frames is None):
            raise JobDefinitionError(
                f"job {job.name}: step {step.name} needs exactly one of process, process_frames"
            )
        if step.chunk_scale < 1:
            raise JobDefinitionError(f"job {job.name}: step {step.name} chunk_scale must be >= 1")
        unknown = set(step.after) - set(names)
        if unknown:
            raise JobDefinitionError(f"job {job.name}: step {step.name} after unknown {unknown}")
    placed: set[str] = set()
    pending = list(job.steps)
    while pending:
        ready = [s for s in pending if set(s.after) <= placed]
        if not ready:
            raise JobDefinitionError(f"job {job.name}: steps form a cycle")
        for s in ready:
            pending.remove(s)
            placed.add(s.name)


def params_hash(params: Mapping[str, str]) -> str:
    """A short digest of the run parameters; part of the run identity."""
    encoded = json.dumps(dict(sorted(params.items())), ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def items_fingerprint(items: Sequence[Item]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.key.encode())
        digest.update(b"\n")
    return digest.hexdigest()
