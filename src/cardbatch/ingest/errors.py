"""What can go wrong with an input file: whole-file errors and per-row reasons.

Errors in rows are values (a :class:`RowReject` per rejected row, with its
line and one :class:`FieldIssue` per bad field), collected through the whole
import. A :class:`WholeFileError` stops the import before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

# The field name used for issues about the row as a whole (duplicates, field count).
ROW_FIELD = "*"


class WholeFileError(Exception):
    """The file cannot be imported at all: one clear line, nothing is written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldIssue:
    """Why one field of a row was refused (or warned about); the message is masked."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class RowReject:
    """A rejected row: its line in the input file and every issue found in it."""

    line: int
    issues: tuple[FieldIssue, ...]

    @property
    def fields(self) -> str:
        return ";".join(issue.field for issue in self.issues)

    @property
    def codes(self) -> str:
        return ";".join(issue.code for issue in self.issues)

    @property
    def message(self) -> str:
        return "; ".join(
            issue.message if issue.field == ROW_FIELD else f"{issue.field}: {issue.message}"
            for issue in self.issues
        )


@dataclass(frozen=True)
class RowWarning:
    """An accepted row with something the operator should know (e.g. a UnionPay Luhn miss)."""

    line: int
    issue: FieldIssue
