"""Building the FastAPI application: store, routers, web console, metrics, logs, limits."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cardbatch import __version__
from cardbatch.api import errors
from cardbatch.api.deps import TokenCache
from cardbatch.api.hot_reads import HotReads
from cardbatch.api.metrics import CONTENT_TYPE, ConsoleMetrics
from cardbatch.api.routers import ROUTERS
from cardbatch.api.settings import ConsoleSettings
from cardbatch.store import Store, open_store

log = logging.getLogger("cardbatch.http")
API_DESCRIPTION = (
    "Operators' API over the cardbatch service functions. Authenticate with "
    "`Authorization: Bearer <token>` from `cardbatch users add`."
)
WEB_STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(settings: ConsoleSettings, store: Store | None = None) -> FastAPI:
    """The API (under ``/api``), the web console (``/``), ``/metrics``, OpenAPI at ``/docs``."""
    from cardbatch.web.batch_pages import router as batch_pages_router
    from cardbatch.web.routes import router as web_router

    the_store = store or open_store(settings.db_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if store is None:
            the_store.dispose()

    app = FastAPI(title="cardbatch console", version=__version__, lifespan=lifespan,
                  description=API_DESCRIPTION)  # fmt: skip
    app.state.store = the_store
    app.state.settings = settings
    app.state.metrics = ConsoleMetrics(the_store)
    app.state.token_cache = TokenCache()
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(web_router)
    app.include_router(batch_pages_router)
    app.mount("/static", StaticFiles(directory=WEB_STATIC_DIR), name="static")
    app.add_api_route("/metrics", _metrics, include_in_schema=False)
    app.add_middleware(HotReads)  # inside ObserveMiddleware: logged and counted
    app.add_middleware(ObserveMiddleware)
    return app


def app_from_env() -> FastAPI:
    """The app for one worker process of ``cardbatch serve --workers N``."""
    from cardbatch.logs import configure_json_logging
    from cardbatch.store import DEFAULT_DB_URL

    configure_json_logging()
    url = os.environ.get("CARDBATCH_DB", DEFAULT_DB_URL)
    return create_app(ConsoleSettings.from_env(db_url=url))


async def _metrics(request: Request) -> Response:
    metrics: ConsoleMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)


class ObserveMiddleware:
    """Body limit, then one JSON log line and the metrics for every request (plain ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]  # fmt: skip
            await send(message)

        try:
            refusal = _refuse_body(scope)
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            _account(scope, status[0], time.perf_counter() - started, request_id)


def _refuse_body(scope: Scope) -> Response | None:
    settings: ConsoleSettings = scope["app"].state.settings
    length = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
    upload = "/upload" in scope["path"]
    limit = settings.upload_bytes_max if upload else settings.request_bytes_max
    if length and not length.isdigit():
        return errors.error_response(400, "bad Content-Length header")
    if length and int(length) > limit:
        return errors.error_response(413, f"request body over {limit} bytes")
    return None


def _account(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    template = getattr(scope.get("route"), "path", "unmatched")
    scope["app"].state.metrics.observe(scope["method"], template, status, seconds)
    log.info(
        "%s %s %s", scope["method"], scope["path"], status,
        extra={"request_id": request_id, "route": template, "status": status,
               "duration_ms": round(seconds * 1000, 2),
               "user": scope.get("state", {}).get("user"), "pid": os.getpid()},
    )  # fmt: skip
