"""``/api/audit``: the audit trail (auditor, admin) and its chain check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from cardbatch.api.deps import StoreDep, require, unmasked_for
from cardbatch.domain.audit_chain import canonical_time
from cardbatch.domain.redact import redact_text
from cardbatch.domain.roles import Action
from cardbatch.services import audit
from cardbatch.services.users import User
from cardbatch.store.audit_repo import EventFilter

router = APIRouter(prefix="/api/audit", tags=["audit"])
Auditor = Annotated[User, Depends(require(Action.AUDIT_READ))]


@router.get("/events", response_model=None, summary="Audit events, newest first")
def audit_events(
    user: Auditor,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=audit.LIST_ROWS_MAX)] = 100,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    events = audit.list_events(store, limit, EventFilter(actor, action, before))
    show = (lambda s: s) if unmasked_for(user) else redact_text
    return {"events": [
        {"event_id": e.event_id, "at": canonical_time(e.at), "actor": e.actor,
         "action": e.action, "subject": show(e.subject), "detail": show(e.detail),
         "row_hash": e.row_hash}
        for e in events
    ]}  # fmt: skip


@router.get(
    "/verify", response_model=None, summary="Recompute the hash chain; names the first bad row"
)
def audit_verify(_user: Auditor, store: StoreDep) -> dict[str, Any]:
    result = audit.verify(store)
    broken = result.broken
    return {"ok": result.ok, "rows": result.rows, "head_hash": result.head_hash,
            "first_bad_event_id": broken.event_id if broken else None,
            "reason": broken.reason if broken else None}  # fmt: skip
