"""The manual review queue: referred applications approved with a limit or declined.

The reviewer needs the approver role and must not be the user who submitted
the application (maker-checker). An approved limit stays inside the largest
limit of the policy version that referred the application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from cardbatch.applications.policies import policy_by_id
from cardbatch.applications.roles import require_approver
from cardbatch.applications.service import ApplicationsError
from cardbatch.domain.masking import mask_name, mask_ric
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables_apps import applications

_REASON_RE = re.compile(r"^[a-z0-9_]{1,40}$")
MANUAL_PREFIX = "manual_"


@dataclass(frozen=True)
class QueueItem:
    application_id: str
    batch_id: str
    name_masked: str
    id_number_masked: str
    product_code: str
    monthly_income_fen: int
    score: int | None


def review_queue(store: Store, rows_max: int = 1_000) -> list[QueueItem]:
    """Referred applications, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            select(applications)
            .where(applications.c.status == "referred")
            .order_by(applications.c.seq)
            .limit(rows_max)
        ).all()
    return [
        QueueItem(
            r.application_id,
            r.batch_id,
            mask_name(r.name),
            mask_ric(r.id_number),
            r.product_code,
            r.monthly_income_fen,
            r.score,
        )
        for r in rows
    ]


def review(
    store: Store,
    application_id: str,
    actor: str,
    *,
    approve: bool,
    limit_fen: int | None = None,
    reason: str | None = None,
) -> str:
    """Approve (with a limit) or decline (with a reason) a referred application; new status."""
    with store.write() as conn:
        row = conn.execute(
            select(applications).where(applications.c.application_id == application_id)
        ).first()
        if row is None:
            raise ApplicationsError(f"no application {application_id}")
        if row.status != "referred":
            raise ApplicationsError(f"application {application_id} is {row.status}, not referred")
        require_approver(conn, actor, row.created_by, f"application {application_id}")
        values = _approved(conn, row.policy_id, limit_fen) if approve else _declined(reason)
        conn.execute(
            update(applications)
            .where(
                applications.c.application_id == application_id, applications.c.status == "referred"
            )
            .values(**values, reviewed_by=actor, reviewed_at=utc_now())
        )
        audit.record(conn, actor, "applications.review", application_id, **values)
    return str(values["status"])


def _approved(conn: Connection, policy_id: int | None, limit_fen: int | None) -> dict[str, object]:
    if limit_fen is None or limit_fen <= 0:
        raise ApplicationsError("an approval needs a positive --limit")
    assert policy_id is not None, "a referred application records its policy"
    policy = policy_by_id(conn, policy_id)
    ceiling_fen = max(b.limit_max_fen or 0 for b in policy.bands)
    if limit_fen > ceiling_fen:
        raise ApplicationsError(
            f"limit {limit_fen} fen is above the policy's largest limit {ceiling_fen} fen"
        )
    return {"status": "approved", "credit_limit_fen": limit_fen, "reason_codes": "manual_approve"}


def _declined(reason: str | None) -> dict[str, object]:
    if reason is None or not _REASON_RE.match(reason):
        raise ApplicationsError("a decline needs --decline REASON (lower-case letters, digits, _)")
    return {"status": "declined", "reason_codes": MANUAL_PREFIX + reason}
