"""JSON answers written straight from the service's dataclasses, for the hot read endpoints.

FastAPI's ``jsonable_encoder`` walks every value twice (once in the endpoint, once on
the way out); for an account answer that was a fifth of the request's CPU. Here a
dataclass becomes a dict once (``dataclasses.asdict``) and ``json.dumps`` writes it,
dates and datetimes as ISO 8601 as ``jsonable_encoder`` does; the bytes go out as
they are.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

from fastapi.responses import Response


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(value: Any) -> bytes:
    """``value`` (a dataclass, or dicts and lists of plain values) as compact UTF-8 JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                      default=_iso)  # fmt: skip
    return text.encode("utf-8")


def json_answer(value: Any) -> Response:
    return Response(json_bytes(value), media_type="application/json")
