"""Limit changes: proposed as a batch, applied only after approval, reversible as a batch."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from cardbatch.actions import limit_service
from cardbatch.actions.limit_service import LimitChangeError
from cardbatch.actions.targets import account_ids_from, targets_from_segment
from cardbatch.applications.roles import NotAllowed
from cardbatch.domain.records import CardAccount, CardStatus, Customer
from cardbatch.segments.service import define_segment
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.parties_repo import insert_card_accounts, insert_customers
from cardbatch.store.tables import card_accounts

DAY = date(2026, 3, 15)
RULE = "+20% cap 50000"
LIMITS_FEN = {"LA1": 1_000_000, "LA2": 4_500_000, "LA3": 5_000_000, "LA4": 2_000_000}


@pytest.fixture(autouse=True)
def approvers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARDBATCH_APPROVERS", "checker")


@pytest.fixture
def accounts(store: Store) -> Store:
    now = utc_now()
    with store.write() as conn:
        insert_customers(
            conn, [Customer("K1", "赵六", "11010519491231002X", None, None, None)], "seed", now
        )
        insert_card_accounts(
            conn,
            [
                CardAccount(
                    a,
                    "K1",
                    "standard",
                    f"62258800000000{i}{i}",
                    limit_fen,
                    5,
                    status=CardStatus.FROZEN if a == "LA4" else CardStatus.ACTIVE,
                )
                for i, (a, limit_fen) in enumerate(LIMITS_FEN.items(), start=1)
            ],
            "seed",
            now,
        )
    return store


def _limits(store: Store) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(select(card_accounts.c.account_id, card_accounts.c.credit_limit_fen))
        return {r.account_id: r.credit_limit_fen for r in rows}


def test_proposal_changes_nothing_until_approved_then_applies_and_reverts(
    accounts: Store,
) -> None:
    ids = account_ids_from([{"account_id": "LA1"}, "LA2", "LA3", "LA4", "NOPE", "LA1"])
    batch = limit_service.propose(accounts, ids, RULE, DAY, "maker")
    assert [(i.account_id, i.after_fen, i.status, i.reason) for i in batch.items] == [
        ("LA1", 1_200_000, "proposed", ""),
        ("LA2", 5_000_000, "proposed", ""),  # 54,000 capped at 50,000
        ("LA3", 5_000_000, "skipped", "no_change"),  # already at the cap
        ("LA4", 2_000_000, "skipped", "status_frozen"),
        ("NOPE", 0, "skipped", "not_found"),
    ]
    assert _limits(accounts) == LIMITS_FEN
    with pytest.raises(LimitChangeError, match="only an approved batch"):
        limit_service.apply(accounts, batch.batch_id, "maker")
    with pytest.raises(NotAllowed, match="different user"):
        limit_service.approve(accounts, batch.batch_id, "maker")
    with pytest.raises(NotAllowed, match="approver role"):
        limit_service.approve(accounts, batch.batch_id, "intern")
    assert _limits(accounts) == LIMITS_FEN
    limit_service.approve(accounts, batch.batch_id, "checker")
    applied = limit_service.apply(accounts, batch.batch_id, "operator", chunk_items=1)
    assert applied.status == "applied" and applied.by_status["applied"] == 2
    assert _limits(accounts) == {**LIMITS_FEN, "LA1": 1_200_000, "LA2": 5_000_000}
    reverted = limit_service.revert(accounts, batch.batch_id, "checker")
    assert reverted.status == "reverted" and reverted.by_status["reverted"] == 2
    assert _limits(accounts) == LIMITS_FEN
    with pytest.raises(LimitChangeError):
        limit_service.revert(accounts, batch.batch_id, "checker")


def test_account_changed_meanwhile_is_a_conflict_not_an_overwrite(accounts: Store) -> None:
    batch = limit_service.propose(accounts, ["LA1", "LA2"], "+1000", DAY, "maker")
    limit_service.approve(accounts, batch.batch_id, "checker")
    with accounts.write() as conn:
        conn.execute(
            update(card_accounts)
            .where(card_accounts.c.account_id == "LA1")
            .values(credit_limit_fen=777_700)
        )
    applied = limit_service.apply(accounts, batch.batch_id, "operator")
    assert {i.account_id: (i.status, i.reason) for i in applied.items} == {
        "LA1": ("conflict", "limit_changed_since_proposal"),
        "LA2": ("applied", ""),
    }
    assert _limits(accounts)["LA1"] == 777_700 and _limits(accounts)["LA2"] == 4_600_000


def test_proposing_the_same_again_returns_the_same_batch_and_dry_run_stores_nothing(
    accounts: Store,
) -> None:
    dry = limit_service.propose(accounts, ["LA1"], "-10%", DAY, "maker", dry_run=True)
    assert dry.status == "dry_run" and dry.items[0].after_fen == 900_000
    assert limit_service.list_batches(accounts) == []
    first = limit_service.propose(accounts, ["LA1"], "-10%", DAY, "maker")
    second = limit_service.propose(accounts, ["LA1"], "-10%", DAY, "maker")
    assert first.batch_id == second.batch_id and len(limit_service.list_batches(accounts)) == 1


def test_targets_from_a_named_segment(accounts: Store) -> None:
    with accounts.write() as conn:
        define_segment(
            conn, "small_limits", 'credit_limit_fen < 4000000 and status = "active"', [], "analyst"
        )
    with accounts.read() as conn:
        targets = targets_from_segment(conn, "small_limits", DAY)
    assert [(t.account_id, t.dpd) for t in targets] == [("LA1", 0)]
    batch = limit_service.propose(accounts, [t.account_id for t in targets], RULE, DAY, "maker")
    assert [(i.account_id, i.after_fen) for i in batch.items] == [("LA1", 1_200_000)]
