"""Who may approve applications, decision policies and limit changes: maker-checker and the role.

A user holds the approver role when the console's users table gives them the
role ``approver`` or ``admin`` (``cardbatch users add NAME --role approver``)
and they are not disabled. The setting ``CARDBATCH_APPROVERS`` (user names,
comma-separated) adds approvers for sites that run the CLI without console
users. The acting user comes from ``--as`` or ``CARDBATCH_USER``. Nobody
approves their own work, whatever their role.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from cardbatch.domain.roles import Role
from cardbatch.store import users_repo

APPROVERS_SETTING = "CARDBATCH_APPROVERS"
APPROVING_ROLES = frozenset({Role.APPROVER.value, Role.ADMIN.value})
_granted: set[str] = set()


class NotAllowed(PermissionError):
    """The acting user may not do this (role missing, or approving their own work)."""


def approvers() -> frozenset[str]:
    """The names the setting (and :func:`granted`) make approvers, besides the users table."""
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


def holds_approver_role(conn: Connection, actor: str) -> bool:
    """True when ``actor`` is an approver by the users table or by the setting."""
    if actor in approvers():
        return True
    row = users_repo.user_by_name(conn, actor)
    return row is not None and row.disabled_at is None and row.role in APPROVING_ROLES


def require_approver(conn: Connection, actor: str, maker: str, subject: str) -> None:
    """Refuse unless ``actor`` holds the approver role and is not the maker of ``subject``."""
    if actor == maker:
        raise NotAllowed(f"{subject} was made by {maker}; a different user must approve it")
    if not holds_approver_role(conn, actor):
        raise NotAllowed(
            f"{actor} does not have the approver role (cardbatch users add {actor} "
            f"--role approver, or list them in {APPROVERS_SETTING})"
        )
