"""What every reader gives: a header and chunks of raw rows with their line numbers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

from cardbatch.ingest.errors import FieldIssue

FORMATS = ("auto", "csv", "tsv", "pipe", "xlsx", "fixed")
DELIMITERS = {"csv": ",", "tsv": "\t", "pipe": "|"}
# A cell holding only these characters is blank; a row of blank cells is skipped.
BLANK_CHARS = " \t\r\n\x0b\x0c"


@dataclass
class Chunk:
    """Up to ``chunk_rows`` records: line numbers, raw cells and structural problems.

    The record that starts on line ``lines[i]`` has its cells in ``rows[i]``, in
    file column order (fixed-width: layout order), padded or cut to the header's
    width. Delimited files without quoting give ``texts`` (the record's line)
    instead of ``rows``, so cells are split in bulk; :meth:`row` splits one.
    ``issues[i]`` is set when the record could not be split into cells properly
    (wrong number of fields, a character cut by a fixed-width boundary); such rows
    are rejected without further checks, and ``ragged`` keeps their cells exactly
    as read. ``raws`` keeps fixed-width records' original bytes.
    """

    lines: list[int] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    issues: dict[int, FieldIssue] = field(default_factory=dict)
    ragged: dict[int, list[str]] = field(default_factory=dict)
    raws: list[bytes] | None = None
    texts: pl.Series | None = None  # String: one record per line
    cells: pl.Series | None = None  # List(String): ``texts`` split by the delimiter
    delimiter: str = ""
    width: int = 0
    trailing_delimiter: bool = False

    def __len__(self) -> int:
        return len(self.lines) if self.texts is None else self.texts.len()

    def row(self, index: int) -> list[str]:
        """The cells of one record, padded or cut to the header's width."""
        if self.texts is None:
            return self.rows[index]
        text = str(self.texts[index])
        cells = split_cells(text, self.delimiter, self.width, self.trailing_delimiter)
        return (cells + [""] * self.width)[: self.width]

    def cells_as_read(self, index: int) -> list[str]:
        """The cells of one record exactly as read (for the rejects file)."""
        return self.ragged.get(index) or self.row(index)


def split_cells(text: str, delimiter: str, width: int, trailing: bool) -> list[str]:
    """A record's cells; a trailing delimiter (one blank cell past the header) is dropped."""
    cells = text.split(delimiter)
    if trailing and len(cells) == width + 1 and not cells[-1].strip(BLANK_CHARS):
        cells.pop()
    return cells


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip(BLANK_CHARS) for cell in cells)


class Reader(Protocol):
    """An opened input file of one format."""

    path: Path
    format: str
    encoding: str | None
    header: list[str]

    def chunks(self, rows_max: int) -> Iterator[Chunk]: ...
