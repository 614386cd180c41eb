"""What loaders share: the outcome of loading a chunk and the context of one import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Connection

from cardbatch.ingest.errors import FieldIssue, RowReject, RowWarning
from cardbatch.ingest.validate import INDEX, LINE


@dataclass(frozen=True)
class LoadContext:
    """Who imports, when, for which business date, and which columns the file carries."""

    actor: str
    now: datetime
    business_date: date
    present: frozenset[str]
    run_id: str


@dataclass
class LoadOutcome:
    """What loading one chunk did: counts, rows refused by the store's state, warnings."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[tuple[int, RowReject]] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)

    def reject(self, row: dict[str, Any], column: str, code: str, message: str) -> None:
        issue = FieldIssue(column, code, message)
        self.rejects.append((int(row[INDEX]), RowReject(int(row[LINE]), (issue,))))

    def warn(self, row: dict[str, Any], column: str, code: str, message: str) -> None:
        self.warnings.append(RowWarning(int(row[LINE]), FieldIssue(column, code, message)))


class Loader(Protocol):
    """Writes one kind's accepted rows into the store, inside the import's transaction."""

    def load(self, conn: Connection, frame: pl.DataFrame) -> LoadOutcome: ...

    def finish(self, conn: Connection) -> None:
        """After the last chunk loaded (and before the import commits)."""
        ...

    def abort(self, error: BaseException) -> None:
        """The import failed part-way: release what the loader holds (the caller rolls back)."""
        ...


def changes(
    stored: dict[str, Any], row: dict[str, Any], columns: dict[str, str], present: frozenset[str]
) -> dict[str, Any]:
    """Stored columns whose value differs from the file's (file column -> stored column).

    Columns absent from the file, and empty optional cells, leave stored values alone.
    """
    changed: dict[str, Any] = {}
    for file_column, stored_column in columns.items():
        value = row.get(file_column)
        if file_column not in present or value is None:
            continue
        if stored.get(stored_column) != value:
            changed[stored_column] = value
    return changed
