"""Request dependencies: the store, the settings, the bearer-token user, the role check."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from cardbatch.api.settings import ConsoleSettings
from cardbatch.domain.roles import Action, allowed, sees_personal_data
from cardbatch.services import users
from cardbatch.services.users import User
from cardbatch.store import Store

TOKEN_CACHE_TTL_S = 5.0
_bearer = HTTPBearer(auto_error=False, description="API token from `cardbatch users add`.")


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


# Dependencies that do no I/O are async so that FastAPI does not send them to a thread.
async def get_store(request: Request) -> Store:
    return store_of(request)


async def get_settings(request: Request) -> ConsoleSettings:
    return settings_of(request)


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[ConsoleSettings, Depends(get_settings)]


class TokenCache:
    """Tokens checked in the last ``ttl_s`` seconds, so a burst of calls costs one lookup.

    Keyed by the token's SHA-256 (the token itself is not kept). A user disabled
    elsewhere (another process, the database) stops working within ``ttl_s``; a change
    to users made through this process (``clear``) takes effect at once.
    """

    def __init__(
        self,
        ttl_s: float = TOKEN_CACHE_TTL_S,
        entries_max: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.entries_max = entries_max
        self.clock = clock
        self._users: dict[str, tuple[User, float]] = {}

    def get(self, token: str) -> User | None:
        key = _digest(token)
        hit = self._users.get(key)
        if hit is None:
            return None
        if hit[1] <= self.clock():
            del self._users[key]
            return None
        return hit[0]

    def put(self, token: str, user: User) -> None:
        if len(self._users) >= self.entries_max:
            self._users.clear()
        self._users[_digest(token)] = (user, self.clock() + self.ttl_s)

    def clear(self) -> None:
        """Forget every token: users changed."""
        self._users.clear()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def current_user(
    request: Request,
    store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user behind the bearer token, or 401."""
    if creds is None:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    cache: TokenCache = request.app.state.token_cache
    user = cache.get(creds.credentials)
    if user is None:
        user = await run_in_threadpool(users.authenticate_token, store, creds.credentials)
        if user is not None:
            cache.put(creds.credentials, user)
    if user is None:
        raise HTTPException(401, "invalid or revoked token", {"WWW-Authenticate": "Bearer"})
    request.state.user = user.name
    return user


def require(
    action: Action,
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Coroutine[Any, Any, User]]:
    """A dependency that lets the request through only for roles allowed ``action``."""

    # The user is looked up here rather than through a ``Depends(current_user)`` node: one
    # dependency fewer for FastAPI to solve on every request (a tenth of an account answer's
    # CPU); the bearer scheme stays a dependency, so OpenAPI still shows it.
    async def check(
        request: Request,
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> User:
        user = await current_user(request, store_of(request), creds)
        if not allowed(user.role, action):
            raise HTTPException(403, f"role {user.role.value} may not {action.value}")
        return user

    check.__name__ = f"require_{action.name.lower()}"
    return check


def unmasked_for(user: User) -> bool:
    return sees_personal_data(user.role)
