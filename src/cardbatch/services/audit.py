"""The audit trail: one row per state-changing action, with who, when, what."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from cardbatch.services.actor import utc_now
from cardbatch.store.tables import audit_events


def record(conn: Connection, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Append an audit event inside the caller's transaction."""
    conn.execute(
        audit_events.insert().values(
            at=utc_now(),
            actor=actor,
            action=action,
            subject=subject,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
