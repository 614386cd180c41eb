"""A direct route for the console's two hottest reads: an account's summary and its statements.

``GET /api/accounts/{account_id}`` and ``GET /api/accounts/{account_id}/statements`` are
what a call-centre screen asks for on every customer call, so they carry the console's
load. FastAPI spends more CPU matching the route and solving its dependencies than the
service spends answering, so this plain ASGI layer answers those two paths itself when
the request is the plain, happy case:

- the path is exactly one of the two, with no query string and a 1..40 character id;
- the bearer token is one the app's :class:`~cardbatch.api.deps.TokenCache` already
  holds (checked within its time-to-live), and the user's role may ``accounts.read``.

It calls the same service functions, with the same masking (``unmasked`` only for the
roles :func:`~cardbatch.domain.roles.sees_personal_data` allows), and writes the same JSON
bytes as the FastAPI endpoints in ``routers/accounts.py``. It sets the matched route and
the user in the scope, so :class:`~cardbatch.api.app.ObserveMiddleware` logs and counts
the request exactly as it does for a FastAPI route.

Everything else passes through to FastAPI untouched: another path, a query string, no or
an unknown token (FastAPI authenticates it and fills the cache), a role that may not read
accounts (403), an unknown account or statement (404), a store error (503). Those answers
therefore keep one source: the FastAPI routes, their error handlers and the OpenAPI schema.
Reads have no side effects, so handing a failed read over to FastAPI to answer is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from cardbatch.api.answers import json_bytes
from cardbatch.api.deps import TokenCache
from cardbatch.api.routers.accounts import router as accounts_router
from cardbatch.domain.roles import Action, allowed, sees_personal_data
from cardbatch.services import accounts
from cardbatch.services.accounts import ACCOUNT_ID_LEN_MAX
from cardbatch.store import Store

PREFIX = "/api/accounts/"
SUMMARY_ROUTE = "/api/accounts/{account_id}"
STATEMENTS_ROUTE = "/api/accounts/{account_id}/statements"
_STATEMENTS_SUFFIX = "/statements"
_HEADERS = [(b"content-type", b"application/json")]

Answer = Callable[[Store, str, bool], Any]


def _summary(store: Store, account_id: str, unmasked: bool) -> Any:
    return accounts.summary(store, account_id, unmasked=unmasked)


def _statements(store: Store, account_id: str, unmasked: bool) -> Any:
    return accounts.statements(store, account_id, unmasked=unmasked)


def match(path: str) -> tuple[str, str] | None:
    """(route template, account id) when ``path`` is one of the two hot reads, else None."""
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX) :]
    template = SUMMARY_ROUTE
    if rest.endswith(_STATEMENTS_SUFFIX):
        rest, template = rest[: -len(_STATEMENTS_SUFFIX)], STATEMENTS_ROUTE
    if not rest or len(rest) > ACCOUNT_ID_LEN_MAX or "/" in rest:
        return None
    return template, rest


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The credentials of an ``Authorization: Bearer ...`` header, read as FastAPI's scheme
    reads them."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials:
                return credentials
            return None
    return None


class HotReads:
    """Answers the two hot account reads directly; passes every other request on."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute] = accounts_router.routes) -> None:
        self.app = app
        by_path = {getattr(route, "path", None): route for route in routes}
        self.routes = {path: by_path[path] for path in (SUMMARY_ROUTE, STATEMENTS_ROUTE)}
        self.answers: dict[str, Answer] = {SUMMARY_ROUTE: _summary, STATEMENTS_ROUTE: _statements}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self._answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: Scope) -> bytes | None:
        """The JSON body when this request is the plain happy case, else None (FastAPI answers)."""
        if scope["method"] != "GET" or scope["query_string"]:
            return None
        hit = match(scope["path"])
        token = bearer_token(scope["headers"]) if hit else None
        app_state = scope["app"].state
        cache: TokenCache = app_state.token_cache
        user = cache.get(token) if token else None
        if hit is None or user is None or not allowed(user.role, Action.ACCOUNTS_READ):
            return None
        template, account_id = hit
        unmasked = sees_personal_data(user.role)
        try:
            found = self.answers[template](app_state.store, account_id, unmasked)
        except Exception:  # unknown account or statement, store error: FastAPI answers it
            return None
        scope["route"] = self.routes[template]
        scope.setdefault("state", {})["user"] = user.name
        return json_bytes(found)
