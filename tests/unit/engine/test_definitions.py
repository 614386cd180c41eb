"""Pure parts of the engine: job definitions, run identity, calendar arithmetic, settings."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cardbatch.engine.calendar import CalendarError, dates_to_run
from cardbatch.engine.job import (
    Item,
    ItemOutcome,
    ItemStatus,
    Job,
    JobDefinitionError,
    Step,
    params_hash,
)
from cardbatch.engine.repo import RunIdentity
from cardbatch.engine.settings import SETTINGS, EngineSettings, SettingError, load_settings

DOCS = Path(__file__).resolve().parents[3] / "docs" / "engine.md"


def _step(name: str, after: tuple[str, ...] = ()) -> Step:
    return Step(name, lambda _c, _x: [], lambda _c, _x, _i: [], after=after)


def test_steps_run_in_dependency_order() -> None:
    job = Job("j", "", (_step("c", ("b",)), _step("a"), _step("b", ("a",))))
    assert [s.name for s in job.ordered_steps()] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((_step("a", ("b",)), _step("b", ("a",))), "cycle"),
        ((_step("a", ("x",)),), "unknown"),
        ((_step("a"), _step("a")), "repeat"),
        ((), "needs 1"),
    ],
)
def test_bad_job_definitions_are_refused(steps: tuple[Step, ...], message: str) -> None:
    with pytest.raises(JobDefinitionError, match=message):
        Job("j", "", steps)


def test_job_names_cannot_break_run_ids_or_lock_keys() -> None:
    for name in ("a:b", "a|b", "", "x" * 33):
        with pytest.raises(JobDefinitionError):
            Job(name, "", (_step("a"),))


def test_run_identity_ignores_parameter_order_and_fits_the_columns() -> None:
    assert params_hash({"a": "1", "b": "2"}) == params_hash({"b": "2", "a": "1"})
    assert params_hash({"a": "1"}) != params_hash({"a": "2"})
    identity = RunIdentity("x" * 32, date(2026, 1, 31), params_hash({}))
    assert len(identity.run_id(999)) <= 64 and len(identity.lock_key) <= 80


def test_failed_and_skipped_items_need_a_reason_code() -> None:
    item = Item("k")
    for status in (ItemStatus.FAILED, ItemStatus.SKIPPED):
        with pytest.raises(ValueError, match="reason code"):
            ItemOutcome(item.key, status)
    assert ItemOutcome(item.key, ItemStatus.SKIPPED, "already_posted").reason_code


D = date(2026, 1, 10)


@pytest.mark.parametrize(
    ("current", "day", "through", "expected"),
    [
        (D, None, None, [date(2026, 1, 11)]),
        (D, None, date(2026, 1, 13), [date(2026, 1, 11), date(2026, 1, 12), date(2026, 1, 13)]),
        (D, date(2026, 1, 5), None, [date(2026, 1, 5)]),  # a past date again
        (None, date(2026, 1, 5), None, [date(2026, 1, 5)]),  # the very first night
        (date(2026, 2, 28), None, None, [date(2026, 3, 1)]),
    ],
)
def test_dates_to_run(
    current: date | None, day: date | None, through: date | None, expected: list[date]
) -> None:
    assert dates_to_run(current, day, through) == expected


@pytest.mark.parametrize(
    ("current", "day", "through", "message"),
    [
        (D, date(2026, 1, 13), None, "catch up with --through"),
        (D, None, D, "not after"),
        (None, None, None, "not set"),
        (D, D, D, "not both"),
        (D, None, date(2028, 1, 1), "more than"),
    ],
)
def test_dates_that_cannot_run(
    current: date | None, day: date | None, through: date | None, message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        dates_to_run(current, day, through)


def test_settings_come_from_the_environment_and_are_checked() -> None:
    settings = load_settings({"CARDBATCH_CHUNK_SIZE": "25", "CARDBATCH_FAILURE_RATE_MAX_PCT": "2.5",
                              "CARDBATCH_INBOX_DIR": "/in"})  # fmt: skip
    assert settings.chunk_size == 25 and settings.failure_rate_max_pct == Decimal("2.5")
    assert settings.inbox_dir == Path("/in")
    with pytest.raises(SettingError, match="chunk_size"):
        load_settings({"CARDBATCH_CHUNK_SIZE": "0"})
    with pytest.raises(SettingError, match="not a valid value"):
        load_settings({"CARDBATCH_LEASE_S": "soon"})


def test_the_settings_table_matches_the_code_and_the_docs() -> None:
    defaults = EngineSettings()
    assert {s.name for s in SETTINGS} == set(defaults.__dataclass_fields__)
    for setting in SETTINGS:
        assert str(getattr(defaults, setting.name)) == setting.default
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(), re.MULTILINE))
    assert {s.name for s in SETTINGS} <= documented
