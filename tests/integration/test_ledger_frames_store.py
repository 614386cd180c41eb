"""Columnar posting on a real store (SQLite and PostgreSQL), held to ``post_entries``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from cardbatch.domain.ledger import (
    GL,
    Component,
    IdempotencyConflict,
    JournalEntry,
    Posting,
    UnbalancedEntry,
    transfer,
)
from cardbatch.store import Store
from cardbatch.store.ledger_frames import frames_of, post_frames
from cardbatch.store.ledger_repo import PostResult, check_ledger, post_entries

DAY = date(2026, 3, 5)
NOW = datetime(2026, 3, 5, 22, 0, 0, 123456, tzinfo=UTC)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=30)  # fmt: skip


class _Rollback(Exception):
    """Raised to undo a write after its tables were read."""


def tables(conn: Connection, tag: str) -> dict[str, list[Any]]:
    """This example's ledger rows; entry ids are replaced by keys (sequences do not roll back)."""
    like = {"k": f"{tag}%", "a": f"%{tag}"}
    return {
        "entries": conn.execute(text(
            "SELECT idempotency_key, content_hash, business_date, kind, description, "
            "reference_key, run_id, actor, created_at FROM journal_entries "
            "WHERE idempotency_key LIKE :k ORDER BY entry_id"), like).all(),
        "postings": conn.execute(text(
            "SELECT je.idempotency_key, p.account_id, p.component, p.amount_fen FROM postings p "
            "JOIN journal_entries je ON je.entry_id = p.entry_id "
            "WHERE je.idempotency_key LIKE :k ORDER BY p.posting_id"), like).all(),
        "balances": conn.execute(text(
            "SELECT account_id, component, balance_fen FROM balances WHERE account_id LIKE :a "
            "ORDER BY account_id, component"), like).all(),
    }  # fmt: skip


Post = Callable[[Connection], PostResult]


