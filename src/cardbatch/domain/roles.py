"""Roles, the actions each role may take (the role matrix, as data), and maker-checker.

The API, the web console and the CLI ask :func:`allowed` before acting; nothing
else decides who may do what. Areas that land later (runs, batches, rules,
segments, feedback) already have their actions here, so that their endpoints
only need to name the action they perform.

Personal data (resident IDs, card and account numbers, phones, names) is shown
unmasked only to roles holding ``personal_data.unmasked``: admin alone.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(StrEnum):
    """Everything a signed-in user can ask for; each endpoint names exactly one."""

    HEALTH_READ = "health.read"
    ME_READ = "me.read"
    ACCOUNTS_READ = "accounts.read"
    LEDGER_CHECK = "ledger.check"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    PERSONAL_DATA_UNMASKED = "personal_data.unmasked"
    RUNS_READ = "runs.read"
    RUNS_START = "runs.start"
    BATCHES_READ = "batches.read"
    BATCHES_SUBMIT = "batches.submit"
    BATCHES_APPROVE = "batches.approve"
    BATCHES_RUN = "batches.run"
    BATCHES_DOWNLOAD = "batches.download"  # return files: unmasked names and accounts
    RULES_READ = "rules.read"
    RULES_PROPOSE = "rules.propose"
    RULES_APPROVE = "rules.approve"
    SEGMENTS_READ = "segments.read"
    SEGMENTS_EDIT = "segments.edit"
    FEEDBACK_READ = "feedback.read"
    FEEDBACK_WRITE = "feedback.write"
    METRICS_READ = "metrics.read"


_O, _P, _A, _D = Role.OPERATOR, Role.APPROVER, Role.AUDITOR, Role.ADMIN
_EVERYONE = frozenset(Role)

# The role matrix: action -> roles allowed. Read down a column to see one role's powers.
ROLE_MATRIX: dict[Action, frozenset[Role]] = {
    Action.HEALTH_READ: _EVERYONE,
    Action.ME_READ: _EVERYONE,
    Action.METRICS_READ: _EVERYONE,
    Action.ACCOUNTS_READ: frozenset({_O, _P, _A, _D}),
    Action.LEDGER_CHECK: frozenset({_O, _A, _D}),
    Action.AUDIT_READ: frozenset({_A, _D}),
    Action.USERS_MANAGE: frozenset({_D}),
    Action.PERSONAL_DATA_UNMASKED: frozenset({_D}),
    Action.RUNS_READ: _EVERYONE,
    Action.RUNS_START: frozenset({_O, _D}),
    Action.BATCHES_READ: _EVERYONE,
    Action.BATCHES_SUBMIT: frozenset({_O, _D}),
    Action.BATCHES_APPROVE: frozenset({_P, _D}),
    Action.BATCHES_RUN: frozenset({_O, _D}),
    Action.BATCHES_DOWNLOAD: frozenset({_O, _D}),
    Action.RULES_READ: _EVERYONE,
    Action.RULES_PROPOSE: frozenset({_O, _D}),
    Action.RULES_APPROVE: frozenset({_P, _D}),
    Action.SEGMENTS_READ: _EVERYONE,
    Action.SEGMENTS_EDIT: frozenset({_O, _D}),
    Action.FEEDBACK_READ: _EVERYONE,
    Action.FEEDBACK_WRITE: frozenset({_O, _P, _D}),
}


class MakerCheckerViolation(PermissionError):
    """The person approving is the person who submitted."""


def allowed(role: Role, action: Action) -> bool:
    return role in ROLE_MATRIX[action]


def sees_personal_data(role: Role) -> bool:
    return allowed(role, Action.PERSONAL_DATA_UNMASKED)


def check_maker_checker(submitted_by: str, approver: str) -> None:
    """Nobody approves their own submission (names compared case-insensitively)."""
    if submitted_by.strip().casefold() == approver.strip().casefold():
        raise MakerCheckerViolation(
            f"{approver} submitted this and cannot also approve it; a second user must"
        )


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = "|".join(r.value for r in Role)
        raise ValueError(f"role must be one of {names}, not {text!r}") from None
