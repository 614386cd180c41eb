"""The cycle's partitions on Dask (a LocalCluster of two worker processes) against PostgreSQL.

Acceptance of the scale-out: the Dask executor writes exactly what the local
executor writes, and a worker process killed in the middle of a partition is
recovered (Dask runs the task again; the engine takes over the dead holder's
lock and resumes after the last committed chunk) without posting anything twice.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from cardbatch.engine.settings import EngineSettings
from cardbatch.jobs.cycle_partitions import (
    PartitionOutcome,
    close_local_cluster,
    partitions,
    run_on_client,
    run_partitioned,
)
from cardbatch.jobs.cycle_portfolio import BUSINESS_DATE
from cardbatch.services import ledger
from cardbatch.store import Store, open_store
from tests.integration.scale.helpers import (
    duplicate_keys,
    extra_pg_database,
    portfolio_store,
    snapshot,
)

pytestmark = pytest.mark.postgres
ACCOUNTS_N = 120
PARTITION_ACCOUNTS = 30
SETTINGS = EngineSettings(chunk_size=10)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    before = {p.pid for p in multiprocessing.active_children()}
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)  # fmt: skip
    with Client(cluster) as dask_client:
        yield dask_client
    close_local_cluster(cluster, before)
    assert [p for p in multiprocessing.active_children() if p.pid not in before] == []


def _portfolio_twice(url: str) -> Store:
    """The portfolio in ``url``; the caller copies the database before the cycle runs."""
    return portfolio_store(url, ACCOUNTS_N)


def _local_reference(store: Store, url: str) -> Store:
    outcomes = run_partitioned(store, url, BUSINESS_DATE, "tester", SETTINGS,
                               accounts_per_partition=PARTITION_ACCOUNTS)  # fmt: skip
    assert [o.status for o in outcomes] == ["completed"] * 4
    return store


def _on_dask(client: Any, store: Store, url: str) -> list[PartitionOutcome]:
    with store.read() as conn:
        parts = partitions(conn, PARTITION_ACCOUNTS)
    return run_on_client(client, url, parts, BUSINESS_DATE, "tester", SETTINGS)


def test_dask_writes_exactly_what_the_local_executor_writes(pg_url: str, client: Any) -> None:
    built = _portfolio_twice(pg_url)
    built.dispose()
    with extra_pg_database(copy_of=pg_url) as other_url:
        local = _local_reference(open_store(pg_url), pg_url)
        distributed = open_store(other_url)
        outcomes = _on_dask(client, distributed, other_url)
        assert [o.status for o in outcomes] == ["completed"] * 4
        assert sum(o.items_read for o in outcomes) > ACCOUNTS_N  # four steps' items
        expected, got = snapshot(local), snapshot(distributed)
        assert len(expected["statements"]) == ACCOUNTS_N
        assert any(r[2] == "autopay" for r in expected["postings"])
        assert any(r[2] == "late_fee" for r in expected["postings"])
        for name in expected:
            assert got[name] == expected[name], name
        assert ledger.check(distributed).balanced
        distributed.dispose()
        local.dispose()


def _kill_a_worker_mid_partition(store: Store, deadline_s: float) -> int:
    """Wait until a partition run holds its lock with chunks committed; SIGKILL its process."""
    query = text(
        "SELECT l.pid FROM run_locks l JOIN run_chunks c ON c.run_id = l.run_id "
        "WHERE l.run_id IS NOT NULL GROUP BY l.pid HAVING COUNT(*) >= 2 LIMIT 1"
    )
    stop = time.monotonic() + deadline_s
    while time.monotonic() < stop:
        with store.read() as conn:
            pid = conn.execute(query).scalar()
        if pid is not None:
            os.kill(int(pid), signal.SIGKILL)
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("no partition was found running to kill")


def test_a_worker_killed_mid_run_ends_complete_balanced_and_posted_once(
    pg_url: str, client: Any
) -> None:
    built = _portfolio_twice(pg_url)
    built.dispose()
    with extra_pg_database(copy_of=pg_url) as other_url:
        local = _local_reference(open_store(pg_url), pg_url)
        distributed = open_store(other_url)
        pids = set(client.run(os.getpid).values())
        done: dict[str, Any] = {}

        def cycle() -> None:
            done["outcomes"] = _on_dask(client, distributed, other_url)

        runner = threading.Thread(target=cycle)
        runner.start()
        killed = _kill_a_worker_mid_partition(distributed, deadline_s=40)
        runner.join(timeout=90)
        assert not runner.is_alive()
        assert killed in pids
        assert [o.status for o in done["outcomes"]] == ["completed"] * 4
        with distributed.read() as conn:
            resumed = conn.execute(
                text("SELECT COUNT(*) FROM job_runs WHERE attempts >= 2")
            ).scalar_one()
            partial = conn.execute(
                text("SELECT COUNT(*) FROM job_runs WHERE status <> 'completed'")
            ).scalar_one()
        assert resumed >= 1  # the killed partition's run was resumed, not started anew
        assert partial == 0
        check = ledger.check(distributed)
        assert check.balanced, check.mismatches[:3]
        assert duplicate_keys(distributed) == 0
        expected, got = snapshot(local), snapshot(distributed)
        for name in expected:
            assert got[name] == expected[name], name
        distributed.dispose()
        local.dispose()