def outcome(store: Store, tag: str, post: Post) -> tuple[Any, ...]:
    """What a post does (result or error type, and the tables), then undone."""
    try:
        with store.write() as conn:
            try:
                result = post(conn)
            except (IdempotencyConflict, UnbalancedEntry) as exc:
                return (type(exc), tables(conn, tag))
            shown = (result.written, result.replayed, result.postings_written,
                     sorted(result.entry_ids))  # fmt: skip
            snapshot = (shown, tables(conn, tag))
            raise _Rollback
    except _Rollback:
        return snapshot


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Entry specs posted before, and a batch that replays, changes or adds to them."""

    def spec(n: int) -> tuple[Any, ...]:
        legs = [(draw(st.sampled_from(("C1", "C2", "D1", "D2"))), draw(st.sampled_from(
            list(Component))), draw(st.integers(-(10**12), 10**12).filter(bool)))
            for _ in range(draw(st.integers(1, 3)))]  # fmt: skip
        total = sum(leg[2] for leg in legs) or 1
        legs.append(("G1", "balance", -total))
        if total == 1 and sum(leg[2] for leg in legs[:-1]) == 0:
            legs.insert(0, ("C1", "fee", 1))
        return (f"e{n}", draw(st.dates(date(1990, 1, 1), date(2100, 1, 1))),
                draw(st.sampled_from(("payroll", "purchase", "x"))), draw(TEXT),
                draw(st.none() | TEXT), draw(st.none() | TEXT), legs)  # fmt: skip

    before = [spec(n) for n in range(draw(st.integers(0, 6)))]
    batch = [s for s in before if draw(st.booleans())]
    if batch and draw(st.integers(0, 4)) == 0:  # sometimes a replay with other content
        key, *rest, legs = batch[0]
        batch[0] = (key, *rest, [(a, c, -x) for a, c, x in legs])
    batch += [spec(n) for n in range(len(before), len(before) + draw(st.integers(0, 6)))]
    return before, batch


def build(tag: str, specs: list[tuple[Any, ...]]) -> list[JournalEntry]:
    return [
        JournalEntry(f"{tag}:{key}", day, kind,
                     tuple(Posting(f"{a}-{tag}", c, x) for a, c, x in legs),
                     description=description, reference_key=reference, run_id=run_id)
        for key, day, kind, description, reference, run_id, legs in specs
    ]  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=batches())
def test_post_frames_leaves_the_tables_post_entries_leaves(
    store: Store, case: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]
) -> None:
    """From the same ledger, the same batch gives the same rows, results and refusals."""
    tag = uuid.uuid4().hex[:8]
    before, batch = case
    with store.write() as conn:
        post_entries(conn, build(tag, before), actor="prop", now=NOW)
    entries = build(tag, batch)
    by_objects = outcome(store, tag, lambda c: post_entries(c, entries, actor="op", now=NOW))
    frames = frames_of(entries)
    by_frames = outcome(store, tag, lambda c: post_frames(c, *frames, actor="op", now=NOW))
    assert by_frames == by_objects


def purchase(key: str, account: str, amount_fen: int) -> JournalEntry:
    return transfer(key, DAY, "purchase", (account, Component.PURCHASE),
                    (GL.CARD_SETTLEMENT, Component.BALANCE), amount_fen)  # fmt: skip


def test_entries_posted_by_frames_replay_through_entry_objects(store: Store) -> None:
    entries = [purchase(f"f{i}", f"CA{i % 7}", 100 + i) for i in range(300)]
    with store.write() as conn:
        first = post_frames(conn, *frames_of(entries), actor="amy", now=NOW)
    assert (first.written, first.replayed, first.postings_written) == (300, 0, 600)
    with store.write() as conn:
        again = post_entries(conn, entries, actor="bob", now=NOW)
        frames_again = post_frames(conn, *frames_of(entries), actor="bob", now=NOW)
    assert (again.written, again.replayed) == (0, 300)
    assert (frames_again.written, frames_again.replayed) == (0, 300)
    assert again.entry_ids == first.entry_ids == frames_again.entry_ids
    with store.read() as conn:
        check = check_ledger(conn)
    assert check.balanced and check.journal_entries == 300
    assert check.debits_fen == sum(100 + i for i in range(300))


def test_changed_replay_is_refused_and_nothing_is_written(store: Store) -> None:
    with store.write() as conn:
        post_entries(conn, [purchase("dup", "CA1", 100)], actor="amy", now=NOW)
    entry_frame, posting_frame = frames_of([purchase("new", "CA2", 5), purchase("dup", "CA1", 101)])
    conflict = pytest.raises(IdempotencyConflict, match="dup already posted with different")
    with conflict, store.write() as conn:
        post_frames(conn, entry_frame, posting_frame, actor="amy", now=NOW)
    with store.read() as conn:
        keys = conn.execute(text("SELECT idempotency_key FROM journal_entries")).scalars().all()
    assert keys == ["dup"]


def test_an_unbalanced_entry_refuses_the_whole_call(store: Store) -> None:
    entry_frame, posting_frame = frames_of([purchase(f"u{i}", "CA1", 100) for i in range(500)])
    skewed = posting_frame.with_columns(
        amount_fen=pl.when((pl.col("idempotency_key") == "u250") & (pl.col("amount_fen") > 0))
        .then(99)
        .otherwise(pl.col("amount_fen"))
    )
    refused = pytest.raises(UnbalancedEntry, match=r"entry u250 does not balance: .* = -1 fen")
    with refused, store.write() as conn:
        post_frames(conn, entry_frame, skewed, actor="amy", now=NOW)
    with store.read() as conn:
        assert check_ledger(conn).journal_entries == 0


def test_bulk_path_merges_balance_deltas_once_per_account(store: Store) -> None:
    """3,000 entries take the bulk path (COPY on PostgreSQL); balances are exact."""
    entries = [purchase(f"b{i}", f"CA{i % 97}", 1 + i) for i in range(3000)]
    with store.write() as conn:
        post_entries(conn, [purchase("seed", "CA5", 7)], actor="amy", now=NOW)
        post_frames(conn, *frames_of(entries), actor="amy", now=NOW)
    with store.read() as conn:
        check = check_ledger(conn)
        ca5 = conn.execute(
            text("SELECT balance_fen FROM balances WHERE account_id = 'CA5'")
        ).scalar_one()
    assert check.balanced and check.postings == 6002
    assert ca5 == 7 + sum(1 + i for i in range(3000) if i % 97 == 5)
