"""Reading application files: CSV (UTF-8 with or without BOM, or GB18030) and XLSX.

Headers may be English or Chinese and in any order; :data:`HEADERS` maps each
accepted header to its field. Extra columns are ignored (and kept in the rejects
file). Whole-file problems raise :class:`ApplicationFileError`; nothing is
written for such a file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

FILE_BYTES_MAX = 50 * 1024 * 1024
ROWS_MAX = 100_000

FIELDS = ("name", "id_number", "phone", "employer", "monthly_income", "product", "address")

HEADERS: dict[str, str] = {
    "name": "name",
    "applicant_name": "name",
    "姓名": "name",
    "申请人": "name",
    "申请人姓名": "name",
    "客户姓名": "name",
    "id_number": "id_number",
    "resident_id": "id_number",
    "证件号码": "id_number",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "phone": "phone",
    "mobile": "phone",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "employer": "employer",
    "工作单位": "employer",
    "单位名称": "employer",
    "monthly_income": "monthly_income",
    "income": "monthly_income",
    "月收入": "monthly_income",
    "月收入(元)": "monthly_income",
    "product": "product",
    "product_code": "product",
    "申请产品": "product",
    "产品": "product",
    "产品代码": "product",
    "address": "address",
    "地址": "address",
    "通讯地址": "address",
    "联系地址": "address",
}


class ApplicationFileError(ValueError):
    """The whole file is refused (unreadable, empty, too large, a required column missing)."""


@dataclass(frozen=True)
class RawRow:
    """One data row: its line in the file and its cells by field name, as text."""

    line_no: int
    values: dict[str, str]
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RawFile:
    path: Path
    kind: str  # csv | xlsx
    header: tuple[str, ...]
    rows: list[RawRow]
    content_hash: str
    encoding: str = "utf-8"  # as read: utf-8-sig, utf-8 or gb18030 (xlsx: utf-8)


def read_application_file(path: Path, content_hash: str) -> RawFile:
    """Read a CSV or XLSX application file into raw rows (cells still uncleaned)."""
    if not path.is_file():
        raise ApplicationFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size > FILE_BYTES_MAX:
        raise ApplicationFileError(f"{path}: {size} bytes is over the limit of {FILE_BYTES_MAX}")
    if size == 0:
        raise ApplicationFileError(f"{path}: the file is empty")
    if path.suffix.lower() == ".xlsx":
        return _to_raw(path, "xlsx", _xlsx_rows(path), content_hash, "utf-8")
    text, encoding = _decode(path, path.read_bytes())
    return _to_raw(path, "csv", _csv_rows(path, text), content_hash, encoding)


def header_field(text: str) -> str | None:
    key = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "_")
    return HEADERS.get(key)


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in (``utf-8-sig`` when it had a BOM)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise ApplicationFileError(f"{path}: a UTF-8 BOM but not UTF-8 text") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ApplicationFileError(f"{path}: not UTF-8 or GB18030 text")


def _csv_rows(path: Path, text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if len(rows) > ROWS_MAX:
            raise ApplicationFileError(f"{path}: more than {ROWS_MAX} rows")
        rows.append((reader.line_num, cells))
    return rows


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ApplicationFileError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(rows) > ROWS_MAX:
                raise ApplicationFileError(f"{path}: more than {ROWS_MAX} rows")
            rows.append((index, ["" if v is None else _cell_text(v) for v in values]))
        return rows
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet turns 8000 into 8000.0
    return str(value)


def _to_raw(
    path: Path, kind: str, table: list[tuple[int, list[str]]], content_hash: str, encoding: str
) -> RawFile:
    table = [(n, cells) for n, cells in table if any(c.strip() for c in cells)]
    if not table:
        raise ApplicationFileError(f"{path}: the file has no header line")
    _, header = table[0]
    positions: dict[str, int] = {}
    for index, text in enumerate(header):
        field = header_field(text)
        if field is not None and field not in positions:
            positions[field] = index
    missing = [f for f in FIELDS if f not in positions]
    if missing:
        raise ApplicationFileError(f"{path}: required column(s) missing: {', '.join(missing)}")
    if len(table) == 1:
        raise ApplicationFileError(f"{path}: the file has a header but no applications")
    rows = []
    for line_no, cells in table[1:]:
        values = {f: (cells[i] if i < len(cells) else "") for f, i in positions.items()}
        rows.append(RawRow(line_no, values, tuple(cells)))
    return RawFile(path, kind, tuple(header), rows, content_hash, encoding)
