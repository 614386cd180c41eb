"""``/api/health``: is the service up and is its database reachable (no sign-in needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from cardbatch.api.deps import StoreDep
from cardbatch.store.migrate import current_revision

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=None, summary="Liveness and database reachability")
def health(store: StoreDep) -> dict[str, Any]:
    try:
        schema = current_revision(store)
    except SQLAlchemyError:
        return {"status": "degraded", "database": "unreachable"}
    return {"status": "ok", "database": "ok", "schema": schema}
