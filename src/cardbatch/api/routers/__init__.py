"""One router per area; ``ROUTERS`` is the list the app includes, in order.

To add an area (runs detail, batches, rules, segments, feedback): write
``routers/<area>.py`` with ``router = APIRouter(prefix="/api/<area>", tags=["<area>"])``,
give each endpoint ``Depends(require(Action.X))``, and add it below. The
endpoint-by-role test then covers it by itself (it walks the OpenAPI schema).
"""

from fastapi import APIRouter

from cardbatch.api.routers import (
    accounts,
    audit,
    batches,
    health,
    ledger,
    me,
    rules,
    runs,
    segments,
    users,
)

ROUTERS: list[APIRouter] = [
    health.router,
    me.router,
    accounts.router,
    ledger.router,
    audit.router,
    users.router,
    runs.router,
    batches.router,
    rules.router,
    segments.router,
]
