"""Delimited text: CSV (RFC 4180 quoting), TSV and pipe-separated files, read with ``csv``.

The first non-blank record is the header. Blank records are skipped and not
counted. A trailing delimiter at the end of every line (common in pipe files,
``01|客户01|300.00|``) is recognised from the header and ignored. A record
whose number of cells differs from the header's is rejected with
``field_count``. The line of a record is the line it starts on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from cardbatch.ingest.errors import ROW_FIELD, FieldIssue, WholeFileError
from cardbatch.ingest.formats.base import Chunk


class DelimitedReader:
    """A CSV, TSV or pipe file; ``chunks`` streams it."""

    def __init__(self, path: Path, fmt: str, delimiter: str, encoding: str) -> None:
        self.path = path
        self.format = fmt
        self.delimiter = delimiter
        self.encoding: str | None = encoding
        self.header: list[str] = []
        self.trailing_delimiter = False
        self._read_header()

    def _open(self) -> TextIO:
        return self.path.open("r", encoding=self.encoding, newline="", errors="strict")

    def _reader(self, handle: TextIO) -> Iterator[list[str]]:
        if self.format == "csv":
            return csv.reader(handle, delimiter=self.delimiter, strict=True)
        return csv.reader(handle, delimiter=self.delimiter, quoting=csv.QUOTE_NONE)

    def _read_header(self) -> None:
        with self._open() as handle:
            for _, row in self._records(handle):
                self.header = row
                break
        if not self.header:
            raise WholeFileError("empty", f"{self.path.name}: the file has no header row")
        if len(self.header) > 1 and not self.header[-1].strip():
            self.trailing_delimiter = True
            self.header = self.header[:-1]

    def _records(self, handle: TextIO) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader(handle)
        line_end = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise WholeFileError(
                    "malformed", f"{self.path.name}: line {line_end + 1}: {exc}"
                ) from None
            line_start = line_end + 1
            line_end = reader.line_num  # type: ignore[attr-defined]
            if any(cell.strip() for cell in row):
                yield line_start, row

    def chunks(self, rows_max: int) -> Iterator[Chunk]:
        width = len(self.header)
        with self._open() as handle:
            records = self._records(handle)
            next(records)  # the header
            chunk = Chunk()
            for line, row in records:
                if self.trailing_delimiter and len(row) == width + 1 and not row[-1].strip():
                    row = row[:-1]
                if len(row) != width:
                    chunk.issues[len(chunk)] = FieldIssue(
                        ROW_FIELD, "field_count", f"{len(row)} fields, the header has {width}"
                    )
                    chunk.ragged[len(chunk)] = row
                    row = (row + [""] * width)[:width]
                chunk.lines.append(line)
                chunk.rows.append(row)
                if len(chunk) >= rows_max:
                    yield chunk
                    chunk = Chunk()
            if len(chunk):
                yield chunk
