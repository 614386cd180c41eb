"""Request dependencies: the store, the settings, the bearer-token user, the role check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cardbatch.api.settings import ConsoleSettings
from cardbatch.domain.roles import Action, allowed, sees_personal_data
from cardbatch.services import users
from cardbatch.services.users import User
from cardbatch.store import Store

_bearer = HTTPBearer(auto_error=False, description="API token from `cardbatch users add`.")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[ConsoleSettings, Depends(get_settings)]


def current_user(
    request: Request,
    store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user behind the bearer token, or 401."""
    if creds is None:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    user = users.authenticate_token(store, creds.credentials)
    if user is None:
        raise HTTPException(401, "invalid or revoked token", {"WWW-Authenticate": "Bearer"})
    request.state.user = user.name
    return user


def require(action: Action) -> Callable[[User], User]:
    """A dependency that lets the request through only for roles allowed ``action``."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not allowed(user.role, action):
            raise HTTPException(403, f"role {user.role.value} may not {action.value}")
        return user

    check.__name__ = f"require_{action.name.lower()}"
    return check


def unmasked_for(user: User) -> bool:
    return sees_personal_data(user.role)
