"""``/api/runs``: batch runs from the engine's run repository: list, and one run in detail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder

from cardbatch.api.deps import StoreDep, require
from cardbatch.domain.roles import Action
from cardbatch.services import runs_view
from cardbatch.services.users import User

router = APIRouter(prefix="/api/runs", tags=["runs"])
RUNS_ROWS_MAX = 500
Reader = Annotated[User, Depends(require(Action.RUNS_READ))]
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("", response_model=None, summary="Recent batch runs with progress, rate, ETA, failures")
def list_runs(
    _user: Reader,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=RUNS_ROWS_MAX)] = 50,
) -> dict[str, Any]:
    result: dict[str, Any] = jsonable_encoder(runs_view.list_runs(store, limit))
    return result


@router.get("/{run_id}", response_model=None, summary="One run: steps, progress, failures")
def get_run(_user: Reader, store: StoreDep, run_id: RunId) -> dict[str, Any]:
    try:
        report = runs_view.run_detail(store, run_id)
    except runs_view.UnknownRun:
        raise HTTPException(404, "no such run") from None
    result: dict[str, Any] = jsonable_encoder(report)
    return result
