"""CSV and XLSX batch files with Chinese or English headers: parse, validate, render.

Layout (CSV shown; XLSX is the same grid on its first sheet)::

    账号,户名,金额,用途                 or   account,name,amount,memo
    1000123800020,客户01,300.00,工资
    1000124600023,客户02,300.00,工资
    合计,2,600.00,20090906              or   TOTAL,2,600.00,2009-09-06

Columns are found by header, in any order; 账号/account, 户名/name and 金额/amount are
required, 用途/memo, 序号/seq and 授权号/mandate_id optional; unknown headers are refused.
The control line (first cell 合计/总计/TOTAL: count, total and an optional batch date) is the
first or the last line; without one, the count and total must be declared separately.
CSV text is UTF-8 (with or without BOM) or GBK, auto-detected.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Literal, NamedTuple

from cardbatch import textsafe
from cardbatch.money import format_fen
from cardbatch.payfiles import textio
from cardbatch.payfiles.model import (
    ERRORS_MAX,
    ROWS_MAX,
    XLSX_UNZIPPED_BYTES_MAX,
    BatchFile,
    BatchRow,
    FileError,
    FileProblem,
    Format,
    Kind,
    RowResult,
    file_error,
)

Lang = Literal["zh", "en"]
_HEADER_FIELDS: dict[str, tuple[str, Lang]] = {
    "账号": ("account", "zh"),
    "账户": ("account", "zh"),
    "卡号": ("account", "zh"),
    "户名": ("name", "zh"),
    "姓名": ("name", "zh"),
    "金额": ("amount", "zh"),
    "用途": ("memo", "zh"),
    "备注": ("memo", "zh"),
    "摘要": ("memo", "zh"),
    "序号": ("seq", "zh"),
    "授权号": ("mandate_id", "zh"),
    "协议号": ("mandate_id", "zh"),
    "account": ("account", "en"),
    "name": ("name", "en"),
    "amount": ("amount", "en"),
    "memo": ("memo", "en"),
    "seq": ("seq", "en"),
    "mandate_id": ("mandate_id", "en"),
}
REQUIRED_FIELDS = ("account", "name", "amount")
CONTROL_MARKS = frozenset({"合计", "总计", "total"})
RETURN_HEADERS: dict[Lang, tuple[str, ...]] = {
    "zh": ("账号", "户名", "金额", "用途", "结果", "原因代码"),
    "en": ("account", "name", "amount", "memo", "result", "reason_code"),
}
INPUT_HEADERS: dict[Lang, tuple[str, ...]] = {
    "zh": ("账号", "户名", "金额", "用途"),
    "en": ("account", "name", "amount", "memo"),
}
CONTROL_MARK: dict[Lang, str] = {"zh": "合计", "en": "TOTAL"}
# Fixed zip and document timestamps make XLSX output byte-for-byte reproducible.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

Grid = list[tuple[int, list[str]]]


class _Control(NamedTuple):
    row_count: int
    total_fen: int
    batch_date: date | None


# ---------------------------------------------------------------- parse


def parse_csv(
    data: bytes,
    *,
    source: str,
    kind: Kind,
    declared_count: int | None = None,
    declared_total_fen: int | None = None,
) -> BatchFile:
    """Parse a CSV batch file; raise :class:`FileError` listing structural problems."""
    grid, encoding, newline = csv_grid(data, source)
    return _from_grid(
        grid, data, source, kind, "csv", encoding, newline, declared_count, declared_total_fen
    )


def csv_grid(data: bytes, source: str) -> tuple[Grid, str, str]:
    """The non-blank CSV records with their line numbers, the encoding and the line end."""
    text, encoding = textio.decode_text(data, source)
    reader = csv.reader(io.StringIO(text, newline=""))
    grid: Grid = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                grid.append((reader.line_num, cells))
            if len(grid) > ROWS_MAX + 2:
                break
    except csv.Error as exc:
        raise file_error(source, reader.line_num, "csv", "", str(exc), "bad_csv") from None
    return grid, encoding, textio.detect_newline(text)


def parse_xlsx(
    data: bytes,
    *,
    source: str,
    kind: Kind,
    declared_count: int | None = None,
    declared_total_fen: int | None = None,
) -> BatchFile:
    """Parse the first sheet of an XLSX batch file (cached values only, formulas never run)."""
    grid = xlsx_grid(data, source)
    return _from_grid(
        grid, data, source, kind, "xlsx", "utf-8", "\n", declared_count, declared_total_fen
    )


def xlsx_grid(data: bytes, source: str) -> Grid:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped_bytes = sum(info.file_size for info in archive.infolist())
        if unzipped_bytes > XLSX_UNZIPPED_BYTES_MAX:
            raise file_error(
                source,
                None,
                "size",
                str(unzipped_bytes),
                "XLSX expands beyond the limit",
                "too_large",
            )
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        if isinstance(exc, FileError):
            raise
        raise file_error(
            source, None, "xlsx", "", f"not a readable XLSX: {exc}", "bad_xlsx"
        ) from None
    try:
        grid: Grid = []
        for row_no, values in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
            cells = [_cell_text(value) for value in values]
            if any(cell.strip() for cell in cells):
                grid.append((row_no, cells))
            if len(grid) > ROWS_MAX + 2:
                break
        return grid
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A spreadsheet cell as text; integral floats lose their ``.0`` (account numbers)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    return str(value)


def _from_grid(
    grid: Grid,
    data: bytes,
    source: str,
    kind: Kind,
    fmt: Format,
    encoding: str,
    newline: str,
    declared_count: int | None,
    declared_total_fen: int | None,
) -> BatchFile:
    if not grid:
        raise file_error(source, None, "file", "", "file is empty", "empty")
    if len(grid) > ROWS_MAX + 2:
        raise file_error(source, None, "rows", "", f"more than {ROWS_MAX} rows", "too_many_rows")
    problems: list[FileProblem] = []
    control = None
    if _is_control(grid[-1][1]):
        control = _parse_control(*grid.pop(), source, problems)
    elif _is_control(grid[0][1]):
        control = _parse_control(*grid.pop(0), source, problems)
    if not grid:
        raise file_error(source, None, "header", "", "no header line", "bad_header")
    header_no, header = grid[0]
    columns, lang = _columns(header_no, header, source)
    for line_no, cells in grid[1:]:
        if _is_control(cells):
            reason = "a control line must be the first or the last line"
            problems.append(
                textio.problem(source, line_no, "control", cells[0], reason, "bad_control")
            )
    rows = tuple(_row(line_no, cells, columns, source, problems) for line_no, cells in grid[1:])
    count = textio.merge_declared(
        control.row_count if control else None, declared_count, "count", source, problems
    )
    total = textio.merge_declared(
        control.total_fen if control else None, declared_total_fen, "total", source, problems
    )
    if count is None or total is None:
        problems.append(
            textio.problem(
                source,
                None,
                "control",
                "",
                "no 合计/TOTAL control line and no declared count and total",
                "no_control",
                "AM18",
            )
        )
    if problems:
        raise FileError(problems[:ERRORS_MAX])
    batch_date = control.batch_date if control else None
    return BatchFile(
        kind=kind,
        format=fmt,
        encoding=encoding,
        source_name=source,
        content_sha256=textio.sha256_hex(data),
        batch_date=batch_date,
        unit_no=None,
        message_id=None,
        declared_count=count,
        declared_total_fen=total,
        rows=rows,
        newline=newline,
        header_lang=lang,
    )


def _is_control(cells: Sequence[str]) -> bool:
    return bool(cells) and cells[0].strip().casefold() in CONTROL_MARKS


def _parse_control(
    line_no: int, cells: list[str], source: str, problems: list[FileProblem]
) -> _Control:
    padded = [*cells, "", "", ""]
    count = textio.parse_count(padded[1], source, line_no, problems)
    total_fen = textio.parse_amount(padded[2], source, line_no, problems, "total")
    date_text = padded[3].strip()
    batch_date = (
        textio.parse_compact_date(date_text, source, line_no, problems) if date_text else None
    )
    return _Control(count, total_fen, batch_date)


def _columns(line_no: int, header: list[str], source: str) -> tuple[dict[str, int], Lang]:
    columns: dict[str, int] = {}
    langs: list[Lang] = []
    for index, cell in enumerate(header):
        text = cell.strip().lstrip("\ufeff").casefold()
        if not text:
            continue
        if text not in _HEADER_FIELDS:
            raise file_error(source, line_no, "header", cell, "unknown column", "bad_header")
        field, lang = _HEADER_FIELDS[text]
        if field in columns:
            raise file_error(source, line_no, "header", cell, "column given twice", "bad_header")
        columns[field] = index
        langs.append(lang)
    missing = [field for field in REQUIRED_FIELDS if field not in columns]
    if missing:
        raise file_error(
            source,
            line_no,
            "header",
            ",".join(header)[:40],
            f"missing column(s): {', '.join(missing)}",
            "bad_header",
        )
    return columns, ("zh" if "zh" in langs else "en")


def _row(
    line_no: int,
    cells: list[str],
    columns: dict[str, int],
    source: str,
    problems: list[FileProblem],
) -> BatchRow:
    def cell(field: str) -> str:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else ""

    return BatchRow(
        line_no=line_no,
        seq=textio.check_text(cell("seq"), "seq", source, line_no, problems, required=False),
        name=textio.check_text(cell("name"), "name", source, line_no, problems),
        account=textio.check_text(cell("account"), "account", source, line_no, problems),
        amount_fen=textio.parse_amount(cell("amount"), source, line_no, problems),
        memo=textio.check_text(cell("memo"), "memo", source, line_no, problems, required=False),
        mandate_id=textio.check_text(
            cell("mandate_id"), "mandate_id", source, line_no, problems, required=False
        ),
    )


def validate(batch: BatchFile) -> list[FileProblem]:
    """Format rules beyond parsing: none for tabular files (kept for a uniform interface)."""
    del batch
    return []


# ---------------------------------------------------------------- render


def neutralise(text: str) -> str:
    """Text that a spreadsheet will not run as a formula; a payment file's text cells
    (accounts, names, memos) stay text, so a plain number gets the ``'`` too."""
    return textsafe.neutralise(text, plain_numbers=False)


