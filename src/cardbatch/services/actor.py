"""Who acts: the user recorded on every state change.

Taken from ``--as NAME``, else ``CARDBATCH_USER``, else the operating-system
user. Approvals (maker-checker) compare these names.
"""

from __future__ import annotations

import getpass
import os
import re
from datetime import UTC, datetime

ACTOR_LEN_MAX = 64
_ACTOR_RE = re.compile(r"^[\w.@-]{1,64}$")


class ActorError(ValueError):
    """A user name that cannot be recorded."""


def resolve_actor(explicit: str | None = None) -> str:
    name = explicit or os.environ.get("CARDBATCH_USER") or _os_user()
    if not _ACTOR_RE.match(name):
        raise ActorError(f"user name must be 1..{ACTOR_LEN_MAX} letters, digits or ._@-: {name!r}")
    return name


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def utc_now() -> datetime:
    """The wall clock, for audit timestamps only; business logic uses the business date."""
    return datetime.now(UTC)
