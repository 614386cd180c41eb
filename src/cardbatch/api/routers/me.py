"""``/api/me``: who the token belongs to and what the role may do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cardbatch.api.deps import require
from cardbatch.domain.roles import ROLE_MATRIX, Action
from cardbatch.services.users import User

router = APIRouter(tags=["users"])


@router.get("/api/me", response_model=None, summary="The signed-in user, role and allowed actions")
def me(user: Annotated[User, Depends(require(Action.ME_READ))]) -> dict[str, Any]:
    actions = sorted(a.value for a, roles in ROLE_MATRIX.items() if user.role in roles)
    return {"name": user.name, "role": user.role.value, "actions": actions}
