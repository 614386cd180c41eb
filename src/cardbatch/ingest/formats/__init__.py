"""Input formats: CSV, TSV, pipe, xlsx and fixed-width, with format and encoding detection.

:func:`open_reader` checks the whole-file conditions (exists, size limit, not
empty, decodable, header recognised) before any row is read, so an import
that fails on them writes nothing.

``auto`` format: ``.xlsx`` content (a zip) is a workbook; otherwise the first
line is split by tab, ``|`` and ``,`` and the delimiter whose cells name the
most known columns wins; a first line that names none is read as fixed-width
when the file name ends in ``.dat``, ``.fixed``, ``.fw`` or ``.txt``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cardbatch.ingest.columns import ColumnSet, HeaderMap, known_header_count, map_header
from cardbatch.ingest.errors import WholeFileError
from cardbatch.ingest.formats.base import DELIMITERS, FORMATS, Chunk, Reader
from cardbatch.ingest.formats.delimited import DelimitedReader
from cardbatch.ingest.formats.encoding import ENCODINGS, inspect_text
from cardbatch.ingest.formats.fixed import FixedReader
from cardbatch.ingest.formats.xlsx import XLSX_MAGIC, XlsxReader
from cardbatch.ingest.settings import IngestSettings

FIXED_SUFFIXES = (".dat", ".fixed", ".fw", ".txt")
SNIFF_CHARS_MAX = 64 * 1024

__all__ = ["ENCODINGS", "FORMATS", "Chunk", "Reader", "open_reader"]


def open_reader(
    path: Path,
    columns: ColumnSet,
    fmt: str = "auto",
    encoding: str = "auto",
    settings: IngestSettings | None = None,
) -> tuple[Reader, HeaderMap]:
    """An opened reader for ``path`` and where the known columns sit in it."""
    settings = settings or IngestSettings()
    if fmt not in FORMATS:
        raise WholeFileError("format", f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    _check_file(path, settings)
    with path.open("rb") as handle:
        magic = handle.read(len(XLSX_MAGIC))
    if fmt == "xlsx" or (fmt == "auto" and magic == XLSX_MAGIC):
        xlsx = XlsxReader(path)
        return xlsx, map_header(columns, xlsx.header, path.name)
    facts = inspect_text(path, encoding)
    codec = facts.codec
    if fmt == "auto":
        fmt = _sniff_format(path, codec, columns)
    if fmt == "fixed":
        fixed = FixedReader(path, columns, codec)
        positions = {name: index for index, name in enumerate(fixed.header)}
        return fixed, HeaderMap(positions, ())
    reader = DelimitedReader(path, fmt, DELIMITERS[fmt], facts)
    return reader, map_header(columns, reader.header, path.name)


def _check_file(path: Path, settings: IngestSettings) -> None:
    if not path.is_file():
        raise WholeFileError("not_found", f"{path}: no such file")
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise WholeFileError("empty", f"{path.name}: the file is empty")
    if size_bytes > settings.file_bytes_max:
        raise WholeFileError(
            "too_large",
            f"{path.name}: {size_bytes} bytes is over the limit of {settings.file_bytes_max} "
            "bytes (setting file_bytes_max, CARDBATCH_IMPORT_FILE_BYTES_MAX)",
        )


def _sniff_format(path: Path, codec: str, columns: ColumnSet) -> str:
    with path.open("r", encoding=codec, newline="") as handle:
        first = ""
        while not first.strip():
            first = handle.readline(SNIFF_CHARS_MAX)
            if not first:
                raise WholeFileError("empty", f"{path.name}: the file has only blank lines")
    best_fmt, best_count = "", 0
    for fmt, delimiter in (("tsv", "\t"), ("pipe", "|"), ("csv", ",")):
        cells = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
        count = known_header_count(columns, cells)
        if count > best_count:
            best_fmt, best_count = fmt, count
    if best_fmt:
        return best_fmt
    if path.suffix.lower() in FIXED_SUFFIXES:
        return "fixed"
    raise WholeFileError(
        "no_header",
        f"{path.name}: the first line names no {columns.kind} column; "
        "give a header row, or --format fixed for a fixed-width file",
    )
