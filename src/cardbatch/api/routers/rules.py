"""``/api/rules``: product rule-set versions, their diff, and approval by a second user.

Over ``cardbatch.rules.versions`` and ``cardbatch.rules.diff`` (the same
functions as ``cardbatch rules``). Approval checks the role, then
maker-checker: the user who loaded a version cannot approve it (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder

from cardbatch.api.deps import StoreDep, require
from cardbatch.domain.roles import Action, MakerCheckerViolation, check_maker_checker
from cardbatch.rules import versions
from cardbatch.rules.diff import diff_rules
from cardbatch.services.users import User

router = APIRouter(prefix="/api/rules", tags=["rules"])
Reader = Annotated[User, Depends(require(Action.RULES_READ))]
Approver = Annotated[User, Depends(require(Action.RULES_APPROVE))]
Code = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Number = Annotated[int, Path(ge=1, le=1_000_000)]
REF_PATTERN = r"^[A-Za-z0-9_.-]{1,32}@[0-9]{1,7}$"


def _summary(v: versions.RuleVersion) -> dict[str, Any]:
    return {"label": v.label, "product_code": v.product_code, "version_no": v.version_no,
            "effective_date": v.effective_date.isoformat(), "status": v.status,
            "sha256": v.sha256, "source_name": v.source_name, "loaded_by": v.loaded_by,
            "approved_by": v.approved_by}  # fmt: skip


def _get(store: Any, code: str, number: int) -> versions.RuleVersion:
    try:
        with store.read() as conn:
            return versions.get_version(conn, code, number)
    except versions.RuleVersionError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/versions", response_model=None, summary="Stored rule versions by product")
def list_versions(
    _user: Reader,
    store: StoreDep,
    product: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    with store.read() as conn:
        found = versions.list_versions(conn, product)
    return {"versions": [_summary(v) for v in found]}


@router.get("/versions/{code}/{number}", response_model=None, summary="One version with its text")
def get_version(_user: Reader, store: StoreDep, code: Code, number: Number) -> dict[str, Any]:
    version = _get(store, code, number)
    return {**_summary(version), "toml_text": version.toml_text}


@router.get("/diff", response_model=None, summary="Keys whose values differ between two versions")
def diff_versions(
    _user: Reader,
    store: StoreDep,
    left: Annotated[str, Query(pattern=REF_PATTERN, description="CODE@N")],
    right: Annotated[str, Query(pattern=REF_PATTERN, description="CODE@N")],
) -> dict[str, Any]:
    sides = []
    for ref in (left, right):
        code, number = ref.split("@")
        sides.append(_get(store, code, int(number)).rules())
    changes = diff_rules(sides[0], sides[1])
    return {"left": left, "right": right, "changes": jsonable_encoder(changes)}


@router.post("/versions/{code}/{number}/approve", response_model=None,
             summary="Approve a pending version (not by the user who loaded it)")  # fmt: skip
def approve_version(user: Approver, store: StoreDep, code: Code, number: Number) -> dict[str, Any]:
    version = _get(store, code, number)
    try:
        check_maker_checker(version.loaded_by, user.name)
        with store.write() as conn:
            approved = versions.approve_version(conn, code, number, user.name)
    except (MakerCheckerViolation, versions.RuleVersionError) as exc:
        raise HTTPException(409, str(exc)) from None
    return _summary(approved)
