"""What every reader gives: a header and chunks of raw rows with their line numbers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cardbatch.ingest.errors import FieldIssue

FORMATS = ("auto", "csv", "tsv", "pipe", "xlsx", "fixed")
DELIMITERS = {"csv": ",", "tsv": "\t", "pipe": "|"}


@dataclass
class Chunk:
    """Up to ``chunk_rows`` records: line numbers, raw cells and structural problems.

    ``rows[i]`` holds the cells of the record that starts on line ``lines[i]``, in
    file column order (for fixed-width files: in layout order). ``issues[i]`` is
    set when the record could not be split into cells properly (wrong number of
    fields, a character cut by a fixed-width boundary); such rows are rejected
    without further checks; ``ragged`` keeps their cells exactly as read (``rows``
    holds them padded or cut to the header's width). ``raws`` keeps fixed-width
    records' original bytes.
    """

    lines: list[int] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    issues: dict[int, FieldIssue] = field(default_factory=dict)
    ragged: dict[int, list[str]] = field(default_factory=dict)
    raws: list[bytes] | None = None

    def __len__(self) -> int:
        return len(self.lines)


class Reader(Protocol):
    """An opened input file of one format."""

    path: Path
    format: str
    encoding: str | None
    header: list[str]

    def chunks(self, rows_max: int) -> Iterator[Chunk]: ...
