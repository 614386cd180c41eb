"""Named segments: define (validated, versioned), list, show (screen and classify), export.

A segment is a name, a screening expression and classification rules. Defining
a name again adds a new version; the latest version is the one used. The
expression and the rules are checked before anything is stored.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from cardbatch.domain.masking import mask_card, mask_name, mask_phone, mask_ric
from cardbatch.money import format_fen
from cardbatch.segments.classify import ClassifyRule, add_classes, parse_rule, summarise
from cardbatch.segments.compile import select_rows
from cardbatch.segments.frame import accounts_frame
from cardbatch.segments.typecheck import CheckedExpr, compile_check
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store.tables_rules import segments
from cardbatch.textsafe import neutralise

SEGMENT_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
CLASSIFY_RULES_MAX = 5
EXPORT_COLUMNS = (
    "account_id", "customer_id", "name", "id_number", "phone", "card_number", "product",
    "status", "city", "balance_fen", "balance", "credit_limit_fen", "utilisation",
    "statement_day", "autopay_mode", "dpd", "bucket", "five_class",
)  # fmt: skip
_MASKS = {"name": mask_name, "id_number": mask_ric, "phone": mask_phone, "card_number": mask_card}


class SegmentError(ValueError):
    """A segment that cannot be defined or found."""


@dataclass(frozen=True)
class Segment:
    name: str
    version_no: int
    expression: str
    classify_by: tuple[str, ...]
    description: str
    created_by: str
    created_at: datetime

    def checked(self) -> CheckedExpr:
        return compile_check(self.expression)

    def rules(self) -> list[ClassifyRule]:
        return [parse_rule(text) for text in self.classify_by]


@dataclass(frozen=True)
class Screening:
    """A segment screened on a business date: its accounts (with class columns) and summary."""

    segment: Segment
    business_date: date
    accounts: pl.DataFrame
    by_class: pl.DataFrame

    @property
    def count(self) -> int:
        return self.accounts.height

    @property
    def balance_fen(self) -> int:
        return int(self.accounts["balance_fen"].sum()) if self.accounts.height else 0


def _segment(row: Any) -> Segment:
    return Segment(
        name=row.name,
        version_no=row.version_no,
        expression=row.expression,
        classify_by=tuple(json.loads(row.classify_by)),
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def define_segment(
    conn: Connection,
    name: str,
    expression: str,
    classify_by: list[str],
    actor: str,
    description: str = "",
) -> Segment:
    """Check and store a segment (a new version if the name exists).

    Raises :class:`SegmentError`, :class:`~cardbatch.segments.typecheck.ExprErrors`
    or :class:`~cardbatch.segments.classify.ClassifyError` before writing anything.
    """
    if not SEGMENT_NAME_RE.match(name):
        raise SegmentError(f"segment name must match {SEGMENT_NAME_RE.pattern}, got {name!r}")
    if len(classify_by) > CLASSIFY_RULES_MAX:
        raise SegmentError(f"at most {CLASSIFY_RULES_MAX} --classify-by rules")
    compile_check(expression)
    rules = [parse_rule(text).render() for text in classify_by]
    last = conn.execute(
        select(func.max(segments.c.version_no)).where(segments.c.name == name)
    ).scalar()
    version_no = (last or 0) + 1
    conn.execute(
        segments.insert().values(
            name=name, version_no=version_no, expression=expression,
            classify_by=json.dumps(rules, ensure_ascii=False), description=description,
            created_by=actor, created_at=utc_now(),
        )
    )  # fmt: skip
    audit.record(conn, actor, "segment.define", f"{name}@{version_no}", expression=expression)
    return get_segment(conn, name)


def get_segment(conn: Connection, name: str) -> Segment:
    """The latest version of a segment."""
    row = conn.execute(
        select(segments).where(segments.c.name == name).order_by(segments.c.version_no.desc())
    ).first()
    if row is None:
        raise SegmentError(f"no segment named {name!r}")
    return _segment(row)


def list_segments(conn: Connection) -> list[Segment]:
    """The latest version of every segment, by name."""
    latest = (
        select(segments.c.name, func.max(segments.c.version_no).label("version_no"))
        .group_by(segments.c.name)
        .subquery()
    )
    rows = conn.execute(
        select(segments)
        .join(
            latest,
            (segments.c.name == latest.c.name) & (segments.c.version_no == latest.c.version_no),
        )
        .order_by(segments.c.name)
    ).all()
    return [_segment(row) for row in rows]


def screen(conn: Connection, segment: Segment, business_date: date) -> Screening:
    """Select the segment's accounts on ``business_date`` and classify them."""
    frame = accounts_frame(conn, business_date)
    selected = select_rows(frame, segment.checked(), business_date)
    rules = segment.rules()
    return Screening(
        segment, business_date, add_classes(selected, rules), summarise(selected, rules)
    )


def _safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    return neutralise(value) if isinstance(value, str) else value


def export_rows(screening: Screening, *, masked: bool = True) -> list[dict[str, object]]:
    """The accounts of a screening as export rows; personal data masked unless told."""
    class_columns = [rule.column for rule in screening.segment.rules()]
    rows = []
    for account in screening.accounts.iter_rows(named=True):
        row: dict[str, object] = {c: account.get(c) for c in EXPORT_COLUMNS if c != "balance"}
        row["balance"] = format_fen(int(account["balance_fen"]), grouping=False)
        for column in class_columns:
            row[column] = account[column]
        if masked:
            for column, mask in _MASKS.items():
                if row[column] is not None:
                    row[column] = mask(str(row[column]))
        rows.append(row)
    return rows


def record_export(
    conn: Connection, screening: Screening, path: Path, rows: int, masked: bool, actor: str
) -> None:
    """Note an export in the audit trail (who took which accounts, masked or in clear)."""
    segment = screening.segment
    audit.record(conn, actor, "segment.export", f"{segment.name}@{segment.version_no}",
                 file=str(path), rows=rows, masked=masked,
                 business_date=screening.business_date.isoformat())  # fmt: skip


def write_export(screening: Screening, path: Path, *, masked: bool = True) -> int:
    """Write the screening's accounts to a UTF-8 (with BOM) CSV file; the number of rows."""
    columns = list(EXPORT_COLUMNS) + [rule.column for rule in screening.segment.rules()]
    rows = export_rows(screening, masked=masked)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _safe_cell(row.get(k)) for k in columns})
    tmp.replace(path)
    return len(rows)
