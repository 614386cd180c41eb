"""The rejects file: the refused rows in the input's format, plus reason columns.

Written next to the input as ``<stem>.rejects<suffix>`` in the input's format and
encoding, mode 0600 because it holds the applicant's full data: it is meant to be
fixed and submitted again as is. The reason columns are those of the importers
(``reject_line``, ``reject_field``, ``reject_reason``, ``reject_message``). Text
cells that a spreadsheet would run as a formula get a leading ``'``
(:func:`cardbatch.textsafe.neutralise`), which the reader removes again.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from cardbatch.applications.intake import RowError
from cardbatch.applications.reader import RawFile, RawRow
from cardbatch.textsafe import neutralise

REJECT_COLUMNS = ("reject_line", "reject_field", "reject_reason", "reject_message")


def rejects_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.rejects{source.suffix}")


def write_rejects(raw: RawFile, rejected: list[tuple[RawRow, RowError]]) -> Path | None:
    """Write the rejects file (replacing an older one); None when nothing was rejected."""
    if not rejected:
        return None
    target = rejects_path(raw.path)
    width = len(raw.header)
    header = [*raw.header, *REJECT_COLUMNS]
    rows = [
        [neutralise(c) for c in (list(row.cells) + [""] * width)[:width]]
        + [str(error.line_no), error.field, error.code, neutralise(error.message)]
        for row, error in rejected
    ]
    temp = target.with_name(target.name + ".tmp")
    temp.unlink(missing_ok=True)
    if raw.kind == "xlsx":
        _write_xlsx(temp, header, rows)
    else:
        _write_csv(temp, header, rows, raw.encoding)
    os.replace(temp, target)
    return target


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("rejects")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        book.save(handle)
