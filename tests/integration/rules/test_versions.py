"""Rule versions in a real store (SQLite and PostgreSQL): load, approve, resolve by date."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cardbatch.rules.load import RuleSetInvalid
from cardbatch.rules.versions import (
    APPROVED,
    PENDING,
    RuleVersionError,
    approve_version,
    get_version,
    in_force_spans,
    list_versions,
    load_version,
    rules_in_force,
    version_in_force,
)
from cardbatch.store import Store
from cardbatch.store.tables import audit_events
from cardbatch.store.tables_rules import rule_versions

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rules"
STANDARD = (EXAMPLES / "standard.toml").read_text(encoding="utf-8")
# The same product with a lower rate from 2024-03-01.
LOWER_RATE = STANDARD.replace('daily_rate = "0.0005"', 'daily_rate = "0.0004"')


def _load_and_approve(store: Store, text: str, effective: date) -> int:
    with store.write() as conn:
        version, _ = load_version(conn, text, effective, "maker", "standard.toml")
        approve_version(conn, version.product_code, version.version_no, "checker")
    return version.version_no


def test_loaded_version_is_pending_until_another_user_approves(store: Store) -> None:
    with store.write() as conn:
        version, created = load_version(conn, STANDARD, date(2024, 1, 1), "maker", "std.toml")
    assert created
    assert (version.label, version.status, version.loaded_by) == ("STD@1", PENDING, "maker")
    with store.read() as conn:
        assert version_in_force(conn, "STD", date(2024, 6, 1)) is None
    with store.write() as conn, pytest.raises(RuleVersionError, match="different user"):
        approve_version(conn, "STD", 1, "maker")
    with store.write() as conn:
        approved = approve_version(conn, "STD", 1, "checker")
    assert (approved.status, approved.approved_by) == (APPROVED, "checker")
    assert approved.approved_at is not None
    with store.write() as conn, pytest.raises(RuleVersionError, match="already approved"):
        approve_version(conn, "STD", 1, "third")
    with store.read() as conn:
        in_force = version_in_force(conn, "STD", date(2024, 6, 1))
        actions = conn.execute(select(audit_events.c.action, audit_events.c.actor)).all()
    assert in_force is not None and in_force.version_no == 1
    assert [tuple(a) for a in actions] == [("rules.load", "maker"), ("rules.approve", "checker")]


def test_versions_are_immutable_and_loading_twice_is_a_no_op(store: Store) -> None:
    with store.write() as conn:
        first, _ = load_version(conn, STANDARD, date(2024, 1, 1), "maker", "std.toml")
        again, created = load_version(conn, STANDARD, date(2024, 1, 1), "maker", "std.toml")
        other, _ = load_version(conn, LOWER_RATE, date(2024, 3, 1), "maker", "lower.toml")
    assert not created
    assert again == first
    assert other.version_no == 2
    with store.read() as conn:
        listed = list_versions(conn, "STD")
        stored = get_version(conn, "STD", 1)
    assert [v.version_no for v in listed] == [1, 2]
    assert stored.toml_text == STANDARD
    assert stored.rules().interest.daily_rate == first.rules().interest.daily_rate


def test_invalid_text_writes_nothing(store: Store) -> None:
    bad = STANDARD.replace("due_days = 18", "due_days = 0")
    with store.write() as conn, pytest.raises(RuleSetInvalid):
        load_version(conn, bad, date(2024, 1, 1), "maker", "bad.toml")
    with store.read() as conn:
        assert conn.execute(select(rule_versions)).all() == []


def test_approving_unknown_version_is_an_error(store: Store) -> None:
    with store.write() as conn, pytest.raises(RuleVersionError, match="no rule version STD@9"):
        approve_version(conn, "STD", 9, "checker")


def test_a_date_range_spanning_two_versions_uses_each_on_its_own_dates(store: Store) -> None:
    _load_and_approve(store, STANDARD, date(2024, 1, 1))
    _load_and_approve(store, LOWER_RATE, date(2024, 3, 1))
    with store.write() as conn:  # pending: never in force
        load_version(conn, STANDARD.replace('"0.0005"', '"0.0001"'), date(2024, 2, 1), "m", "p")
    start, end = date(2024, 2, 27), date(2024, 3, 3)
    with store.read() as conn:
        spans = in_force_spans(conn, "STD", start, end)
        daily = {
            start + timedelta(days=n): rules_in_force(
                conn, "STD", start + timedelta(days=n)
            ).interest.daily_rate
            for n in range((end - start).days + 1)
        }
    assert [(s.start, s.end, s.version and s.version.version_no) for s in spans] == [
        (date(2024, 2, 27), date(2024, 2, 29), 1),
        (date(2024, 3, 1), date(2024, 3, 3), 2),
    ]
    assert [str(rate) for rate in daily.values()] == [
        "0.0005",
        "0.0005",
        "0.0005",
        "0.0004",
        "0.0004",
        "0.0004",
    ]


def test_before_the_first_version_nothing_is_in_force(store: Store) -> None:
    _load_and_approve(store, STANDARD, date(2024, 1, 10))
    with store.read() as conn:
        spans = in_force_spans(conn, "STD", date(2024, 1, 8), date(2024, 1, 11))
        with pytest.raises(RuleVersionError, match="no approved rules for STD in force"):
            rules_in_force(conn, "STD", date(2024, 1, 9))
    assert [(s.start, s.end, s.version and s.version.version_no) for s in spans] == [
        (date(2024, 1, 8), date(2024, 1, 9), None),
        (date(2024, 1, 10), date(2024, 1, 11), 1),
    ]


def test_same_effective_date_the_later_version_wins(store: Store) -> None:
    _load_and_approve(store, STANDARD, date(2024, 1, 1))
    _load_and_approve(store, LOWER_RATE, date(2024, 1, 1))
    with store.read() as conn:
        rate = rules_in_force(conn, "STD", date(2024, 1, 1)).interest.daily_rate
        version = version_in_force(conn, "STD", date(2024, 1, 1))
        spans = in_force_spans(conn, "STD", date(2023, 12, 31), date(2024, 1, 2))
    assert version is not None and version.version_no == 2
    assert str(rate) == "0.0004"
    assert [s.version and s.version.version_no for s in spans] == [None, 2]
