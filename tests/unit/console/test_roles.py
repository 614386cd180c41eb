"""The role matrix and maker-checker."""

from __future__ import annotations

import re

import pytest

from cardbatch.domain.roles import (
    ROLE_MATRIX,
    Action,
    MakerCheckerViolation,
    Role,
    allowed,
    check_maker_checker,
    parse_role,
    sees_personal_data,
)


def test_every_action_has_a_row_and_admin_may_do_everything() -> None:
    assert set(ROLE_MATRIX) == set(Action)
    assert all(allowed(Role.ADMIN, action) for action in Action)


def test_separation_of_duties() -> None:
    assert allowed(Role.OPERATOR, Action.BATCHES_SUBMIT)
    assert not allowed(Role.OPERATOR, Action.BATCHES_APPROVE)
    assert allowed(Role.APPROVER, Action.BATCHES_APPROVE)
    assert not allowed(Role.APPROVER, Action.BATCHES_SUBMIT)
    assert not allowed(Role.OPERATOR, Action.RULES_APPROVE)
    assert allowed(Role.AUDITOR, Action.AUDIT_READ)
    assert not any(allowed(r, Action.AUDIT_READ) for r in (Role.OPERATOR, Role.APPROVER))
    assert [r for r in Role if sees_personal_data(r)] == [Role.ADMIN]


@pytest.mark.parametrize(("maker", "checker"), [("li.lei", "li.lei"), ("Li.Lei", " li.lei ")])
def test_nobody_approves_their_own_submission(maker: str, checker: str) -> None:
    with pytest.raises(MakerCheckerViolation, match="second user"):
        check_maker_checker(maker, checker)


def test_a_second_user_may_approve() -> None:
    check_maker_checker("li.lei", "han.mei")


def test_parse_role() -> None:
    assert parse_role(" Auditor ") is Role.AUDITOR
    with pytest.raises(ValueError, match=re.escape("operator|approver|auditor|admin")):
        parse_role("root")
