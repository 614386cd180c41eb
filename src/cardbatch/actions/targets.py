"""The target accounts of a batch action: a named segment, an expression, a list or a file.

:func:`targets_from_segment` screens a stored segment on the business date;
:func:`targets_from` and :func:`account_ids_from` accept any screening result (a
Polars DataFrame with ``account_id``), records with an ``account_id``, or plain
strings, so a job can hand its screened accounts over directly. Polars and the
segment modules are imported only when a segment is screened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from cardbatch.money import MoneyError, parse_yuan

TARGETS_MAX = 1_000_000


class TargetsError(ValueError):
    """The target list cannot be used as a whole (file error, too many, no account_id column)."""


@dataclass(frozen=True)
class Target:
    """One account and what the caller already knows about it (None: look it up)."""

    account_id: str
    dpd: int | None = None
    due_date: date | None = None
    amount_due_fen: int | None = None
    minimum_due_fen: int | None = None


def account_ids_from(source: Any) -> list[str]:
    """Account ids, in order and without repeats, from a DataFrame, records or strings."""
    if hasattr(source, "get_column") and hasattr(source, "columns"):
        if "account_id" not in source.columns:
            raise TargetsError("the segment result has no account_id column")
        values: Iterable[Any] = source.get_column("account_id").to_list()
    else:
        values = source
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str):
            account_id = value
        elif isinstance(value, Mapping):
            account_id = str(value["account_id"])
        else:
            account_id = str(value.account_id)
        seen.setdefault(account_id.strip(), None)
        if len(seen) > TARGETS_MAX:
            raise TargetsError(f"more than {TARGETS_MAX} target accounts")
    return [a for a in seen if a]


def targets_from(source: Any) -> list[Target]:
    """Targets from a segment's result or a list; extra known columns are kept."""
    if hasattr(source, "to_dicts"):
        return [_target(row, f"row {i + 1}") for i, row in enumerate(source.to_dicts())]
    return [Target(a) for a in account_ids_from(source)]


def read_targets_file(path: Path) -> list[Target]:
    """A CSV with an ``account_id`` (账号) column and optional ``dpd``, ``due_date``,
    ``amount_due``, ``minimum_due`` columns; or plain lines of account ids."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetsError(f"{path}: cannot read the account list ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise TargetsError(f"{path}: the account list is empty")
    first = [c.strip() for c in lines[0].split(",")]
    if "account_id" not in first and "账号" not in first:
        return [Target(a) for a in account_ids_from(line.strip() for line in lines)]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    rows = [{("account_id" if k == "账号" else k): v for k, v in r.items()} for r in reader]
    if len(rows) > TARGETS_MAX:
        raise TargetsError(f"{path}: more than {TARGETS_MAX} target accounts")
    return [_target(r, f"{path}: line {i + 2}") for i, r in enumerate(rows)]


def _target(row: Mapping[str, Any], where: str) -> Target:
    try:
        dpd = _opt(row.get("dpd"), int)
        due = _opt(row.get("due_date"), date.fromisoformat)
        amount = _opt(row.get("amount_due"), parse_yuan)
        minimum = _opt(row.get("minimum_due"), parse_yuan)
        if row.get("amount_due_fen") is not None:
            amount = int(row["amount_due_fen"])
        if row.get("minimum_due_fen") is not None:
            minimum = int(row["minimum_due_fen"])
    except (ValueError, MoneyError) as exc:
        raise TargetsError(f"{where}: {exc}") from None
    return Target(str(row["account_id"]).strip(), dpd, due, amount, minimum)


def _opt(value: Any, convert: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return convert(value.strip())
    return value


def targets_from_segment(conn: Connection, name: str, business_date: date) -> list[Target]:
    """The accounts a named segment selects on the business date, with their ``dpd``."""
    from cardbatch.segments.service import get_segment, screen

    screening = screen(conn, get_segment(conn, name), business_date)
    if screening.count > TARGETS_MAX:
        raise TargetsError(f"segment {name} selects more than {TARGETS_MAX} accounts")
    return targets_from(screening.accounts.select("account_id", "dpd"))


def targets_from_expression(
    conn: Connection, expression: str, business_date: date, actor: str
) -> list[Target]:
    """The accounts a screening expression selects, without storing a segment."""
    from cardbatch.segments.service import Segment, screen
    from cardbatch.services.actor import utc_now

    adhoc = Segment("(ad hoc)", 0, expression, (), "", actor, utc_now())
    screening = screen(conn, adhoc, business_date)
    if screening.count > TARGETS_MAX:
        raise TargetsError(f"the expression selects more than {TARGETS_MAX} accounts")
    return targets_from(screening.accounts.select("account_id", "dpd"))
