"""Who may approve: maker-checker and the approver role.

Until the console's users table (with roles) is on main, the approver role is
the setting ``CARDBATCH_APPROVERS``: a comma-separated list of user names
(the acting user comes from ``--as`` or ``CARDBATCH_USER``). With no list set,
nobody holds the role and every approval is refused with a clear message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

APPROVERS_SETTING = "CARDBATCH_APPROVERS"
_granted: set[str] = set()


class NotAllowed(PermissionError):
    """The acting user may not do this (role missing, or approving their own work)."""


def approvers() -> frozenset[str]:
    raw = os.environ.get(APPROVERS_SETTING, "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip()) | _granted


@contextmanager
def granted(*names: str) -> Iterator[None]:
    """Give ``names`` the approver role inside the block (the demo's own checker)."""
    added = set(names) - _granted
    _granted.update(added)
    try:
        yield
    finally:
        _granted.difference_update(added)


def require_approver(actor: str, maker: str, subject: str) -> None:
    """Refuse unless ``actor`` holds the approver role and is not the maker of ``subject``."""
    if actor == maker:
        raise NotAllowed(f"{subject} was made by {maker}; a different user must approve it")
    if actor not in approvers():
        raise NotAllowed(
            f"{actor} does not have the approver role (set {APPROVERS_SETTING} to the approvers)"
        )
