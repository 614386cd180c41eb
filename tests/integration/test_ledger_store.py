"""The ledger on a real store (SQLite and PostgreSQL): posting, idempotency, checks, history."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from cardbatch.domain.ledger import (
    GL,
    Component,
    IdempotencyConflict,
    JournalEntry,
    Posting,
    UnbalancedEntry,
    transfer,
)
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.ledger_repo import check_ledger, post_entries
from cardbatch.store.tables import balances, journal_entries, postings

DAY = date(2026, 3, 5)
NOW = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)


def snapshot(store: Store) -> dict[str, list[Any]]:
    """Every ledger row, for comparing a store before and after."""
    with store.read() as conn:
        return {
            "entries": conn.execute(
                select(
                    journal_entries.c.entry_id,
                    journal_entries.c.idempotency_key,
                    journal_entries.c.content_hash,
                ).order_by(journal_entries.c.entry_id)
            ).all(),
            "postings": conn.execute(
                select(
                    postings.c.entry_id,
                    postings.c.account_id,
                    postings.c.component,
                    postings.c.amount_fen,
                ).order_by(postings.c.posting_id)
            ).all(),
            "balances": conn.execute(
                select(balances).order_by(balances.c.account_id, balances.c.component)
            ).all(),
        }


def purchase(key: str, account: str, amount_fen: int) -> JournalEntry:
    return transfer(
        key,
        DAY,
        "purchase",
        (account, Component.PURCHASE),
        (GL.CARD_SETTLEMENT, Component.BALANCE),
        amount_fen,
    )


def test_post_updates_balances_in_the_same_transaction(store: Store) -> None:
    result = ledger.post(
        store, [purchase("k1", "CA1", 100_00), purchase("k2", "CA1", 50_25)], "amy"
    )
    assert (result.written, result.replayed, result.postings_written) == (2, 0, 4)
    with store.read() as conn:
        rows = dict(conn.execute(select(balances.c.account_id, balances.c.balance_fen)).all())
        actor = conn.execute(select(journal_entries.c.actor)).scalars().first()
    assert rows == {"CA1": 150_25, GL.CARD_SETTLEMENT.value: -150_25}
    assert actor == "amy"
    assert ledger.check(store).balanced


def test_replaying_the_same_entries_changes_nothing(store: Store) -> None:
    entries = [purchase(f"r{i}", f"CA{i % 3}", 1_00 + i) for i in range(50)]
    first = ledger.post(store, entries, "amy")
    before = snapshot(store)
    again = ledger.post(store, entries, "bob")
    assert snapshot(store) == before
    assert (again.written, again.replayed) == (0, 50)
    assert again.entry_ids == first.entry_ids  # the first result is returned


def test_same_key_with_other_content_is_refused_and_nothing_is_written(store: Store) -> None:
    ledger.post(store, [purchase("dup", "CA1", 100)], "amy")
    before = snapshot(store)
    with pytest.raises(IdempotencyConflict, match="dup"):
        ledger.post(store, [purchase("new", "CA2", 5), purchase("dup", "CA1", 101)], "amy")
    assert snapshot(store) == before


def test_same_key_twice_in_one_batch_with_other_content_is_refused(store: Store) -> None:
    with pytest.raises(IdempotencyConflict, match="twice"):
        ledger.post(store, [purchase("x", "CA1", 100), purchase("x", "CA1", 200)], "amy")
    assert snapshot(store)["entries"] == []


def test_unbalanced_entry_is_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(UnbalancedEntry, match="does not balance"):
        JournalEntry(
            "bad",
            DAY,
            "purchase",
            (Posting("CA1", "purchase", 100), Posting(GL.CARD_SETTLEMENT, "balance", -99)),
        )
    assert snapshot(store)["entries"] == []


def test_bulk_path_posts_thousands_of_entries(store: Store) -> None:
    """Large batches take the bulk path (COPY on PostgreSQL) and stay exact."""
    entries = [purchase(f"bulk{i}", f"CA{i % 97}", 1 + i) for i in range(3000)]
    result = ledger.post(store, entries, "amy")
    assert result.written == 3000
    check = ledger.check(store)
    assert check.balanced and check.postings == 6000
    assert check.debits_fen == sum(1 + i for i in range(3000))


def test_ledger_check_finds_tampering(store: Store) -> None:
    ledger.post(store, [purchase("t1", "CA1", 100)], "amy")
    with store.write() as conn:
        conn.execute(
            text("UPDATE balances SET balance_fen = balance_fen + 1 WHERE account_id='CA1'")
        )
        conn.execute(text("UPDATE postings SET amount_fen = 99 WHERE amount_fen = 100"))
    check = ledger.check(store)
    assert not check.balanced
    assert check.debits_fen == 99 and check.credits_fen == 100
    by_kind = {m["kind"]: m for m in check.mismatches}
    assert sorted(by_kind) == ["balance_mismatch", "unbalanced_entry"]
    assert by_kind["unbalanced_entry"]["sum_fen"] == -1
    assert by_kind["balance_mismatch"] == {
        "kind": "balance_mismatch",
        "account_id": "CA1",
        "component": "purchase",
        "postings_sum_fen": 99,
        "balance_fen": 101,
    }


# ----------------------------------------------------------------------------- properties

ACCOUNTS = ("CA1", "CA2", "CA3", "D1", GL.CARD_SETTLEMENT.value, GL.INTEREST_INCOME.value)
COMPONENTS = ("purchase", "cash", "interest", "balance")


@st.composite
def entries_strategy(draw: st.DrawFn) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """Random balanced entries: a few random legs and one leg that balances them."""
    result = []
    for _ in range(draw(st.integers(1, 25))):
        legs = [
            (
                draw(st.sampled_from(ACCOUNTS)),
                draw(st.sampled_from(COMPONENTS)),
                draw(st.integers(-(10**9), 10**9).filter(bool)),
            )
            for _ in range(draw(st.integers(1, 4)))
        ]
        total = sum(leg[2] for leg in legs)
        if total == 0:
            legs.append((ACCOUNTS[0], "fee", 1))
            total = 1
        legs.append((draw(st.sampled_from(ACCOUNTS)), draw(st.sampled_from(COMPONENTS)), -total))
        result.append((f"e{len(result)}", legs))
    return result


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=entries_strategy(), split=st.integers(1, 10), replay=st.booleans())
def test_balances_always_equal_the_sum_of_postings(
    store: Store, spec: list[tuple[str, list[tuple[str, str, int]]]], split: int, replay: bool
) -> None:
    """Random journal entries in random batches, some replayed: the ledger stays sound."""
    tag = uuid.uuid4().hex[:8]  # this example's own accounts and keys

    def account(name: str) -> str:
        return f"{name}-{tag}"

    entries = [
        JournalEntry(
            f"{tag}:{key}", DAY, "test", tuple(Posting(account(a), c, amt) for a, c, amt in legs)
        )
        for key, legs in spec
    ]
    batches = [entries[i : i + split] for i in range(0, len(entries), split)]
    if replay:
        batches.append(entries[: split + 1])
    for batch in batches:
        with store.write() as conn:
            post_entries(conn, batch, actor="prop", now=NOW)
    expected: dict[tuple[str, str], int] = {}
    for entry in entries:
        for p in entry.postings:
            expected[(p.account_id, p.component)] = (
                expected.get((p.account_id, p.component), 0) + p.amount_fen
            )
    with store.read() as conn:
        stored = {
            (a, c): b
            for a, c, b in conn.execute(
                select(balances).where(balances.c.account_id.like(f"%-{tag}"))
            )
        }
        check = check_ledger(conn)
    assert stored == expected
    assert check.balanced and check.debits_fen == check.credits_fen
