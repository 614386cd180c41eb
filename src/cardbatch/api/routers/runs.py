"""``/api/runs``: batch runs from the engine's feed (``available: false`` until it is wired)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder

from cardbatch.api.deps import StoreDep, require
from cardbatch.domain.roles import Action
from cardbatch.services import runs_view
from cardbatch.services.users import User

router = APIRouter(prefix="/api/runs", tags=["runs"])
RUNS_ROWS_MAX = 500


@router.get(
    "", response_model=None, summary="Recent batch runs with progress and failures by reason"
)
def list_runs(
    _user: Annotated[User, Depends(require(Action.RUNS_READ))],
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=RUNS_ROWS_MAX)] = 50,
) -> dict[str, Any]:
    result: dict[str, Any] = jsonable_encoder(runs_view.list_runs(store, limit))
    return result
