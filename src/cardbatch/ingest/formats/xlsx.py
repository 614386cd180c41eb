"""Excel workbooks (.xlsx), read row by row with openpyxl's read-only mode.

The first worksheet is read; its first non-empty row is the header and the
line of a row is its spreadsheet row number. Numbers become text as typed
(``12.5``, ``1000``), dates ``YYYY-MM-DD``. Cells right of the header are
ignored. Keep ID and card numbers as text cells: a number cell cannot hold
18 digits exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from cardbatch.ingest.errors import WholeFileError
from cardbatch.ingest.formats.base import Chunk

XLSX_MAGIC = b"PK\x03\x04"


def cell_text(value: Any) -> str:
    """A cell value as the text a person typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class XlsxReader:
    """The first sheet of an .xlsx workbook."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = "xlsx"
        self.encoding: str | None = None
        self.header: list[str] = []
        for _, row in self._rows():
            self.header = row
            break
        while self.header and not self.header[-1].strip():
            self.header.pop()
        if not self.header:
            raise WholeFileError("empty", f"{self.path.name}: the workbook has no header row")

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken zip or XML
            raise WholeFileError(
                "malformed", f"{self.path.name}: not a readable xlsx ({exc})"
            ) from None
        try:
            sheet = book.worksheets[0]
            for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                row = [cell_text(value) for value in values]
                if any(cell.strip() for cell in row):
                    yield line, row
        finally:
            book.close()

    def chunks(self, rows_max: int) -> Iterator[Chunk]:
        width = len(self.header)
        rows = self._rows()
        next(rows)
        chunk = Chunk()
        for line, row in rows:
            chunk.lines.append(line)
            chunk.rows.append((row + [""] * width)[:width])
            if len(chunk) >= rows_max:
                yield chunk
                chunk = Chunk()
        if len(chunk):
            yield chunk
