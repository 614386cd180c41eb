"""The audit hash chain as pure functions: any edit of any field is found."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from cardbatch.domain.audit_chain import (
    GENESIS_HASH,
    ChainRow,
    canonical_time,
    first_break,
    row_hash,
)

T0 = datetime(2026, 3, 1, 9, 30, 0, 250_000, tzinfo=UTC)


def chain(n: int) -> list[ChainRow]:
    rows, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        at = T0 + timedelta(seconds=i)
        detail = f'{{"n": {i}}}'
        digest = row_hash(i, at, "li.lei", "users.add", f"user:{i}", detail, prev)
        rows.append(ChainRow(i, at, "li.lei", "users.add", f"user:{i}", detail, prev, digest))
        prev = digest
    return rows


def test_an_intact_chain_has_no_break() -> None:
    assert first_break(chain(5)) is None
    assert first_break([]) is None


def test_time_is_canonical_across_zones_and_naive_values() -> None:
    shanghai = T0.astimezone(timezone(timedelta(hours=8)))
    naive = T0.replace(tzinfo=None)
    assert canonical_time(shanghai) == canonical_time(naive) == "2026-03-01T09:30:00.250000Z"


FIELDS = st.sampled_from(["at", "actor", "action", "subject", "detail"])


@given(index=st.integers(0, 5), field=FIELDS, text=st.text(min_size=1, max_size=5))
def test_any_edited_field_is_found_at_its_row(index: int, field: str, text: str) -> None:
    rows = chain(6)
    old = rows[index]
    new_value: object = old.at + timedelta(microseconds=1) if field == "at" else text
    if new_value == getattr(old, field):
        return
    rows[index] = replace(old, **{field: new_value})
    broken = first_break(rows)
    assert broken is not None and broken.event_id == old.event_id and "edited" in broken.reason


@given(index=st.integers(0, 4))
def test_a_deleted_row_is_found_at_the_row_after_it(index: int) -> None:
    rows = chain(6)
    del rows[index]
    broken = first_break(rows)
    assert broken is not None and broken.event_id == index + 2 and "deleted" in broken.reason


def test_a_rehashed_edit_still_breaks_the_next_link() -> None:
    rows = chain(4)
    r = rows[1]
    forged = row_hash(r.event_id, r.at, "mallory", r.action, r.subject, r.detail, r.prev_hash or "")
    rows[1] = replace(r, actor="mallory", row_hash=forged)
    broken = first_break(rows)
    assert broken is not None and broken.event_id == 3
