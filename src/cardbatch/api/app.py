"""Building the FastAPI application: store, routers, web console, metrics, logs, limits."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from cardbatch import __version__
from cardbatch.api import errors
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
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=WEB_STATIC_DIR), name="static")
    app.add_api_route("/metrics", _metrics, include_in_schema=False)
    app.middleware("http")(_observe)
    return app


async def _metrics(request: Request) -> Response:
    metrics: ConsoleMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)


async def _observe(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Body limit, then one JSON log line and the metrics for every request."""
    started = time.perf_counter()
    settings: ConsoleSettings = request.app.state.settings
    request_id = uuid.uuid4().hex[:16]
    length = request.headers.get("content-length", "")
    limit = (
        settings.upload_bytes_max if "/upload" in request.url.path else settings.request_bytes_max
    )
    if length.isdigit() and int(length) > limit:
        response: Response = errors.error_response(413, f"request body over {limit} bytes")
    elif length and not length.isdigit():
        response = errors.error_response(400, "bad Content-Length header")
    else:
        response = await call_next(request)
    seconds = time.perf_counter() - started
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    request.app.state.metrics.observe(request.method, template, response.status_code, seconds)
    log.info(
        "%s %s %s", request.method, request.url.path, response.status_code,
        extra={"request_id": request_id, "route": template, "status": response.status_code,
               "duration_ms": round(seconds * 1000, 2),
               "user": getattr(request.state, "user", None)},
    )  # fmt: skip
    response.headers["X-Request-Id"] = request_id
    return response
