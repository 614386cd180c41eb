"""Retention: item results of finished runs older than ``retention_days`` are purged in batches.

Only runs that are completed or abandoned lose their item results; runs that
may still resume keep them. Each batch is its own short transaction of at most
``purge_batch_rows`` rows, so a purge never holds the database for long. The
runs, their steps, chunks and control totals stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select, tuple_

from cardbatch.engine.repo import FINAL_STATUSES
from cardbatch.services import audit
from cardbatch.store import Store
from cardbatch.store.tables_engine import item_results, job_runs

PURGE_BATCHES_MAX = 100_000


@dataclass(frozen=True)
class PurgeResult:
    before: date
    rows_deleted: int
    batches: int


def purge_item_results(
    store: Store, today: date, retention_days: int, batch_rows: int, actor: str
) -> PurgeResult:
    """Delete item results of finished runs whose business date is before today - retention."""
    cutoff = today - timedelta(days=retention_days)
    r, j = item_results.c, job_runs.c
    finished = select(j.run_id).where(
        j.business_date < cutoff, j.status.in_([s.value for s in FINAL_STATUSES])
    )
    deleted_total, batches = 0, 0
    for _ in range(PURGE_BATCHES_MAX):
        with store.write() as conn:
            batch = (
                select(r.run_id, r.step_name, r.item_key)
                .where(r.business_date < cutoff, r.run_id.in_(finished))
                .limit(batch_rows)
            )
            keys = conn.execute(batch).all()
            if not keys:
                break
            conn.execute(
                delete(item_results).where(
                    tuple_(r.run_id, r.step_name, r.item_key).in_([tuple(k) for k in keys])
                )
            )
            deleted_total += len(keys)
            batches += 1
    if deleted_total:
        with store.write() as conn:
            audit.record(conn, actor, "run.purge", "item_results", before=cutoff,
                         rows=deleted_total)  # fmt: skip
    return PurgeResult(cutoff, deleted_total, batches)
