"""The hash chain of the audit trail: what each row's hash covers, and how a chain is checked.

Every audit row carries ``prev_hash`` (the hash of the row before it, or
:data:`GENESIS_HASH` for the first) and ``row_hash`` = SHA-256 over a canonical
JSON array of its id, time, actor, action, subject, detail and ``prev_hash``.
Editing any field changes the row's hash; deleting a row breaks the link of the
row after it. Pure functions only: the store reads rows, this module judges them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainRow:
    """One audit row as stored, with the two hash columns."""

    event_id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str
    prev_hash: str | None
    row_hash: str | None


def canonical_time(at: datetime) -> str:
    """UTC with microseconds; a naive time (SQLite hands those back) is taken as UTC."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(
    event_id: int, at: datetime, actor: str, action: str, subject: str, detail: str, prev_hash: str
) -> str:
    """The hash of one row's content and the hash of the row before it."""
    content = [event_id, canonical_time(at), actor, action, subject, detail, prev_hash]
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not hold, and why."""

    event_id: int
    reason: str


def first_break(rows: Iterable[ChainRow], prev_hash: str = GENESIS_HASH) -> ChainBreak | None:
    """Walk rows in event_id order from ``prev_hash``; the first bad row, or None."""
    expected_prev = prev_hash
    for row in rows:
        if row.prev_hash != expected_prev:
            return ChainBreak(
                row.event_id,
                "prev_hash does not match the hash of the row before it "
                "(a row before it was deleted, inserted or edited)",
            )
        computed = row_hash(row.event_id, row.at, row.actor, row.action, row.subject,
                            row.detail, expected_prev)  # fmt: skip
        if row.row_hash != computed:
            return ChainBreak(row.event_id, "row_hash does not match the row's content (edited)")
        expected_prev = computed
    return None
