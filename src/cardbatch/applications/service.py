"""Application use cases on the store: submit a file, the block list, batch summaries.

Deciding lives in :mod:`.deciding` and manual review in :mod:`.review`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from cardbatch.applications.intake import Application, IntakeResult, clean_file
from cardbatch.applications.reader import read_application_file
from cardbatch.applications.rejects import write_rejects
from cardbatch.issuance.serials import allocate
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store, StoreError
from cardbatch.store.tables_apps import (
    application_batches,
    applications,
    blocked_parties,
)

CHANNEL_DEFAULT = "branch"
APPLICATION_COUNTER = "applications"


class ApplicationsError(StoreError):
    """An operator-level problem with a batch, an application or a policy."""


class DuplicateFile(ApplicationsError):
    def __init__(self, path: Path, batch_id: str) -> None:
        super().__init__(f"{path}: the same file was already submitted as batch {batch_id}")
        self.batch_id = batch_id


@dataclass(frozen=True)
class RejectLine:
    line_no: int
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class SubmitResult:
    file: str
    batch_id: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    rejects_file: str | None
    rejects: list[RejectLine]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def submit(
    store: Store, path: Path, business_date: date, actor: str, channel: str = CHANNEL_DEFAULT
) -> SubmitResult:
    """Read, clean and store an application file; rejected rows go to the rejects file."""
    content_hash = file_hash(path) if path.is_file() else ""
    raw = read_application_file(path, content_hash)
    batch_id = f"AB{business_date:%Y%m%d}-{content_hash[:10]}"
    with store.read() as conn:
        earlier = conn.execute(
            select(application_batches.c.batch_id).where(
                application_batches.c.content_hash == content_hash
            )
        ).scalar_one_or_none()
    if earlier is not None:
        raise DuplicateFile(path, earlier)
    result = clean_file(raw)
    rejects = [RejectLine(e.line_no, e.field, e.code, e.message) for _, e in result.rejected]
    # the rejects file first: if the store refuses the batch, submitting again rewrites it
    rejects_file = write_rejects(raw, result.rejected)
    with store.write() as conn:
        _insert_batch(conn, batch_id, path, content_hash, channel, business_date, actor, result)
        _insert_applications(conn, batch_id, result.accepted, actor)
        audit.record(
            conn,
            actor,
            "applications.submit",
            batch_id,
            file=path.name,
            accepted=len(result.accepted),
            rejected=len(rejects),
        )
    return SubmitResult(
        str(path),
        batch_id,
        result.rows_total,
        len(result.accepted),
        len(rejects),
        str(rejects_file) if rejects_file else None,
        rejects,
    )


def _insert_batch(
    conn: Connection,
    batch_id: str,
    path: Path,
    content_hash: str,
    channel: str,
    business_date: date,
    actor: str,
    result: IntakeResult,
) -> None:
    conn.execute(
        insert(application_batches).values(
            batch_id=batch_id,
            file_name=path.name,
            content_hash=content_hash,
            channel=channel,
            business_date=business_date,
            rows_total=result.rows_total,
            rows_accepted=len(result.accepted),
            rows_rejected=len(result.rejected),
            created_at=utc_now(),
            created_by=actor,
        )
    )


def _insert_applications(
    conn: Connection, batch_id: str, accepted: list[Application], actor: str
) -> None:
    if not accepted:
        return
    first = allocate(conn, APPLICATION_COUNTER, len(accepted), lambda: 1)
    now = utc_now()
    rows = [
        {
            "application_id": f"{batch_id}-{a.line_no:06d}",
            "seq": first + i,
            "batch_id": batch_id,
            "line_no": a.line_no,
            "name": a.name,
            "id_number": a.id_number,
            "phone": a.phone,
            "employer": a.employer,
            "monthly_income_fen": a.monthly_income_fen,
            "product_code": a.product_code,
            "address": a.address,
            "status": "received",
            "reason_codes": "",
            "created_at": now,
            "created_by": actor,
        }
        for i, a in enumerate(accepted)
    ]
    conn.execute(insert(applications), rows)


# --- block list ---------------------------------------------------------------------------


def block(store: Store, kind: str, value: str, reason: str, actor: str) -> None:
    """Add a resident ID (``kind="ric"``) or phone (``"phone"``) to the block list."""
    from cardbatch.domain.identity import normalize_mobile, normalize_ric

    normalised = normalize_ric(value) if kind == "ric" else normalize_mobile(value)
    with store.write() as conn:
        exists = conn.execute(
            select(blocked_parties.c.value).where(
                blocked_parties.c.kind == kind, blocked_parties.c.value == normalised
            )
        ).first()
        if exists is None:
            conn.execute(
                insert(blocked_parties).values(
                    kind=kind,
                    value=normalised,
                    reason=reason,
                    created_at=utc_now(),
                    created_by=actor,
                )
            )
            audit.record(conn, actor, "blocklist.add", kind, reason=reason)


@dataclass(frozen=True)
class BatchSummary:
    batch_id: str
    file_name: str
    channel: str
    business_date: date
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    created_by: str
    by_status: dict[str, int]


def batch_summary(store: Store, batch_id: str) -> BatchSummary:
    """A batch's counts: rows in the file, and applications by status now."""
    with store.read() as conn:
        row = conn.execute(
            select(application_batches).where(application_batches.c.batch_id == batch_id)
        ).first()
        if row is None:
            raise ApplicationsError(f"no application batch {batch_id}")
        counts = conn.execute(
            select(applications.c.status, func.count())
            .where(applications.c.batch_id == batch_id)
            .group_by(applications.c.status)
        ).all()
    by_status = {str(status): int(n) for status, n in sorted(counts)}
    return BatchSummary(
        row.batch_id,
        row.file_name,
        row.channel,
        row.business_date,
        row.rows_total,
        row.rows_accepted,
        row.rows_rejected,
        row.created_by,
        by_status,
    )
