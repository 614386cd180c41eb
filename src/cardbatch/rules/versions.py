"""Rule-set versions: load (pending), approve (by a second person), list, show, resolve by date.

A version is immutable: its TOML text and hash are stored as loaded and never
change. It is ``pending`` until a user other than the one who loaded it
approves it; only approved versions are ever in force. On a business date the
version in force for a product is the approved one with the latest effective
date on or before that date (the higher version number wins a tie).
Loading the same text with the same effective date again returns the stored
version instead of making a new one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from cardbatch.rules.load import parse_rules, text_sha256
from cardbatch.rules.model import RuleSet
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store.tables_rules import rule_versions

PENDING = "pending"
APPROVED = "approved"
VERSIONS_LISTED_MAX = 10_000


class RuleVersionError(ValueError):
    """A version operation that is not allowed (unknown version, self-approval, ...)."""


@dataclass(frozen=True)
class RuleVersion:
    """One stored version of a product's rules."""

    product_code: str
    version_no: int
    effective_date: date
    status: str
    sha256: str
    source_name: str
    loaded_by: str
    loaded_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    toml_text: str

    @property
    def label(self) -> str:
        return f"{self.product_code}@{self.version_no}"

    def rules(self) -> RuleSet:
        """The validated rule set (stored text was valid when loaded)."""
        return _parsed(self.toml_text, self.label)


@dataclass(frozen=True)
class InForceSpan:
    """Business dates ``start``..``end`` (both included) and the version in force on them."""

    start: date
    end: date
    version: RuleVersion | None


def _version(row: Any) -> RuleVersion:
    return RuleVersion(
        product_code=row.product_code,
        version_no=row.version_no,
        effective_date=row.effective_date,
        status=row.status,
        sha256=row.sha256,
        source_name=row.source_name,
        loaded_by=row.loaded_by,
        loaded_at=row.loaded_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        toml_text=row.toml_text,
    )


def load_version(
    conn: Connection, text: str, effective_date: date, actor: str, source_name: str
) -> tuple[RuleVersion, bool]:
    """Store ``text`` as a new pending version; ``(version, created)``.

    Raises :class:`~cardbatch.rules.load.RuleSetInvalid` before writing anything
    when the text does not validate.
    """
    rules = parse_rules(text, source=source_name)
    code = rules.product.code
    sha = text_sha256(text)
    same = conn.execute(
        select(rule_versions).where(
            rule_versions.c.product_code == code,
            rule_versions.c.sha256 == sha,
            rule_versions.c.effective_date == effective_date,
        )
    ).first()
    if same is not None:
        return _version(same), False
    last = conn.execute(
        select(func.max(rule_versions.c.version_no)).where(rule_versions.c.product_code == code)
    ).scalar()
    version_no = (last or 0) + 1
    conn.execute(
        rule_versions.insert().values(
            product_code=code,
            version_no=version_no,
            effective_date=effective_date,
            toml_text=text,
            sha256=sha,
            source_name=source_name[-200:],
            status=PENDING,
            loaded_by=actor,
            loaded_at=utc_now(),
        )
    )
    audit.record(
        conn, actor, "rules.load", f"{code}@{version_no}", effective=effective_date, sha256=sha
    )
    return get_version(conn, code, version_no), True


def get_version(conn: Connection, product_code: str, version_no: int) -> RuleVersion:
    row = conn.execute(
        select(rule_versions).where(
            rule_versions.c.product_code == product_code,
            rule_versions.c.version_no == version_no,
        )
    ).first()
    if row is None:
        raise RuleVersionError(f"no rule version {product_code}@{version_no}")
    return _version(row)


def list_versions(conn: Connection, product_code: str | None = None) -> list[RuleVersion]:
    """Versions by product and number; all products unless ``product_code`` is given."""
    query = select(rule_versions).order_by(rule_versions.c.product_code, rule_versions.c.version_no)
    if product_code is not None:
        query = query.where(rule_versions.c.product_code == product_code)
    rows = conn.execute(query.limit(VERSIONS_LISTED_MAX)).all()
    return [_version(row) for row in rows]


def approve_version(
    conn: Connection, product_code: str, version_no: int, actor: str
) -> RuleVersion:
    """Approve a pending version; the approver must not be the user who loaded it."""
    version = get_version(conn, product_code, version_no)
    if version.status != PENDING:
        raise RuleVersionError(
            f"{version.label} is already {version.status} (by {version.approved_by})"
        )
    if version.loaded_by == actor:
        raise RuleVersionError(
            f"{version.label} was loaded by {actor}; a different user must approve it"
        )
    updated = conn.execute(
        rule_versions.update()
        .where(
            rule_versions.c.product_code == product_code,
            rule_versions.c.version_no == version_no,
            rule_versions.c.status == PENDING,
        )
        .values(status=APPROVED, approved_by=actor, approved_at=utc_now())
    )
    if updated.rowcount != 1:
        raise RuleVersionError(f"{version.label} was approved by someone else meanwhile")
    audit.record(conn, actor, "rules.approve", version.label, loaded_by=version.loaded_by)
    return get_version(conn, product_code, version_no)


def version_in_force(conn: Connection, product_code: str, on: date) -> RuleVersion | None:
    """The approved version in force on business date ``on``, or ``None`` before the first."""
    row = conn.execute(
        select(rule_versions)
        .where(
            rule_versions.c.product_code == product_code,
            rule_versions.c.status == APPROVED,
            rule_versions.c.effective_date <= on,
        )
        .order_by(rule_versions.c.effective_date.desc(), rule_versions.c.version_no.desc())
        .limit(1)
    ).first()
    return None if row is None else _version(row)


def rules_in_force(conn: Connection, product_code: str, on: date) -> RuleSet:
    """The rules to apply on ``on``; raises :class:`RuleVersionError` when none is in force."""
    version = version_in_force(conn, product_code, on)
    if version is None:
        raise RuleVersionError(f"no approved rules for {product_code} in force on {on}")
    return version.rules()


def in_force_spans(
    conn: Connection, product_code: str, start: date, end: date
) -> list[InForceSpan]:
    """The versions in force over ``start``..``end``, as consecutive spans of dates."""
    if end < start:
        raise RuleVersionError(f"date range ends ({end}) before it starts ({start})")
    rows = conn.execute(
        select(rule_versions)
        .where(
            and_(
                rule_versions.c.product_code == product_code,
                rule_versions.c.status == APPROVED,
                rule_versions.c.effective_date <= end,
            )
        )
        .order_by(rule_versions.c.effective_date, rule_versions.c.version_no)
    ).all()
    winners: dict[date, RuleVersion] = {}
    for row in rows:  # later rows win ties on the same effective date
        winners[row.effective_date] = _version(row)
    changes = sorted(winners.items())
    spans: list[InForceSpan] = []
    current = next((v for d, v in reversed(changes) if d <= start), None)
    span_start = start
    for effective, version in changes:
        if start < effective <= end:
            spans.append(InForceSpan(span_start, effective - timedelta(days=1), current))
            span_start, current = effective, version
    spans.append(InForceSpan(span_start, end, current))
    return spans


@functools.lru_cache(maxsize=64)
def _parsed(toml_text: str, label: str) -> RuleSet:
    """A stored version's rules, parsed once per process (a night reads them many times).

    Stored text never changes (versions are immutable once loaded), and callers only
    read the rule set, so the parsed object is shared.
    """
    return parse_rules(toml_text, source=label)
