"""The card cycle in partitions: ranges of account ids, each one engine run, locally or on Dask.

A partition is a contiguous range of card account ids, ``[accounts_from,
accounts_to)``; its bounds are the run's parameters, so every partition is a run
of the ``card-cycle`` job with its own identity, lock, steps, chunks, item
results and restart. Entry keys do not carry the parameters (``card-cycle:
<date>:<account>:<kind>``), so an account's entries are the same however the
portfolio is cut, and a rerun or a retried partition never posts twice.

Memory is bounded by the partition size, not by the portfolio: a partition lists
only its own accounts, and partitions run one after another (``local``) or one
per Dask worker at a time (``dask``). On Dask each task opens its own store on
the database URL (PostgreSQL only: SQLite allows one writer, so the Dask
executor refuses it); a worker killed mid-partition is recovered by Dask
running the task again, which takes over the dead holder's lock and resumes the
run after its last committed chunk.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from cardbatch.engine.registry import get_job
from cardbatch.engine.runner import AlreadyCompleted, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings
from cardbatch.jobs.cycle import JOB_NAME
from cardbatch.store import Store, open_store
from cardbatch.store.statistics import NIGHT_READS, refresh_statistics
from cardbatch.store.tables import card_accounts

EXECUTORS = ("local", "dask")
PARTITION_ACCOUNTS_DEFAULT = 50_000
DASK_RETRIES = 3
LOCAL_CLUSTER_WORKERS = 2
KILL_JOIN_S = 10


class ExecutorError(ValueError):
    """An executor that cannot run on the given database or scheduler."""


@dataclass(frozen=True)
class Partition:
    """Card accounts with ids from ``first`` (inclusive) to ``last`` (exclusive; None: open)."""

    number: int
    first: str
    last: str | None

    def params(self) -> dict[str, str]:
        return {"accounts_from": self.first, "accounts_to": self.last or ""}


@dataclass(frozen=True)
class PartitionOutcome:
    number: int
    run_id: str | None
    status: str
    items_read: int


def partitions(conn: Connection, accounts_per_partition: int) -> list[Partition]:
    """Cut the card accounts, in id order, into ranges of ``accounts_per_partition``.

    One indexed lookup per partition bound; nothing proportional to the portfolio
    is held in memory.
    """
    if accounts_per_partition < 1:
        raise ValueError(f"accounts per partition must be >= 1, got {accounts_per_partition}")
    c = card_accounts.c
    total = conn.execute(select(func.count()).select_from(card_accounts)).scalar_one()
    bounds: list[str] = []
    for offset in range(0, total, accounts_per_partition):
        first = conn.execute(
            select(c.account_id).order_by(c.account_id).offset(offset).limit(1)
        ).scalar_one()
        bounds.append(str(first))
    return [
        Partition(n, low, bounds[n + 1] if n + 1 < len(bounds) else None)
        for n, low in enumerate(bounds)
    ]


def run_partition(
    store: Store, part: Partition, day: date, actor: str, settings: EngineSettings
) -> PartitionOutcome:
    """Run (or resume) the cycle of one partition; a completed partition is not run again."""
    request = RunRequest(get_job(JOB_NAME), day, part.params(), actor, settings)
    try:
        report = run_job(store, request)
    except AlreadyCompleted:
        return PartitionOutcome(part.number, None, "already_completed", 0)
    return PartitionOutcome(part.number, report.run_id, report.status, report.items_read)


def _partition_task(
    url: str,
    number: int,
    first: str,
    last: str | None,
    day: date,
    actor: str,
    settings: EngineSettings,
) -> PartitionOutcome:
    """A Dask task: its own store connection, one partition, closed again."""
    store = open_store(url)
    try:
        return run_partition(store, Partition(number, first, last), day, actor, settings)
    finally:
        store.dispose()


OnPartition = Callable[[PartitionOutcome], None]


def run_partitioned(
    store: Store,
    url: str,
    day: date,
    actor: str,
    settings: EngineSettings,
    *,
    accounts_per_partition: int = PARTITION_ACCOUNTS_DEFAULT,
    executor: str = "local",
    scheduler: str | None = None,
    on_partition: OnPartition | None = None,
) -> list[PartitionOutcome]:
    """Run the card cycle of ``day`` partition by partition, by the executor named."""
    if executor not in EXECUTORS:
        raise ExecutorError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "dask" and store.dialect == "sqlite":
        raise ExecutorError(
            "the dask executor needs PostgreSQL: SQLite allows one writer at a time, so "
            "partitions cannot be written from several processes; use --executor local"
        )
    with store.write() as conn:  # the night reads what the day loaded: plan with its figures
        refresh_statistics(conn, NIGHT_READS)
    with store.read() as conn:
        parts = partitions(conn, accounts_per_partition)
    if executor == "local":
        done = []
        for part in parts:
            outcome = run_partition(store, part, day, actor, settings)
            if on_partition is not None:
                on_partition(outcome)
            done.append(outcome)
        return done
    return _on_dask(url, parts, day, actor, settings, scheduler, on_partition)


def _on_dask(
    url: str,
    parts: Sequence[Partition],
    day: date,
    actor: str,
    settings: EngineSettings,
    scheduler: str | None,
    on_partition: OnPartition | None,
) -> list[PartitionOutcome]:
    from dask.distributed import Client, LocalCluster

    cluster: Any = None
    before: set[int | None] = set()
    if scheduler is None:
        before = {p.pid for p in multiprocessing.active_children()}
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=LOCAL_CLUSTER_WORKERS, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )  # fmt: skip
    try:
        target = cluster if cluster is not None else scheduler
        with Client(target) as client:  # type: ignore[no-untyped-call]
            return run_on_client(client, url, parts, day, actor, settings, on_partition)
    finally:
        if cluster is not None:
            close_local_cluster(cluster, before)


def close_local_cluster(cluster: Any, before: set[int | None]) -> None:
    """Close a local cluster, then kill any of its worker processes still alive.

    A worker the nanny is still restarting when ``close`` times out would otherwise
    outlive the command; ``before`` are the child processes that are not
    the cluster's.
    """
    cluster.close()
    for process in multiprocessing.active_children():
        if process.pid not in before:
            process.kill()
            process.join(timeout=KILL_JOIN_S)


def run_on_client(
    client: Any,
    url: str,
    parts: Sequence[Partition],
    day: date,
    actor: str,
    settings: EngineSettings,
    on_partition: OnPartition | None = None,
) -> list[PartitionOutcome]:
    """Submit one task per partition to a Dask client; retried when a worker dies."""
    from dask.distributed import as_completed

    batch = uuid.uuid4().hex[:8]
    futures = [
        client.submit(_partition_task, url, p.number, p.first, p.last, day, actor, settings,
                      key=f"card-cycle-{day:%Y%m%d}-{batch}-p{p.number:06d}", pure=False,
                      retries=DASK_RETRIES)
        for p in parts
    ]  # fmt: skip
    done: dict[int, PartitionOutcome] = {}
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        outcome: PartitionOutcome = future.result()
        done[outcome.number] = outcome
        if on_partition is not None:
            on_partition(outcome)
    return [done[p.number] for p in parts]
