"""The console's settings, declared once: name, default, unit and help (docs/console.md lists them).

Each can be set by an environment variable ``CARDBATCH_<NAME>`` (upper case).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | bool
    unit: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("upload_bytes_max", 50 * 1024 * 1024, "bytes", "Largest upload accepted."),
    Setting("upload_rows_max", 1_000_000, "rows", "Most detail rows in one uploaded file."),
    Setting("request_bytes_max", 1024 * 1024, "bytes", "Largest non-upload request body."),
    Setting("page_rows_max", 1_000, "rows", "Most rows one list or history answer returns."),
    Setting("session_ttl_s", 8 * 3600, "seconds", "How long a web sign-in lasts."),
    Setting("cookie_secure", False, "flag", "Mark cookies Secure (set true behind HTTPS)."),
)


@dataclass(frozen=True)
class ConsoleSettings:
    db_url: str
    upload_bytes_max: int = 50 * 1024 * 1024
    upload_rows_max: int = 1_000_000
    request_bytes_max: int = 1024 * 1024
    page_rows_max: int = 1_000
    session_ttl_s: int = 8 * 3600
    cookie_secure: bool = False

    @classmethod
    def from_env(cls, db_url: str, env: dict[str, str] | None = None) -> ConsoleSettings:
        source = os.environ if env is None else env
        changes: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = source.get(f"CARDBATCH_{setting.name.upper()}")
            if raw is None:
                continue
            if isinstance(setting.default, bool):
                changes[setting.name] = raw.strip().lower() in ("1", "true", "yes")
            else:
                try:
                    changes[setting.name] = int(raw)
                except ValueError:
                    raise ValueError(
                        f"CARDBATCH_{setting.name.upper()} must be an integer"
                    ) from None
        return replace(cls(db_url=db_url), **changes)


def _check_defaults() -> None:
    declared = {f.name: f.default for f in fields(ConsoleSettings) if f.name != "db_url"}
    assert declared == {s.name: s.default for s in SETTINGS}, "SETTINGS and ConsoleSettings differ"


_check_defaults()
