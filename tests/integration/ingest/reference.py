"""The oracle for customer imports: the rules applied one row at a time, in plain Python.

No Polars pass, no bulk insert, no index dropped: every record goes through the
scalar rules (:func:`validate_row`), the in-file duplicate check against the
rows accepted so far (Python dicts), a look-up of the store by customer id and
ID number, and one INSERT or UPDATE. The fast import must give the same
rejects with the same reasons and leave the same customers table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from cardbatch.ingest.columns import CUSTOMERS
from cardbatch.ingest.errors import FieldIssue, RowReject
from cardbatch.ingest.formats import open_reader
from cardbatch.ingest.validate import validate_row
from cardbatch.store.tables import customers

DEDUPE_KEYS = ("customer_id", "id_number")
UPDATABLE = ("name", "phone", "city", "credit_score")
READ_CHUNK_ROWS = 1_000


@dataclass
class ReferenceResult:
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def reference_import_customers(
    conn: Connection, path: Path, actor: str, now: datetime
) -> ReferenceResult:
    """Import a customers file row by row into ``conn``'s transaction."""
    reader, header = open_reader(path, CUSTOMERS)
    present = frozenset(header.positions)
    held: dict[str, dict[Any, int]] = {key: {} for key in DEDUPE_KEYS}
    result = ReferenceResult()

    def reject(line: int, issues: tuple[FieldIssue, ...]) -> None:
        row_reject = RowReject(line, issues)
        result.rejects.append((line, row_reject.fields, row_reject.codes, row_reject.message))

    for chunk in reader.chunks(READ_CHUNK_ROWS):
        for index in range(len(chunk)):
            line = chunk.lines[index]
            if index in chunk.issues:
                reject(line, (chunk.issues[index],))
                continue
            values, issues, _warnings = validate_row(chunk.row(index), CUSTOMERS, header)
            if issues:
                reject(line, tuple(issues))
                continue
            row = dict(zip(CUSTOMERS.names, values, strict=True))
            repeated = [key for key in DEDUPE_KEYS if row[key] in held[key]]
            if repeated:
                key = repeated[0]
                message = f"same {key} as line {held[key][row[key]]}"
                reject(line, (FieldIssue(key, "duplicate_in_file", message),))
                continue
            for key in DEDUPE_KEYS:
                held[key][row[key]] = line
            issue = _store_row(conn, row, present, actor, now, result)
            if issue is not None:
                reject(line, (issue,))
    return result


def _store_row(
    conn: Connection,
    row: dict[str, Any],
    present: frozenset[str],
    actor: str,
    now: datetime,
    result: ReferenceResult,
) -> FieldIssue | None:
    owner = conn.execute(
        select(customers.c.customer_id).where(customers.c.id_number == row["id_number"])
    ).scalar_one_or_none()
    if owner is not None and owner != row["customer_id"]:
        message = f"ID number already belongs to customer {owner}"
        return FieldIssue("id_number", "duplicate_customer", message)
    stored = (
        conn.execute(select(customers).where(customers.c.customer_id == row["customer_id"]))
        .mappings()
        .one_or_none()
    )
    if stored is None:
        ric = str(row["id_number"])
        birth = date(int(ric[6:10]), int(ric[10:12]), int(ric[12:14]))
        conn.execute(customers.insert().values(
            **{name: row[name] for name in ("customer_id", "id_number", *UPDATABLE)},
            birth_date=birth, created_at=now, created_by=actor,
        ))  # fmt: skip
        result.inserted += 1
        return None
    if stored["id_number"] != row["id_number"]:
        return FieldIssue("id_number", "id_number_changed",
                          "customer is stored with a different ID number")  # fmt: skip
    change = {
        name: row[name]
        for name in UPDATABLE
        if name in present and row[name] is not None and stored[name] != row[name]
    }
    if not change:
        result.unchanged += 1
        return None
    conn.execute(
        customers.update()
        .where(customers.c.customer_id == row["customer_id"])
        .values(**change, updated_at=now, updated_by=actor)
    )
    result.updated += 1
    return None


def customers_rows(conn: Connection) -> list[tuple[Any, ...]]:
    """The customers table without wall-clock columns, sorted."""
    names = ("customer_id", "name", "id_number", "phone", "city", "birth_date", "credit_score",
             "created_by", "updated_by")  # fmt: skip
    query = select(*(customers.c[name] for name in names))
    return sorted(tuple(row) for row in conn.execute(query))
