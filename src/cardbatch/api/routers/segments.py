"""``/api/segments``: customer segments (客群) and what they select on a business date.

Over ``cardbatch.segments.service`` (the same functions as ``cardbatch segment``).
Screened accounts come out masked unless the role may see personal data.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder

from cardbatch.api.deps import StoreDep, require, unmasked_for
from cardbatch.domain.roles import Action
from cardbatch.segments import service
from cardbatch.services.users import User

router = APIRouter(prefix="/api/segments", tags=["segments"])
Reader = Annotated[User, Depends(require(Action.SEGMENTS_READ))]
ACCOUNTS_SHOWN_MAX = 1_000
SCREEN_SUMMARY = "Screen a segment on a business date: count, balance, classes, accounts"


def _summary(s: service.Segment) -> dict[str, Any]:
    return {"name": s.name, "version_no": s.version_no, "expression": s.expression,
            "classify_by": list(s.classify_by), "description": s.description,
            "created_by": s.created_by, "created_at": s.created_at.isoformat()}  # fmt: skip


@router.get("", response_model=None, summary="Segments (latest version of each)")
def list_segments(_user: Reader, store: StoreDep) -> dict[str, Any]:
    with store.read() as conn:
        return {"segments": [_summary(s) for s in service.list_segments(conn)]}


@router.get("/{name}/screen", response_model=None, summary=SCREEN_SUMMARY)
def screen_segment(
    user: Reader,
    store: StoreDep,
    name: Annotated[str, Path(min_length=1, max_length=64)],
    business_date: Annotated[date, Query(description="YYYY-MM-DD")],
    limit: Annotated[int, Query(ge=0, le=ACCOUNTS_SHOWN_MAX)] = 50,
) -> dict[str, Any]:
    try:
        with store.read() as conn:
            screening = service.screen(conn, service.get_segment(conn, name), business_date)
    except service.SegmentError as exc:
        raise HTTPException(404, str(exc)) from None
    rows = service.export_rows(screening, masked=not unmasked_for(user))[:limit]
    return {"segment": _summary(screening.segment), "business_date": business_date.isoformat(),
            "count": screening.count, "balance_fen": screening.balance_fen,
            "by_class": jsonable_encoder(screening.by_class.to_dicts()),
            "accounts": jsonable_encoder(rows)}  # fmt: skip
