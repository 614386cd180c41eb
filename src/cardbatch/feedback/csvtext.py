"""Reading the small CSV histories the reports take (pure: text in, rows or a clear error out)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from typing import TypeVar

from cardbatch.feedback.model import FeedbackError
from cardbatch.money import MoneyError, parse_yuan

ROWS_MAX = 1_000_000
T = TypeVar("T")


def read_rows(
    text: str, source: str, header: tuple[str, ...], build: Callable[[dict[str, str]], T]
) -> list[T]:
    """Parse ``text`` with exactly ``header``; any bad value names the file, line and field."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    got = next(reader, None)
    if got is None or tuple(h.strip() for h in got) != header:
        raise FeedbackError(f"{source}, line 1: header must be {','.join(header)}, got {got}")
    rows: list[T] = []
    for line_no, cells in _numbered(reader):
        if len(rows) >= ROWS_MAX:
            raise FeedbackError(f"{source}: more than {ROWS_MAX} rows")
        if len(cells) != len(header):
            raise FeedbackError(
                f"{source}, line {line_no}: {len(cells)} fields, need {len(header)}"
            )
        fields = dict(zip(header, (c.strip() for c in cells), strict=True))
        try:
            rows.append(build(fields))
        except _FieldError as exc:
            raise FeedbackError(
                f"{source}, line {line_no}, field {exc.field}: {exc.message} ({exc.value!r})"
            ) from None
    return rows


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    for line_no, cells in enumerate(reader, start=2):
        if any(c.strip() for c in cells):
            yield line_no, cells


class _FieldError(ValueError):
    def __init__(self, field: str, value: str, message: str) -> None:
        super().__init__(message)
        self.field, self.value, self.message = field, value, message


def field_date(fields: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(fields[name])
    except ValueError:
        raise _FieldError(name, fields[name], "not a date YYYY-MM-DD") from None


def field_yuan(fields: dict[str, str], name: str) -> int:
    try:
        return parse_yuan(fields[name])
    except MoneyError:
        raise _FieldError(name, fields[name], "not an amount in yuan") from None


def field_int(fields: dict[str, str], name: str, low: int, high: int) -> int:
    value = fields[name]
    if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
        raise _FieldError(name, value, f"not a whole number in {low}..{high}")
    return int(value)


def field_choice(fields: dict[str, str], name: str, choices: frozenset[str]) -> str:
    value = fields[name]
    if value not in choices:
        raise _FieldError(name, value, f"must be one of {', '.join(sorted(choices))}")
    return value


def field_text(fields: dict[str, str], name: str) -> str:
    value = fields[name]
    if not value:
        raise _FieldError(name, value, "must not be empty")
    return value