def input_grid(batch: BatchFile) -> list[list[str]]:
    """The grid of an input file for ``batch`` (header, rows, control line)."""
    lang: Lang = batch.header_lang or "zh"
    grid = [list(INPUT_HEADERS[lang])]
    for row in batch.rows:
        amount = format_fen(row.amount_fen, grouping=False)
        grid.append([neutralise(row.account), neutralise(row.name), amount, neutralise(row.memo)])
    count = batch.declared_count if batch.declared_count is not None else len(batch.rows)
    total_fen = batch.declared_total_fen
    total = format_fen(total_fen if total_fen is not None else batch.total_fen, grouping=False)
    date_text = batch.batch_date.strftime("%Y%m%d") if batch.batch_date else ""
    grid.append([CONTROL_MARK[lang], str(count), total, date_text])
    return grid


def return_grid(lang: Lang, results: Iterable[RowResult]) -> list[list[str]]:
    """The grid of a return file: header, one line per result, control line with the sums."""
    grid = [list(RETURN_HEADERS[lang])]
    count = total_fen = 0
    for result in results:
        row = result.row
        grid.append(
            [
                neutralise(row.account),
                neutralise(row.name),
                format_fen(row.amount_fen, grouping=False),
                neutralise(row.memo),
                result.reason_cn,
                result.iso_code,
            ]
        )
        count += 1
        total_fen += row.amount_fen
    grid.append([CONTROL_MARK[lang], str(count), format_fen(total_fen, grouping=False)])
    return grid


def render_csv(grid: Sequence[Sequence[str]], encoding: str, newline: str) -> bytes:
    """CSV bytes of ``grid`` in ``encoding`` (``utf-8-sig`` writes a BOM)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerows(grid)
    return buffer.getvalue().encode(encoding)


def render_xlsx(grid: Sequence[Sequence[str]], stamp: datetime) -> bytes:
    """XLSX bytes of ``grid`` as text cells; ``stamp`` is written as the document's dates."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for cells in grid:
        sheet.append(list(cells))
    for row in sheet.iter_rows():
        for cell in row:
            cell.data_type = "s"  # never a formula, even for text beginning with "="
    buffer = io.BytesIO()
    book.save(buffer)
    return reproducible_xlsx(buffer.getvalue(), stamp)


_W3CDTF = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def reproducible_xlsx(data: bytes, stamp: datetime) -> bytes:
    """Rewrite an XLSX with fixed entry times and ``stamp`` as created/modified dates."""
    stamp_text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _W3CDTF.sub(rb"\g<1>" + stamp_text + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()
