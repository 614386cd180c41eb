"""Manual review: only a different user with the approver role; limits within the policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from cardbatch.applications.deciding import decide_batch
from cardbatch.applications.policies import approve_policy, load_policy
from cardbatch.applications.review import review, review_queue
from cardbatch.applications.roles import NotAllowed
from cardbatch.applications.service import ApplicationsError, DuplicateFile, submit
from cardbatch.services import users
from cardbatch.store import Store
from cardbatch.store.tables_apps import applications
from tests.integration.applications.conftest import (
    BUSINESS_DATE,
    CHECKER,
    INVALID,
    MAKER,
    POLICY_FILE,
)

FIXTURE = INVALID / "mixed_edge_cases_zh_headers.csv"


def _referred(bank: Store, tmp_path: Path) -> str:
    source = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, source)
    batch_id = submit(bank, source, BUSINESS_DATE, MAKER).batch_id
    decide_batch(bank, batch_id, BUSINESS_DATE, "operator")
    return f"{batch_id}-000004"  # line 4 scores 30: referred


def test_referred_application_is_in_the_queue_masked(bank: Store, tmp_path: Path) -> None:
    application_id = _referred(bank, tmp_path)
    queue = review_queue(bank)
    assert [q.application_id for q in queue] == [application_id]
    assert queue[0].name_masked == "王**" and queue[0].id_number_masked == "110105********0133"


def test_maker_cannot_review_and_non_approver_cannot_review(bank: Store, tmp_path: Path) -> None:
    application_id = _referred(bank, tmp_path)
    with pytest.raises(NotAllowed, match="different user"):
        review(bank, application_id, MAKER, approve=True, limit_fen=800_000)
    with pytest.raises(NotAllowed, match="approver role"):
        review(bank, application_id, "someone", approve=True, limit_fen=800_000)


def test_approver_approves_with_limit_then_it_is_no_longer_referred(
    bank: Store, tmp_path: Path
) -> None:
    application_id = _referred(bank, tmp_path)
    with pytest.raises(ApplicationsError, match="largest limit"):
        review(bank, application_id, CHECKER, approve=True, limit_fen=20_000_000)
    assert review(bank, application_id, CHECKER, approve=True, limit_fen=800_000) == "approved"
    with bank.read() as conn:
        row = conn.execute(
            select(applications).where(applications.c.application_id == application_id)
        ).one()
    assert (row.credit_limit_fen, row.reviewed_by, row.reason_codes) == (
        800_000,
        CHECKER,
        "manual_approve",
    )
    with pytest.raises(ApplicationsError, match="not referred"):
        review(bank, application_id, CHECKER, approve=False, reason="income_unverified")


def test_decline_needs_a_reason_code(bank: Store, tmp_path: Path) -> None:
    application_id = _referred(bank, tmp_path)
    with pytest.raises(ApplicationsError, match="needs --decline"):
        review(bank, application_id, CHECKER, approve=False, reason="Bad Reason!")
    assert review(bank, application_id, CHECKER, approve=False, reason="income_unverified") == (
        "declined"
    )


def test_same_file_twice_is_refused(bank: Store, tmp_path: Path) -> None:
    source = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, source)
    first = submit(bank, source, BUSINESS_DATE, MAKER)
    with pytest.raises(DuplicateFile) as info:
        submit(bank, source, BUSINESS_DATE, MAKER)
    assert info.value.batch_id == first.batch_id


def test_policy_needs_a_different_approver_and_pending_is_not_in_force(
    bank: Store, tmp_path: Path
) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8").replace(
        "limit_max_fen = 10000000", "limit_max_fen = 20000000"
    )
    version = load_policy(bank, text, "v2", BUSINESS_DATE, MAKER)
    assert version.status == "pending" and version.version == 2
    with pytest.raises(NotAllowed):
        approve_policy(bank, version.policy_id, MAKER)
    application_id = _referred(bank, tmp_path)  # decided with version 1, still in force
    with bank.read() as conn:
        policy_id = conn.execute(
            select(applications.c.policy_id).where(applications.c.application_id == application_id)
        ).scalar_one()
    assert policy_id != version.policy_id
    assert approve_policy(bank, version.policy_id, CHECKER).status == "approved"


def test_the_users_table_gives_the_approver_role(bank: Store, tmp_path: Path) -> None:
    """A console user with role approver approves; an operator does not."""
    users.add_user(bank, "zhao.li", "approver", actor="root")
    users.add_user(bank, "qian.yu", "operator", actor="root")
    application_id = _referred(bank, tmp_path)
    with pytest.raises(NotAllowed, match="approver role"):
        review(bank, application_id, "qian.yu", approve=True, limit_fen=800_000)
    assert review(bank, application_id, "zhao.li", approve=True, limit_fen=800_000) == "approved"
