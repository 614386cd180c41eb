"""The run repository: runs, their steps, committed chunks and item results in the store.

Functions take a connection, so the caller decides the transaction: a chunk's
item results, counters and checkpoint are written in the chunk's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, insert, select, update

from cardbatch.engine.job import StepTotals
from cardbatch.store.frame_io import bulk_insert
from cardbatch.store.tables_engine import item_results, job_runs, run_chunks, run_steps


class RunStatus(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    ABANDONED = "abandoned"


FINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.ABANDONED})


@dataclass(frozen=True)
class RunIdentity:
    job_name: str
    business_date: date
    params_hash: str

    @property
    def lock_key(self) -> str:
        return f"{self.job_name}|{self.business_date.isoformat()}|{self.params_hash}"

    def run_id(self, rerun_no: int) -> str:
        return f"{self.job_name}:{self.business_date:%Y%m%d}:{self.params_hash[:8]}:{rerun_no}"


@dataclass(frozen=True)
class RunRow:
    run_id: str
    job_name: str
    business_date: date
    params_hash: str
    params: dict[str, str]
    rerun_no: int
    status: RunStatus
    chunk_size: int
    items_total: int
    items_read: int
    items_succeeded: int
    items_failed: int
    items_skipped: int
    stop_requested: bool
    reason: str | None
    attempts: int
    created_at: datetime
    created_by: str
    started_at: datetime | None
    ended_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def identity(self) -> RunIdentity:
        return RunIdentity(self.job_name, self.business_date, self.params_hash)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _run_row(row: Any) -> RunRow:
    m = dict(row._mapping)
    m["params"] = json.loads(m.pop("params_json"))
    m["status"] = RunStatus(m["status"])
    m["stop_requested"] = bool(m["stop_requested"])
    for key in ("created_at", "started_at", "ended_at", "heartbeat_at"):
        m[key] = _aware(m[key])
    return RunRow(**m)


def get_run(conn: Connection, run_id: str) -> RunRow | None:
    row = conn.execute(select(job_runs).where(job_runs.c.run_id == run_id)).first()
    return _run_row(row) if row is not None else None


def latest_run(conn: Connection, identity: RunIdentity) -> RunRow | None:
    c = job_runs.c
    row = conn.execute(
        select(job_runs)
        .where(c.job_name == identity.job_name, c.business_date == identity.business_date)
        .where(c.params_hash == identity.params_hash)
        .order_by(c.rerun_no.desc())
        .limit(1)
    ).first()
    return _run_row(row) if row is not None else None


def list_runs(
    conn: Connection,
    rows_max: int,
    job_name: str | None = None,
    business_date: date | None = None,
    status: str | None = None,
) -> list[RunRow]:
    c = job_runs.c
    query = select(job_runs).order_by(c.created_at.desc(), c.run_id.desc()).limit(rows_max)
    if job_name:
        query = query.where(c.job_name == job_name)
    if business_date:
        query = query.where(c.business_date == business_date)
    if status:
        query = query.where(c.status == status)
    return [_run_row(r) for r in conn.execute(query)]


def runs_on(conn: Connection, business_date: date) -> list[RunRow]:
    c = job_runs.c
    query = select(job_runs).where(c.business_date == business_date).order_by(c.created_at)
    return [_run_row(r) for r in conn.execute(query)]


def create_run(
    conn: Connection,
    identity: RunIdentity,
    params: dict[str, str],
    rerun_no: int,
    chunk_size: int,
    actor: str,
    now: datetime,
) -> RunRow:
    run_id = identity.run_id(rerun_no)
    conn.execute(
        insert(job_runs).values(
            run_id=run_id, job_name=identity.job_name, business_date=identity.business_date,
            params_hash=identity.params_hash,
            params_json=json.dumps(params, sort_keys=True, ensure_ascii=False),
            rerun_no=rerun_no, status=RunStatus.STARTING, chunk_size=chunk_size, items_total=0,
            items_read=0, items_succeeded=0, items_failed=0, items_skipped=0,
            stop_requested=False, reason=None, attempts=0, created_at=now, created_by=actor,
        )
    )  # fmt: skip
    run = get_run(conn, run_id)
    assert run is not None
    return run


def set_status(
    conn: Connection, run_id: str, status: RunStatus, now: datetime, reason: str | None = None
) -> None:
    values: dict[str, Any] = {"status": status, "heartbeat_at": now}
    if status is RunStatus.RUNNING:
        values.update(started_at=now, ended_at=None, stop_requested=False, reason=None,
                      attempts=job_runs.c.attempts + 1)  # fmt: skip
    else:
        values.update(ended_at=now, reason=reason)
    conn.execute(update(job_runs).where(job_runs.c.run_id == run_id).values(**values))


def request_stop(conn: Connection, run_id: str) -> None:
    conn.execute(update(job_runs).where(job_runs.c.run_id == run_id).values(stop_requested=True))


def stop_requested(conn: Connection, run_id: str) -> bool:
    value = conn.execute(
        select(job_runs.c.stop_requested).where(job_runs.c.run_id == run_id)
    ).scalar_one()
    return bool(value)


# ----------------------------------------------------------------------------- steps


_TOTAL_COLUMNS = (
    "items_read", "items_succeeded", "items_failed", "items_skipped", "entries_written",
    "postings_written", "debits_fen", "credits_fen", "amount_fen",
)  # fmt: skip


@dataclass(frozen=True)
class StepRow:
    totals: StepTotals
    position: int
    items_fingerprint: str
    chunks_done: int
    started_at: datetime | None
    ended_at: datetime | None
    work_ms: int


def step_rows(conn: Connection, run_id: str) -> dict[str, StepRow]:
    query = select(run_steps).where(run_steps.c.run_id == run_id).order_by(run_steps.c.position)
    found: dict[str, StepRow] = {}
    for row in conn.execute(query):
        m = row._mapping
        counts = {c: int(m[c]) for c in _TOTAL_COLUMNS}
        totals = StepTotals(
            step_name=m["step_name"], status=m["status"], items_total=int(m["items_total"]),
            tallies=json.loads(m["totals_json"]), **counts,
        )  # fmt: skip
        found[m["step_name"]] = StepRow(
            totals, m["position"], m["items_fingerprint"], m["chunks_done"],
            _aware(m["started_at"]), _aware(m["ended_at"]), int(m["work_ms"]),
        )  # fmt: skip
    return found


def start_step(
    conn: Connection,
    run_id: str,
    step_name: str,
    position: int,
    items_total: int,
    fingerprint: str,
    now: datetime,
) -> None:
    values: dict[str, Any] = {c: 0 for c in _TOTAL_COLUMNS}
    conn.execute(
        insert(run_steps).values(
            run_id=run_id, step_name=step_name, position=position, status="running",
            items_total=items_total, items_fingerprint=fingerprint, chunks_done=0,
            totals_json="{}", started_at=now, ended_at=None, work_ms=0, **values,
        )
    )  # fmt: skip
    conn.execute(
        update(job_runs)
        .where(job_runs.c.run_id == run_id)
        .values(items_total=job_runs.c.items_total + items_total)
    )


def complete_step(conn: Connection, run_id: str, step_name: str, now: datetime) -> None:
    conn.execute(
        update(run_steps)
        .where(run_steps.c.run_id == run_id, run_steps.c.step_name == step_name)
        .values(status="completed", ended_at=now)
    )


@dataclass(frozen=True)
class ChunkRecord:
    """A committed chunk: its item results (a frame of ``outcomes.RESULT_COLUMNS``) and sums."""

    run_id: str
    step_name: str
    chunk_no: int
    first_item: int
    business_date: date
    results: pl.DataFrame
    entries_written: int
    postings_written: int
    debits_fen: int
    credits_fen: int
    tallies: dict[str, int]
    work_ms: int


_RESULT_COLUMNS = (
    "run_id", "step_name", "item_key", "seq", "business_date", "status", "reason_code",
    "entry_key", "entry_id", "amount_fen", "chunk_no", "message",
)  # fmt: skip


def record_chunk(conn: Connection, chunk: ChunkRecord, now: datetime) -> None:
    """Item results, the chunk's checkpoint and the counters, in the chunk's transaction."""
    status = chunk.results["status"]
    counts = {s: int((status == s).sum()) for s in ("succeeded", "failed", "skipped")}
    day: Any = chunk.business_date
    if conn.dialect.name == "sqlite":
        day = chunk.business_date.isoformat()  # as the Date column stores it there
    rows = chunk.results.with_columns(
        run_id=pl.lit(chunk.run_id), step_name=pl.lit(chunk.step_name),
        business_date=pl.lit(day), chunk_no=pl.lit(chunk.chunk_no, dtype=pl.Int64),
    ).select(_RESULT_COLUMNS)  # fmt: skip
    bulk_insert(conn, "item_results", _RESULT_COLUMNS, rows)
    items = chunk.results.height
    conn.execute(
        insert(run_chunks).values(
            run_id=chunk.run_id, step_name=chunk.step_name, chunk_no=chunk.chunk_no,
            first_item=chunk.first_item, items=items,
            succeeded=counts["succeeded"], failed=counts["failed"], skipped=counts["skipped"],
            committed_at=now, work_ms=chunk.work_ms,
        )
    )  # fmt: skip
    amount_fen = int(chunk.results.filter(status == "succeeded")["amount_fen"].sum())
    _add_step_counters(conn, chunk, counts, amount_fen)
    r = job_runs.c
    conn.execute(
        update(job_runs)
        .where(r.run_id == chunk.run_id)
        .values(
            items_read=r.items_read + items,
            items_succeeded=r.items_succeeded + counts["succeeded"],
            items_failed=r.items_failed + counts["failed"],
            items_skipped=r.items_skipped + counts["skipped"],
            heartbeat_at=now,
        )
    )


def _add_step_counters(
    conn: Connection, chunk: ChunkRecord, counts: dict[str, int], amount_fen: int
) -> None:
    s = run_steps.c
    where = (s.run_id == chunk.run_id, s.step_name == chunk.step_name)
    tallies_json = conn.execute(select(s.totals_json).where(*where)).scalar_one()
    tallies: dict[str, int] = json.loads(tallies_json)
    for key, value in chunk.tallies.items():
        tallies[key] = tallies.get(key, 0) + value
    conn.execute(
        update(run_steps)
        .where(*where)
        .values(
            items_read=s.items_read + chunk.results.height,
            items_succeeded=s.items_succeeded + counts["succeeded"],
            items_failed=s.items_failed + counts["failed"],
            items_skipped=s.items_skipped + counts["skipped"],
            chunks_done=s.chunks_done + 1,
            entries_written=s.entries_written + chunk.entries_written,
            postings_written=s.postings_written + chunk.postings_written,
            debits_fen=s.debits_fen + chunk.debits_fen,
            credits_fen=s.credits_fen + chunk.credits_fen,
            amount_fen=s.amount_fen + amount_fen,
            totals_json=json.dumps(dict(sorted(tallies.items()))),
            work_ms=s.work_ms + chunk.work_ms,
        )
    )


def failures_by_reason(conn: Connection, run_id: str) -> list[tuple[str, str, str, int, int]]:
    """(step, status, reason code, items, amount_fen) for every failed or skipped reason."""
    r = item_results.c
    query = (
        select(r.step_name, r.status, r.reason_code, func.count(), func.sum(r.amount_fen))
        .where(r.run_id == run_id, r.status != "succeeded")
        .group_by(r.step_name, r.status, r.reason_code)
        .order_by(r.step_name, r.status, r.reason_code)
    )
    return [(a, b, c or "", int(n), int(s or 0)) for a, b, c, n, s in conn.execute(query)]


def sample_results(conn: Connection, run_id: str, rows_max: int) -> list[dict[str, Any]]:
    """The first items of each outcome kind, so a report shows successes and failures alike."""
    r = item_results.c
    rows: list[dict[str, Any]] = []
    per_status = max(1, rows_max // 3)
    for status in ("succeeded", "failed", "skipped"):
        query = (
            select(r.step_name, r.item_key, r.status, r.reason_code, r.entry_key, r.amount_fen,
                   r.message)
            .where(r.run_id == run_id, r.status == status)
            .order_by(r.step_name, r.seq)
            .limit(per_status)
        )  # fmt: skip
        rows.extend(dict(row._mapping) for row in conn.execute(query))
    return rows[:rows_max]
