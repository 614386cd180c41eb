"""Delimited text: CSV (RFC 4180 quoting), TSV and pipe-separated files.

The first non-blank record is the header. Blank records are skipped and not
counted. A trailing delimiter at the end of every line (common in pipe files,
``01|客户01|300.00|``) is recognised from the header and ignored. A record
whose number of cells differs from the header's is rejected with
``field_count``. The line of a record is the line it starts on.

Two ways to read, same result: a file that cannot hold quoting (TSV, pipe, or a
CSV without any ``"``) and has no lone carriage return is one record per line,
split in bulk with Polars; other CSV files go through Python's ``csv`` module.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import polars as pl

from cardbatch.ingest.errors import ROW_FIELD, FieldIssue, WholeFileError
from cardbatch.ingest.formats.base import BLANK_CHARS, Chunk, is_blank, split_cells
from cardbatch.ingest.formats.encoding import TextFacts

BLOCK_BYTES = 4 << 20


def field_count_issue(count: int, width: int) -> FieldIssue:
    return FieldIssue(ROW_FIELD, "field_count", f"{count} fields, the header has {width}")


class DelimitedReader:
    """A CSV, TSV or pipe file; ``chunks`` streams it."""

    def __init__(self, path: Path, fmt: str, delimiter: str, facts: TextFacts) -> None:
        self.path = path
        self.format = fmt
        self.delimiter = delimiter
        self.encoding: str | None = facts.codec
        self.header: list[str] = []
        self.header_line = 0
        self.trailing_delimiter = False
        quoting_possible = fmt == "csv" and facts.has_quote
        self.bulk = not quoting_possible and not facts.has_lone_cr
        self._read_header()

    def _open(self) -> TextIO:
        return self.path.open("r", encoding=self.encoding, newline="", errors="strict")

    def _reader(self, handle: TextIO) -> Iterator[list[str]]:
        if self.format == "csv":
            return csv.reader(handle, delimiter=self.delimiter, strict=True)
        return csv.reader(handle, delimiter=self.delimiter, quoting=csv.QUOTE_NONE)

    def _read_header(self) -> None:
        with self._open() as handle:
            for line, row in self._records(handle):
                self.header, self.header_line = row, line
                break
        if not self.header:
            raise WholeFileError("empty", f"{self.path.name}: the file has no header row")
        if len(self.header) > 1 and not self.header[-1].strip(BLANK_CHARS):
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
            if not is_blank(row):
                yield line_start, row

    def chunks(self, rows_max: int) -> Iterator[Chunk]:
        if self.bulk:
            yield from self._bulk_chunks(rows_max)
            return
        width = len(self.header)
        with self._open() as handle:
            records = self._records(handle)
            next(records)  # the header
            chunk = Chunk()
            for line, read in records:
                row = split_trailing(read, width, self.trailing_delimiter)
                if len(row) != width:
                    chunk.issues[len(chunk)] = field_count_issue(len(row), width)
                    chunk.ragged[len(chunk)] = row
                    row = (row + [""] * width)[:width]
                chunk.lines.append(line)
                chunk.rows.append(row)
                if len(chunk) >= rows_max:
                    yield chunk
                    chunk = Chunk()
            if len(chunk):
                yield chunk

    def _bulk_chunks(self, rows_max: int) -> Iterator[Chunk]:
        """One record per line: decode blocks, drop blank lines, cut chunks of ``rows_max``."""
        held = pl.DataFrame(schema={"line": pl.Int64, "text": pl.String})
        for block in self._line_blocks():
            held = pl.concat([held, block])
            while held.height >= rows_max:
                yield self._chunk(held.head(rows_max))
                held = held.slice(rows_max)
        if held.height:
            yield self._chunk(held)

    def _line_blocks(self) -> Iterator[pl.DataFrame]:
        decoder = codecs.getincrementaldecoder(self.encoding or "utf-8")(errors="strict")
        pending = ""
        line_before = 0
        with self.path.open("rb") as handle:
            while True:
                block = handle.read(BLOCK_BYTES)
                text = pending + decoder.decode(block, final=not block)
                if block:
                    cut = text.rfind("\n")
                    pending, text = text[cut + 1 :], text[: max(cut, 0)]
                    if cut < 0:
                        continue
                elif not text:
                    return
                parts = pl.Series("text", [text.replace("\r", "")]).str.split("\n").explode()
                first = line_before + 1
                line_before += len(parts)
                yield self._kept(first, parts)
                if not block:
                    return

    def _kept(self, first: int, parts: pl.Series) -> pl.DataFrame:
        """The non-blank lines after the header, with their line numbers."""
        frame = parts.to_frame().with_row_index("line", offset=first)
        blank = pl.col("text").str.contains(self._blank_pattern)
        kept = frame.filter(~blank & (pl.col("line") > self.header_line))
        return kept.select(pl.col("line").cast(pl.Int64), "text")

    @property
    def _blank_pattern(self) -> str:
        """A line of nothing but delimiters and blank characters."""
        return f"^[{re.escape(self.delimiter + BLANK_CHARS)}]*$"

    def _chunk(self, frame: pl.DataFrame) -> Chunk:
        width = len(self.header)
        texts = frame.get_column("text")
        cells = texts.str.split(self.delimiter)
        chunk = Chunk(lines=frame.get_column("line").to_list(), texts=texts, cells=cells,
                      delimiter=self.delimiter, width=width,
                      trailing_delimiter=self.trailing_delimiter)  # fmt: skip
        counts = cells.list.len()
        good = counts == width
        if self.trailing_delimiter:
            last_blank = cells.list.last().str.strip_chars(BLANK_CHARS) == ""
            good = good | ((counts == width + 1) & last_blank)
        for index in (~good).arg_true().to_list():
            row = split_cells(str(texts[index]), self.delimiter, width, self.trailing_delimiter)
            chunk.issues[index] = field_count_issue(len(row), width)
            chunk.ragged[index] = row
        return chunk


def split_trailing(row: list[str], width: int, trailing: bool) -> list[str]:
    if trailing and len(row) == width + 1 and not row[-1].strip(BLANK_CHARS):
        return row[:-1]
    return row
