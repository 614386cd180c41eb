"""Columnar ledger checks and hashes without a database: the same answers as the entry objects."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardbatch.domain.ledger import (
    POSTINGS_PER_ENTRY_MAX,
    Component,
    IdempotencyConflict,
    JournalEntry,
    LedgerError,
    Posting,
    UnbalancedEntry,
    transfer,
)
from cardbatch.money import AMOUNT_FEN_MAX
from cardbatch.store.ledger_frames import (
    ENTRY_SCHEMA,
    POSTING_SCHEMA,
    conform,
    content_hashes,
    frames_of,
    validate_frames,
)

DAY = date(2026, 3, 5)
# Any text polars and PostgreSQL can hold: no surrogates, no NUL.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@st.composite
def journal_entries(draw: st.DrawFn) -> list[JournalEntry]:
    """Balanced entries with random text, dates, components and amounts (keys unique)."""
    keys = draw(st.lists(TEXT.filter(lambda k: 0 < len(k) <= 200), min_size=1, max_size=8,
                         unique=True))  # fmt: skip
    accounts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                       min_size=1, max_size=40)  # fmt: skip
    out = []
    for key in keys:
        legs = [
            Posting(draw(accounts), draw(st.sampled_from(list(Component))),
                    draw(st.integers(-AMOUNT_FEN_MAX, AMOUNT_FEN_MAX).filter(bool)))
            for _ in range(draw(st.integers(1, 5)))
        ]  # fmt: skip
        total = sum(p.amount_fen for p in legs)
        if total == 0 or abs(total) > AMOUNT_FEN_MAX:
            legs = legs[:1]
            total = legs[0].amount_fen
        legs.append(Posting(draw(accounts), draw(st.sampled_from(list(Component))), -total))
        out.append(
            JournalEntry(key, draw(st.dates()), draw(TEXT.filter(bool)), tuple(legs),
                         description=draw(TEXT), reference_key=draw(st.none() | TEXT),
                         run_id=draw(st.none() | TEXT), source=draw(st.just("") | TEXT))
        )  # fmt: skip
    return out


@given(entries=journal_entries())
def test_vectorised_hash_equals_the_entry_objects_hash(entries: list[JournalEntry]) -> None:
    entry_frame, posting_frame = frames_of(entries)
    shuffled = posting_frame.reverse()  # the order of postings must not matter
    assert content_hashes(entry_frame, shuffled) == [e.content_hash for e in entries]
    validate_frames(entry_frame, posting_frame)  # what the objects accept, the frames accept


def frames(legs: dict[str, list[tuple[str, str, int]]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    entry_frame = pl.DataFrame(
        {"idempotency_key": list(legs), "business_date": [DAY] * len(legs),
         "kind": ["payroll"] * len(legs), "description": [""] * len(legs),
         "reference_key": [None] * len(legs), "run_id": [None] * len(legs),
         "source": [None] * len(legs)},
        schema=ENTRY_SCHEMA,
    )  # fmt: skip
    posting_frame = pl.DataFrame(
        [(key, a, c, amount) for key, rows in legs.items() for a, c, amount in rows],
        schema=POSTING_SCHEMA,
        orient="row",
    )
    return entry_frame, posting_frame


def pair(amount_fen: int, other_fen: int | None = None) -> list[tuple[str, str, int]]:
    return [("D1", "balance", amount_fen), ("D2", "balance", -amount_fen if other_fen is None
                                                   else other_fen)]  # fmt: skip


@pytest.mark.parametrize(
    ("legs", "error", "message"),
    [
        ({"ok": pair(5), "k7": pair(100, -99)}, UnbalancedEntry,
         "entry k7 does not balance: debits - credits = 1 fen"),
        ({"k1": [("D1", "balance", 5)]}, LedgerError, "'k1' needs 2..64 postings"),
        ({"k1": [("D1", "balance", 1)] * (POSTINGS_PER_ENTRY_MAX + 1)}, LedgerError,
         "'k1' needs 2..64 postings"),
        ({"k1": [("D1", "balance", 0), ("D2", "balance", 0)]}, LedgerError,
         "'k1' has a zero posting"),
        ({"k1": pair(AMOUNT_FEN_MAX + 1)}, LedgerError, "'k1' has an amount out of range"),
        ({"k1": [("D1", "savings", 5), ("D2", "balance", -5)]}, LedgerError,
         "'k1' has a posting on an unknown component.*'savings'"),
        ({"k1": [("", "balance", 5), ("D2", "balance", -5)]}, LedgerError,
         "'k1' has an account id that is not 1..40 chars"),
        ({"": pair(5)}, LedgerError, "idempotency key must be 1..200 chars"),
        ({"k" * 201: pair(5)}, LedgerError, "idempotency key must be 1..200 chars"),
    ],
)  # fmt: skip
def test_bad_entries_are_refused_naming_the_key(
    legs: dict[str, list[tuple[str, str, int]]], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        validate_frames(*frames(legs))


def test_a_key_twice_and_postings_without_an_entry_are_refused() -> None:
    entry_frame, posting_frame = frames({"k1": pair(5)})
    with pytest.raises(IdempotencyConflict, match="'k1' is given twice"):
        validate_frames(pl.concat([entry_frame, entry_frame]), posting_frame)
    orphan = pl.DataFrame([("k9", "D1", "balance", 5)], schema=POSTING_SCHEMA, orient="row")
    with pytest.raises(LedgerError, match="'k9' has postings but no entry"):
        validate_frames(entry_frame, pl.concat([posting_frame, orphan]))


def test_missing_columns_nulls_and_wrong_types_are_refused() -> None:
    entry_frame, posting_frame = frames({"k1": pair(5)})
    with pytest.raises(LedgerError, match=r"entries frame lacks column.*kind"):
        conform(entry_frame.drop("kind"), ENTRY_SCHEMA, "entries")
    with pytest.raises(LedgerError, match="column amount_fen has empty"):
        conform(posting_frame.with_columns(amount_fen=None), POSTING_SCHEMA, "postings")
    with pytest.raises(LedgerError, match="is String, wanted Int64"):
        conform(posting_frame.with_columns(amount_fen=pl.lit("5")), POSTING_SCHEMA, "postings")
    floats = posting_frame.with_columns(pl.col("amount_fen").cast(pl.Float64) + 0.5)
    with pytest.raises(LedgerError, match="is Float64, wanted Int64"):
        conform(floats, POSTING_SCHEMA, "postings")


def test_integer_run_ids_are_taken_as_text() -> None:
    entry_frame, _ = frames({"k1": pair(5)})
    numbered = entry_frame.with_columns(run_id=pl.lit(42, dtype=pl.Int64))
    assert conform(numbered, ENTRY_SCHEMA, "entries")["run_id"].to_list() == ["42"]


def test_entries_with_a_source_hash_their_source_in_frame_form_too() -> None:
    entry = transfer("s1", DAY, "payment", ("CA1", "purchase"), ("D1", "balance"), 5)
    sourced = JournalEntry("s2", DAY, "payment", entry.postings, source="x")
    entry_frame, posting_frame = frames_of([sourced, entry])
    assert entry_frame["source"].to_list() == ["x", None]
    assert content_hashes(entry_frame, posting_frame) == [sourced.content_hash, entry.content_hash]
    assert sourced.content_hash != entry.content_hash
