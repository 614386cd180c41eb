"""Fixed-width text: no header, the kind's columns in documented order and widths.

Widths count bytes in the file's encoding (a common Chinese character is two
bytes in GB18030 and three in UTF-8), as bank host systems write them. Short
lines are padded with spaces; bytes beyond the record width are ignored (a
rejects file puts its reason columns there). A character cut by a column
boundary rejects the row with ``field_split``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cardbatch.ingest.columns import ColumnSet
from cardbatch.ingest.errors import FieldIssue
from cardbatch.ingest.formats.base import Chunk
from cardbatch.ingest.formats.encoding import UTF8_BOM


class FixedReader:
    """A fixed-width file laid out by a column set."""

    def __init__(self, path: Path, columns: ColumnSet, encoding: str) -> None:
        self.path = path
        self.format = "fixed"
        self.encoding: str | None = encoding
        self.columns = columns
        self.header = list(columns.names)
        self.codec = "utf-8" if encoding == "utf-8-sig" else encoding
        offsets = []
        start = 0
        for column in columns.columns:
            offsets.append((start, start + column.width))
            start += column.width
        self.offsets = offsets

    def split(self, record: bytes) -> tuple[list[str], FieldIssue | None]:
        """The cells of one record, and the first cell cut inside a character, if any."""
        cells = []
        issue = None
        padded = record.ljust(self.columns.record_width)
        for column, (start, end) in zip(self.columns.columns, self.offsets, strict=True):
            try:
                cells.append(padded[start:end].decode(self.codec))
            except UnicodeDecodeError:
                cells.append("")
                if issue is None:
                    issue = FieldIssue(
                        column.name, "field_split", "a character is cut by the column boundary"
                    )
        return cells, issue

    def chunks(self, rows_max: int) -> Iterator[Chunk]:
        with self.path.open("rb") as handle:
            chunk = Chunk(raws=[])
            for line, raw in enumerate(handle, start=1):
                record = raw.rstrip(b"\r\n")
                if line == 1 and record.startswith(UTF8_BOM):
                    record = record[len(UTF8_BOM) :]
                if not record.strip():
                    continue
                cells, issue = self.split(record)
                if issue is not None:
                    chunk.issues[len(chunk)] = issue
                chunk.lines.append(line)
                chunk.rows.append(cells)
                assert chunk.raws is not None
                chunk.raws.append(record)
                if len(chunk) >= rows_max:
                    yield chunk
                    chunk = Chunk(raws=[])
            if len(chunk):
                yield chunk
