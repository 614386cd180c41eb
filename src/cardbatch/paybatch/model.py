"""Records, states, settings and errors of the batch payment lifecycle.

A batch moves ``submitted -> validated -> approved -> running -> completed``, or ends
``rejected`` as a whole file with one reason. Settings are declared once in
:data:`SETTINGS` (name, default, unit, help), as the docs list them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from cardbatch.engine.settings import CHUNK_SIZE_MAX
from cardbatch.payfiles.checks import AMOUNT_FEN_MAX_PER_ROW


class BatchStatus(StrEnum):
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    APPROVED = "approved"
    RUNNING = "running"
    COMPLETED = "completed"
    REJECTED = "rejected"


# Settings (datasette style): name -> (default, unit, help).
CHUNK_ROWS_DEFAULT = 5_000  # the engine's default chunk size (500) x the job's chunk scale (10)
CHUNK_ROWS_MAX = CHUNK_SIZE_MAX
LIST_ROWS_MAX = 1_000
SETTINGS: dict[str, tuple[int, str, str]] = {
    "amount_fen_max_per_row": (
        AMOUNT_FEN_MAX_PER_ROW,
        "fen",
        "largest amount of one row; above it the row fails 超过单笔限额 (AM02)",
    ),
    "chunk_rows": (
        CHUNK_ROWS_DEFAULT,
        "rows",
        "rows run and committed together (postings and results in one transaction); by "
        "default the engine's chunk_size x 10, `--chunk-rows` sets it for a new run",
    ),
}

# Rejection codes of the lifecycle itself (file-format codes come from cardbatch.payfiles).
DUPLICATE_FILE = "duplicate_file"
DUPLICATE_MESSAGE_ID = "duplicate_message_id"
UNKNOWN_PARTY = "unknown_party"
PARTY_INACTIVE = "party_inactive"
INSUFFICIENT_FUNDS = "insufficient_funds"


class PaybatchError(Exception):
    """A request about a batch that cannot be carried out; the CLI prints it as one line."""


class BatchNotFound(PaybatchError):
    """No batch has this id."""


class BatchStateError(PaybatchError):
    """The batch is not in a state that allows the action (e.g. running an unapproved batch)."""


class MakerCheckerError(PaybatchError):
    """The user who submitted a batch tried to approve it."""


class RunRefused(PaybatchError):
    """A run cannot start or go on (e.g. the employer's balance no longer covers the batch)."""


@dataclass(frozen=True)
class Rejection:
    """Why a whole file was refused: a stable code, one clear line, the ISO group reason."""

    code: str
    reason: str
    iso_code: str = "FF01"


@dataclass(frozen=True)
class BatchSummary:
    """What ``batch show`` and ``batch list`` tell about a batch (no personal data)."""

    batch_id: int
    kind: str
    status: str
    format: str | None
    source_name: str
    party_account: str
    business_date: date
    batch_date: date | None
    message_id: str | None
    row_count: int
    total_fen: int
    submitted_by: str
    submitted_at: datetime
    approved_by: str | None = None
    reject_code: str | None = None
    reject_reason: str | None = None
    success_count: int | None = None
    success_total_fen: int | None = None
    failure_count: int | None = None
    failure_total_fen: int | None = None
    completed_at: datetime | None = None
    rows_done: int = 0
    by_reason: dict[str, dict[str, int | str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """What one ``batch run`` call did."""

    batch_id: int
    status: str
    chunks_run: int
    rows_run: int
    rows_skipped: int  # rows that already had a result from an earlier, interrupted run
    success_count: int
    success_total_fen: int
    failure_count: int
    failure_total_fen: int
