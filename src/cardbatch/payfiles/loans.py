"""Loan schedule files (贷款扣款): the instalments to deduct, imported before the nightly
deduction step. CSV (UTF-8 or GBK) or XLSX, Chinese or English headers::

    贷款编号,期数,账号,户名,还款日,金额          loan_id,instalment_no,account,name,due_date,amount
    L2024-0001,1,1000123800020,张三,20240515,1520.33

``loan_id``, ``account``, ``due_date`` and ``amount`` are required; ``instalment_no`` and
``name`` optional. A schedule is all or nothing: any bad row refuses the file with every problem
listed (line, field, masked value). The same loan and due date twice is refused.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NamedTuple

from cardbatch.payfiles import tabular, textio
from cardbatch.payfiles.model import ERRORS_MAX, ROWS_MAX, FileError, FileProblem, file_error

_HEADER_FIELDS: dict[str, str] = {
    "贷款编号": "loan_id",
    "借据号": "loan_id",
    "期数": "instalment_no",
    "期次": "instalment_no",
    "账号": "account",
    "扣款账号": "account",
    "户名": "name",
    "还款日": "due_date",
    "应还日期": "due_date",
    "金额": "amount",
    "应还金额": "amount",
    "loan_id": "loan_id",
    "instalment_no": "instalment_no",
    "account": "account",
    "name": "name",
    "due_date": "due_date",
    "amount": "amount",
}
REQUIRED_FIELDS = ("loan_id", "account", "due_date", "amount")


class LoanInstalment(NamedTuple):
    """One instalment to deduct from ``account`` on ``due_date``."""

    line_no: int
    loan_id: str
    instalment_no: int | None
    account: str
    name: str
    due_date: date
    amount_fen: int


class LoanSchedule(NamedTuple):
    source_name: str
    content_sha256: str
    encoding: str
    instalments: tuple[LoanInstalment, ...]

    @property
    def total_fen(self) -> int:
        return sum(instalment.amount_fen for instalment in self.instalments)


def parse_loan_schedule(path: Path | str) -> LoanSchedule:
    """Read a loan schedule file (CSV or XLSX, detected from its content)."""
    path = Path(path)
    data = textio.read_limited(path)
    if data.startswith(b"PK\x03\x04"):
        grid, encoding = tabular.xlsx_grid(data, path.name), "utf-8"
    else:
        grid, encoding, _ = tabular.csv_grid(data, path.name)
    if len(grid) > ROWS_MAX + 1:
        raise file_error(path.name, None, "rows", "", f"more than {ROWS_MAX} rows", "too_many_rows")
    if not grid:
        raise file_error(path.name, None, "file", "", "file is empty", "empty")
    columns = _columns(*grid[0], path.name)
    problems: list[FileProblem] = []
    instalments = []
    seen: dict[tuple[str, date], int] = {}
    for line_no, cells in grid[1:]:
        instalment = _instalment(line_no, cells, columns, path.name, problems)
        if instalment is not None:
            key = (instalment.loan_id, instalment.due_date)
            first = seen.setdefault(key, line_no)
            if first != line_no:
                reason = f"loan and due date already on line {first}"
                problems.append(
                    textio.problem(
                        path.name,
                        line_no,
                        "loan_id",
                        instalment.loan_id,
                        reason,
                        "duplicate_instalment",
                        "AM05",
                    )
                )
            instalments.append(instalment)
        if len(problems) >= ERRORS_MAX:
            break
    if problems:
        raise FileError(problems)
    return LoanSchedule(path.name, textio.sha256_hex(data), encoding, tuple(instalments))


def _columns(line_no: int, header: list[str], source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        text = cell.strip().lstrip("\ufeff").casefold()
        if not text:
            continue
        field = _HEADER_FIELDS.get(text)
        if field is None or field in columns:
            reason = "unknown column" if field is None else "column given twice"
            raise file_error(source, line_no, "header", cell, reason, "bad_header")
        columns[field] = index
    missing = [field for field in REQUIRED_FIELDS if field not in columns]
    if missing:
        reason = f"missing column(s): {', '.join(missing)}"
        raise file_error(source, line_no, "header", ",".join(header)[:40], reason, "bad_header")
    return columns


def _instalment(
    line_no: int,
    cells: list[str],
    columns: dict[str, int],
    source: str,
    problems: list[FileProblem],
) -> LoanInstalment | None:
    def cell(field: str) -> str:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else ""

    before = len(problems)
    loan_id = textio.check_text(cell("loan_id"), "loan_id", source, line_no, problems)
    account = textio.check_text(cell("account"), "account", source, line_no, problems)
    name = textio.check_text(cell("name"), "name", source, line_no, problems, required=False)
    due_date = textio.parse_compact_date(cell("due_date"), source, line_no, problems, "due_date")
    amount_fen = textio.parse_amount(cell("amount"), source, line_no, problems)
    if amount_fen <= 0 and len(problems) == before:
        problems.append(
            textio.problem(
                source,
                line_no,
                "amount",
                cell("amount"),
                "must be above zero",
                "bad_amount",
                "AM12",
            )
        )
    number_text = cell("instalment_no").strip()
    if number_text and not (number_text.isascii() and number_text.isdigit()):
        problems.append(
            textio.problem(
                source, line_no, "instalment_no", number_text, "not a number", "bad_count"
            )
        )
    if len(problems) > before or due_date is None:
        return None
    number = int(number_text) if number_text else None
    return LoanInstalment(line_no, loan_id, number, account, name, due_date, amount_fen)
