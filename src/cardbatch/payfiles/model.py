"""Immutable records of batch payment files, their rows, row results and file errors.

A :class:`BatchFile` is what every format parser returns: the control totals the file declares
and its rows, each :class:`BatchRow` carrying its line number so that any later message can
point at it. A :class:`RowResult` is the outcome of one row (成功 or a :mod:`reasons` entry).
Whole-file problems are :class:`FileProblem` values; :class:`FileError` carries them when a file
is refused. The limits every parser enforces are stated here.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, NamedTuple

from cardbatch.payfiles.reasons import SUCCESS, Reason

Kind = Literal["payroll", "collection"]
Format = Literal["pipe", "csv", "xlsx", "pain.001", "pain.008"]
RowStatus = Literal["success", "failed"]

KINDS: tuple[Kind, ...] = ("payroll", "collection")
FORMATS: tuple[Format, ...] = ("pipe", "csv", "xlsx", "pain.001", "pain.008")

# Limits (TigerBeetle style: everything has a stated maximum).
FILE_BYTES_MAX = 512 * 1024 * 1024  # largest input file read, any format
XLSX_UNZIPPED_BYTES_MAX = 1024 * 1024 * 1024  # guard against zip bombs in XLSX
ROWS_MAX = 2_000_000  # detail rows in one file
FIELD_CHARS_MAX = 256  # any one text field (name, account, memo, ids)
ERRORS_MAX = 100  # problems collected before a parser stops looking


class BatchRow(NamedTuple):
    """One detail row of a batch file.

    ``line_no`` is the 1-based line (or spreadsheet row) in the source file; ``seq`` the row's
    own sequence number (pipe 序号, tabular 序号, ISO InstrId), ``amount_fen`` the amount in
    integer fen. ``end_to_end_id`` and ``group_id`` (PmtInfId) come from ISO 20022 files;
    ``mandate_id`` and ``mandate_signed_on`` from collections. ``unit_no`` is the pipe
    format's per-row unit number and ``fields`` the raw pipe fields, echoed in return files.
    """

    line_no: int
    seq: str
    name: str
    account: str
    amount_fen: int
    memo: str = ""
    end_to_end_id: str = ""
    mandate_id: str = ""
    mandate_signed_on: date | None = None
    group_id: str = ""
    unit_no: str = ""
    fields: tuple[str, ...] = ()


class BatchFile(NamedTuple):
    """A parsed batch payment file.

    ``declared_count`` and ``declared_total_fen`` are the control totals (summary line,
    tabular control line or separate declaration, ISO GrpHdr NbOfTxs/CtrlSum); they are
    compared with the rows by :mod:`checks`, never trusted. ``party_account`` and
    ``party_name`` are the employer (payroll debtor) or biller (collection creditor) as the
    file names them (ISO 20022); ``unit_no`` is the pipe format's unit number.
    ``encoding`` and ``newline`` are those of the input, reused for its return files.
    """

    kind: Kind
    format: Format
    encoding: str
    source_name: str
    content_sha256: str
    batch_date: date | None
    unit_no: str | None
    message_id: str | None
    declared_count: int | None
    declared_total_fen: int | None
    rows: tuple[BatchRow, ...]
    party_account: str | None = None
    party_name: str | None = None
    currency: str = "CNY"
    created_at: str | None = None
    newline: str = "\n"
    header_lang: Literal["zh", "en"] | None = None
    summary_fields: tuple[str, ...] = ()

    @property
    def total_fen(self) -> int:
        """Sum of the rows' amounts, as computed (not as declared)."""
        return sum(row.amount_fen for row in self.rows)


class RowResult(NamedTuple):
    """The outcome of one row: ``success`` or ``failed`` with the reason and its ISO code."""

    row: BatchRow
    status: RowStatus
    reason_cn: str
    iso_code: str

    @property
    def ok(self) -> bool:
        return self.status == "success"


def row_success(row: BatchRow) -> RowResult:
    """A successful outcome for ``row``."""
    return RowResult(row, "success", SUCCESS.reason_cn, SUCCESS.iso_code)


def row_failure(row: BatchRow, reason: Reason) -> RowResult:
    """A failed outcome for ``row`` with ``reason`` (never :data:`reasons.SUCCESS`)."""
    assert reason is not SUCCESS, "a failure needs a failure reason"
    return RowResult(row, "failed", reason.reason_cn, reason.iso_code)


class FileProblem(NamedTuple):
    """A whole-file problem: where it is, which field, the (masked) value and why.

    ``code`` is a stable key (``count_mismatch``, ``xsd_invalid``, ...); ``iso_code`` the
    ISO 20022 group status reason written into a pain.002 rejection (FF01, AM18, AM10, DT01...).
    """

    file: str
    line: int | None
    field: str
    value: str
    reason: str
    code: str
    iso_code: str = "FF01"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        value = f" {self.value!r}" if self.value else ""
        return f"{where}: {self.field}{value}: {self.reason}"


class FileError(ValueError):
    """A file refused as a whole; ``problems`` lists every problem found (at least one)."""

    def __init__(self, problems: list[FileProblem] | tuple[FileProblem, ...]) -> None:
        assert problems, "a FileError needs at least one problem"
        self.problems: tuple[FileProblem, ...] = tuple(problems)
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first}{more}")

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def value(self) -> str:
        return self.problems[0].value

    @property
    def reason(self) -> str:
        return self.problems[0].reason

    @property
    def code(self) -> str:
        return self.problems[0].code


def file_error(
    file: str,
    line: int | None,
    field: str,
    value: str,
    reason: str,
    code: str,
    iso_code: str = "FF01",
) -> FileError:
    """A :class:`FileError` with a single problem (``value`` must already be masked)."""
    return FileError([FileProblem(file, line, field, value, reason, code, iso_code)])
