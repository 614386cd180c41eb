"""The rejects file: the rejected rows in the input's own format, plus reason columns.

It is written next to the input as ``<name>.rejects<suffix>`` (same format,
same encoding), one row per rejected row with its cells exactly as read and
four columns ``reject_line``, ``reject_field``, ``reject_reason`` and
``reject_message`` (masked). Importing it again ignores those columns, so an
operator fixes the cells and imports the file as is.

Text cells that a spreadsheet would run as a formula (leading ``=``, ``+``,
``-``, ``@``, tab or carriage return, unless the cell is a plain number) are
written with a leading apostrophe; the importer removes that apostrophe again.

Rows are written to a temporary file that replaces the final one only when the
import commits, so a failed import leaves no rejects file behind.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from cardbatch.ingest.columns import REJECT_COLUMNS, REJECT_PREFIX, ColumnSet, header_token
from cardbatch.ingest.errors import RowReject
from cardbatch.ingest.formats.base import Reader
from cardbatch.ingest.formats.delimited import DelimitedReader
from cardbatch.textsafe import neutralise

REJECTS_MARK = ".rejects"


def rejects_path(path: Path) -> Path:
    """``customers.csv`` -> ``customers.rejects.csv``."""
    return path.with_name(f"{path.stem}{REJECTS_MARK}{path.suffix}")


def _reason_cells(reject: RowReject, delimiter: str | None = None) -> list[str]:
    cells = [str(reject.line), reject.fields, reject.codes, reject.message]
    if delimiter is not None:
        cells = [" ".join(cell.replace(delimiter, " ").split()) for cell in cells]
    return cells


def _whole_chars(raw: bytes, width: int, codec: str) -> bytes:
    """At most ``width`` bytes of ``raw`` without a character cut at the end."""
    for end in range(min(width, len(raw)), max(0, width - 4), -1):
        try:
            raw[:end].decode(codec)
        except UnicodeDecodeError:
            continue
        return raw[:end]
    return raw[:width]


class RejectsWriter:
    """Collects rejected rows of one import into a temporary file; ``commit`` publishes it."""

    def __init__(self, reader: Reader, columns: ColumnSet) -> None:
        self.reader = reader
        self.columns = columns
        self.final_path = rejects_path(reader.path)
        self.temp_path = self.final_path.with_name(f".{self.final_path.name}.part")
        self.rows_written = 0
        self._keep = [
            index
            for index, cell in enumerate(reader.header)
            if not header_token(cell).startswith(REJECT_PREFIX)
        ]
        self._text: TextIO | None = None
        self._binary: BinaryIO | None = None
        self._book: Any = None
        self._sheet: Any = None
        self._csv: Any = None

    def write(
        self, row: list[str], reject: RowReject, raw: bytes | None = None, ragged: bool = False
    ) -> None:
        """Add one rejected row: its cells as read (or, fixed-width, its bytes).

        A ``ragged`` row (more or fewer cells than the header) is written with all
        its cells as read, so the reason columns do not line up and the row stays
        rejected until someone fixes it; nothing is silently dropped or padded.
        """
        fmt = self.reader.format
        if fmt == "fixed":
            self._write_fixed(raw if raw is not None else b"", reject)
        elif fmt == "xlsx":
            self._write_xlsx(row, reject)
        else:
            self._write_delimited(row, reject, ragged)
        self.rows_written += 1

    def _cells(self, row: list[str]) -> list[str]:
        return [neutralise(row[index]) if index < len(row) else "" for index in self._keep]

    def _header(self) -> list[str]:
        return [self.reader.header[index] for index in self._keep] + list(REJECT_COLUMNS)

    def _write_delimited(self, row: list[str], reject: RowReject, ragged: bool) -> None:
        assert isinstance(self.reader, DelimitedReader)
        trailing = [""] if self.reader.trailing_delimiter else []
        delimiter = self.reader.delimiter
        if self._text is None:
            encoding = self.reader.encoding or "utf-8"
            self._text = self.temp_path.open("w", encoding=encoding, newline="")
            if self.reader.format == "csv":
                self._csv = csv.writer(self._text, lineterminator="\n")
            self._emit(self._header() + trailing, delimiter)
        plain = None if self.reader.format == "csv" else delimiter
        reasons = [neutralise(cell) for cell in _reason_cells(reject, plain)]
        cells = [neutralise(cell) for cell in row] if ragged else self._cells(row)
        self._emit(cells + reasons + trailing, delimiter)

    def _emit(self, cells: list[str], delimiter: str) -> None:
        assert self._text is not None
        if self._csv is not None:
            self._csv.writerow(cells)
        else:
            self._text.write(delimiter.join(cells) + "\n")

    def _write_xlsx(self, row: list[str], reject: RowReject) -> None:
        if self._book is None:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet("rejects")
            self._sheet.append(self._header())
        reasons = [neutralise(cell) for cell in _reason_cells(reject)]
        self._sheet.append(self._cells(row) + reasons)

    def _write_fixed(self, raw: bytes, reject: RowReject) -> None:
        codec = self.reader.encoding or "utf-8"
        codec = "utf-8" if codec == "utf-8-sig" else codec
        width = self.columns.record_width
        record = _whole_chars(raw, width, codec).ljust(width)
        reasons = "|" + "|".join(_reason_cells(reject, "|"))
        if self._binary is None:
            self._binary = self.temp_path.open("wb")
        self._binary.write(record + reasons.encode(codec, errors="replace") + b"\n")

    def commit(self) -> Path | None:
        """Close and publish the rejects file; ``None`` when no row was rejected."""
        self._close()
        if self.rows_written == 0:
            return None
        if self._book is not None:
            self._book.save(self.temp_path)
            self._book = None
        os.replace(self.temp_path, self.final_path)
        return self.final_path

    def abort(self) -> None:
        """Drop the temporary file; nothing is published."""
        self._close()
        self.temp_path.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._text is not None:
            self._text.close()
            self._text = None
        if self._binary is not None:
            self._binary.close()
            self._binary = None
