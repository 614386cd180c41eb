"""Structured logs: one JSON object per line, the run id on every line, personal data masked.

``bind_run(run_id)`` puts a run id in context; every line logged inside it (in
the same thread or task) carries ``run_id``. A ``run_id`` passed in ``extra``
wins. Every string value goes through :func:`~cardbatch.domain.redact.redact_text`,
so a resident ID, card/account number or phone that reaches a log is masked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

from cardbatch.domain.redact import redact_text

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("run_id", default=None)

# Attributes every LogRecord has; anything else came from ``extra=`` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName",
}  # fmt: skip


@contextmanager
def bind_run(run_id: str) -> Iterator[None]:
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


def current_run_id() -> str | None:
    return _run_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, run_id (when known), extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        run_id = getattr(record, "run_id", None) or _run_id.get()
        if run_id:
            doc["run_id"] = run_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "run_id":
                doc[key] = value
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info)
        return redact_text(json.dumps(_scrub(doc), ensure_ascii=False, default=str))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def configure_json_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send cardbatch's and uvicorn's logs to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
