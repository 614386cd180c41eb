"""``/api/users``: list users, add one (admin); the new token is in the answer, once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from cardbatch.api.deps import StoreDep, require
from cardbatch.domain.roles import Action, Role
from cardbatch.services import users
from cardbatch.services.users import User, UserError, UserExists

router = APIRouter(prefix="/api/users", tags=["users"])
Admin = Annotated[User, Depends(require(Action.USERS_MANAGE))]


class NewUserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[\w.@-]+$")
    role: Role


@router.get("", response_model=None, summary="Console users and roles (never tokens)")
def list_users(_user: Admin, store: StoreDep) -> dict[str, Any]:
    return {"users": jsonable_encoder(users.list_users(store))}


@router.post(
    "",
    response_model=None,
    status_code=201,
    summary="Add a user; the answer holds its API token once",
)
def add_user(request: Request, user: Admin, store: StoreDep, body: NewUserIn) -> dict[str, Any]:
    try:
        created = users.add_user(store, body.name, body.role.value, actor=user.name)
    except UserError as exc:
        raise HTTPException(409 if isinstance(exc, UserExists) else 422, str(exc)) from None
    request.app.state.token_cache.clear()  # users changed: check every token afresh
    return {"name": created.user.name, "role": created.user.role.value, "token": created.token}
