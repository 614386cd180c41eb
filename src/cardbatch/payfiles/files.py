"""The entry point for reading batch payment files: format detection and dispatch.

``parse_batch_file`` reads a file of any supported format (pipe, CSV, XLSX, pain.001,
pain.008), refusing structural problems with one :class:`FileError`; the whole-file business
checks (date, unit, count, sum) are in :mod:`cardbatch.payfiles.checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from cardbatch.payfiles import iso20022, pipe, tabular, textio
from cardbatch.payfiles.model import FORMATS, KINDS, BatchFile, Format, Kind, file_error

FormatChoice = Format | Literal["auto"]
Parser = Callable[..., BatchFile]
PARSERS: dict[Format, Parser] = {
    "pipe": pipe.parse,
    "csv": tabular.parse_csv,
    "xlsx": tabular.parse_xlsx,
    "pain.001": iso20022.parse,
    "pain.008": iso20022.parse,
}
_ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES_MAX = 64 * 1024


def detect_format(data: bytes, source: str) -> Format:
    """The format of ``data`` from its content: zip -> XLSX, XML -> its pain message,
    a pipe summary line -> pipe, anything else -> CSV."""
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if iso20022.looks_like_xml(data):
        return iso20022.message_format(data, source)
    head = data[:_SNIFF_BYTES_MAX]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("gbk", errors="replace")  # sniffing only; parsing decodes strictly
    return "pipe" if pipe.looks_like_pipe(text) else "csv"


def parse_batch_file(
    path: Path | str,
    kind: Kind,
    fmt: FormatChoice = "auto",
    declared_count: int | None = None,
    declared_total_fen: int | None = None,
) -> BatchFile:
    """Read and parse a payroll or collection file.

    ``declared_count`` / ``declared_total_fen`` are the separately declared control totals
    (``--count`` / ``--total``) for files without a control line; when the file has its own
    they must agree. Raises :class:`FileError` for every whole-file structural problem.
    """
    path = Path(path)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected auto or one of {FORMATS}")
    data = textio.read_limited(path)
    chosen: Format = detect_format(data, path.name) if fmt == "auto" else fmt
    if chosen in ("pain.001", "pain.008") and not iso20022.looks_like_xml(data):
        raise file_error(path.name, 1, "xml", "", "not an XML document", "malformed_xml")
    return PARSERS[chosen](
        data,
        source=path.name,
        kind=kind,
        declared_count=declared_count,
        declared_total_fen=declared_total_fen,
    )
