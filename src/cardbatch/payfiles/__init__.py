"""Batch payment files (代发工资 payroll, 批量扣费/代扣 collections): formats, pure checks and
return files (回盘).

Public API: :func:`parse_batch_file` (any format to a :class:`BatchFile`, or
:class:`FileError`), :mod:`checks` (whole-file and per-row pure rules), :func:`write_returns`
(success/failure files or a pain.002). See ``docs/payfiles.md``.
"""

from cardbatch.payfiles.checks import (
    CheckContext,
    check_file,
    names_match,
    normalize_name,
    pre_check_rows,
    require_valid_file,
)
from cardbatch.payfiles.files import detect_format, parse_batch_file
from cardbatch.payfiles.model import (
    FILE_BYTES_MAX,
    ROWS_MAX,
    BatchFile,
    BatchRow,
    FileError,
    FileProblem,
    RowResult,
    row_failure,
    row_success,
)
from cardbatch.payfiles.returns import ReturnSummary, render_returns, summarize, write_returns

__all__ = [
    "FILE_BYTES_MAX",
    "ROWS_MAX",
    "BatchFile",
    "BatchRow",
    "CheckContext",
    "FileError",
    "FileProblem",
    "ReturnSummary",
    "RowResult",
    "check_file",
    "detect_format",
    "names_match",
    "normalize_name",
    "parse_batch_file",
    "pre_check_rows",
    "render_returns",
    "require_valid_file",
    "row_failure",
    "row_success",
    "summarize",
    "write_returns",
]
