"""The cycle in partitions on SQLite and PostgreSQL: same ledger as one run, clear refusals."""

from __future__ import annotations

import pytest

from cardbatch.engine import RunRequest, get_job, run_job
from cardbatch.engine.settings import EngineSettings
from cardbatch.jobs.cycle import JOB_NAME
from cardbatch.jobs.cycle_partitions import ExecutorError, partitions, run_partitioned
from cardbatch.jobs.cycle_portfolio import BUSINESS_DATE, indexed_resident_id
from cardbatch.services import ledger
from tests.integration.scale.helpers import portfolio_store, snapshot

ACCOUNTS_N = 90
SETTINGS = EngineSettings(chunk_size=25)


def _without_run_ids(found: dict[str, list[tuple[object, ...]]]) -> dict[str, list[object]]:
    out = dict(found)
    out["statements"] = [row[:13] + row[14:] for row in found["statements"]]
    return out  # type: ignore[return-value]


def test_partitions_cover_every_account_once(sqlite_url: str) -> None:
    store = portfolio_store(sqlite_url, ACCOUNTS_N)
    with store.read() as conn:
        parts = partitions(conn, 40)
    assert [(p.first, p.last) for p in parts] == [
        ("CA0000000000", "CA0000000040"),
        ("CA0000000040", "CA0000000080"),
        ("CA0000000080", None),
    ]
    store.dispose()


def test_partitioned_cycle_writes_what_one_whole_run_writes(db_url: str, tmp_path: object) -> None:
    whole = portfolio_store(db_url, ACCOUNTS_N)
    report = run_job(whole, RunRequest(get_job(JOB_NAME), BUSINESS_DATE, {}, "tester", SETTINGS))
    assert report.status == "completed"
    expected = _without_run_ids(snapshot(whole))
    whole.dispose()
    # a second portfolio in a fresh database of the same backend
    from tests.integration.scale.helpers import extra_pg_database

    if db_url.startswith("sqlite"):
        other_url = db_url.replace("cardbatch.db", "partitioned.db")
        _compare(other_url, expected)
    else:
        with extra_pg_database() as other_url:
            _compare(other_url, expected)


def _compare(url: str, expected: dict[str, list[object]]) -> None:
    store = portfolio_store(url, ACCOUNTS_N)
    outcomes = run_partitioned(store, url, BUSINESS_DATE, "tester", SETTINGS,
                               accounts_per_partition=20)  # fmt: skip
    assert [o.status for o in outcomes] == ["completed"] * 5
    assert _without_run_ids(snapshot(store)) == expected
    assert ledger.check(store).balanced
    again = run_partitioned(store, url, BUSINESS_DATE, "tester", SETTINGS,
                            accounts_per_partition=20)  # fmt: skip
    assert {o.status for o in again} == {"already_completed"}
    store.dispose()


def test_dask_on_sqlite_is_refused_with_the_reason(sqlite_url: str) -> None:
    store = portfolio_store(sqlite_url, 3)
    with pytest.raises(ExecutorError, match="dask executor needs PostgreSQL"):
        run_partitioned(store, sqlite_url, BUSINESS_DATE, "tester", SETTINGS, executor="dask")
    store.dispose()


def test_resident_ids_of_a_large_portfolio_do_not_repeat() -> None:
    ids = [indexed_resident_id(i) for i in range(0, 300_000, 7)]
    assert len(set(ids)) == len(ids)
