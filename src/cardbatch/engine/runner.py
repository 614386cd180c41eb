"""Running a job: lock, open or resume the run, execute steps chunk by chunk, finish.

Each chunk is one write transaction that first proves the lock is still held,
then processes the items, posts their journal entries, writes the item
results, adds to the step's control totals and records the chunk as the
checkpoint. A process killed at any point leaves either the whole chunk or
nothing of it; the next start of the same job and date (or ``run resume``)
continues after the last committed chunk.

A dry run (试算) does all of this inside one transaction that is rolled back,
so it reports exactly what the real run would do while the database stays as
it was. Files are computed but not written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
from sqlalchemy import Connection

from cardbatch.engine import controls, faults, locks, outcomes, repo
from cardbatch.engine.job import (
    CHUNK_ITEMS_MAX,
    ITEM_KEY_LEN_MAX,
    ChunkFrames,
    EngineError,
    Item,
    ItemOutcome,
    ItemStatus,
    Job,
    JobContext,
    Step,
    items_fingerprint,
    params_hash,
)
from cardbatch.engine.monitor import RunReport, build_report
from cardbatch.engine.repo import RunIdentity, RunRow, RunStatus
from cardbatch.engine.settings import EngineSettings
from cardbatch.gcpause import gc_paused
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.ledger_frames import post_frames_settled


class AlreadyCompleted(EngineError):
    """The run identity already has a completed run and no rerun was asked for."""


class RunNotResumable(EngineError):
    """The run asked for cannot be continued (finished, abandoned, or not the latest)."""


class ControlTotalsMismatch(EngineError):
    """A step's control totals disagree with its item results or the ledger."""


class ItemsChanged(EngineError):
    """A step lists other items on resume than when it started."""


class StopRun(EngineError):
    """The run stops for an operator (stop requested, failure rate over the threshold)."""


@dataclass(frozen=True)
class RunRequest:
    job: Job
    business_date: date
    params: Mapping[str, str]
    actor: str
    settings: EngineSettings
    dry_run: bool = False
    rerun: bool = False
    resume_run_id: str | None = None  # `run resume RUN`: continue exactly this run


@dataclass(frozen=True)
class ChunkProgress:
    run_id: str
    step_name: str
    chunk_no: int
    step_items_done: int
    step_items_total: int
    elapsed_s: float


OnChunk = Callable[[ChunkProgress], None]


def identity_of(request: RunRequest) -> RunIdentity:
    return RunIdentity(request.job.name, request.business_date, params_hash(request.params))


def run_job(store: Store, request: RunRequest, on_chunk: OnChunk | None = None) -> RunReport:
    """Run (or resume, or rehearse) a job for a business date; returns the run's report."""
    if request.dry_run:
        return _dry_run(store, request, on_chunk)
    identity = identity_of(request)
    if not request.rerun and request.resume_run_id is None:
        with store.read() as conn:  # a quick answer without the lock; checked again under it
            _refuse_completed(repo.latest_run(conn, identity), identity)
    lease_s = request.settings.lease_s
    token = locks.acquire(store, identity.lock_key, lease_s)
    try:
        with store.write() as conn:
            locks.fence(conn, identity.lock_key, token, lease_s, "")
            run = _open_run(conn, identity, request)
            locks.fence(conn, identity.lock_key, token, lease_s, run.run_id)
    except BaseException:
        with store.write() as conn:
            locks.release(conn, identity.lock_key, token)
        raise
    executor = _Executor(store, request, run, token, outer=None, on_chunk=on_chunk)
    return executor.execute()


def _dry_run(store: Store, request: RunRequest, on_chunk: OnChunk | None) -> RunReport:
    identity = identity_of(request)
    with store.writer.connect() as conn:
        transaction = conn.begin()
        try:
            held = locks.holder(conn, identity.lock_key)
            if held is not None and not locks.is_stale(held, utc_now()):
                raise locks.RunLocked(f"cannot rehearse while it runs: {held.describe()}")
            run = _open_run(conn, identity, request)
            executor = _Executor(store, request, run, None, outer=conn, on_chunk=on_chunk)
            return executor.execute()
        finally:
            transaction.rollback()


def _refuse_completed(latest: RunRow | None, identity: RunIdentity) -> None:
    if latest is not None and latest.status is RunStatus.COMPLETED:
        raise AlreadyCompleted(
            f"job {identity.job_name} for {identity.business_date} already completed in run "
            f"{latest.run_id}; nothing to do (--rerun runs it again without posting twice)"
        )


def _open_run(conn: Connection, identity: RunIdentity, request: RunRequest) -> RunRow:
    """The run to work on: a new one, or the unfinished latest one (resume)."""
    latest = repo.latest_run(conn, identity)
    now = utc_now()
    params = dict(sorted(request.params.items()))
    chunk_size = request.settings.chunk_size
    wanted = request.resume_run_id
    if wanted is not None and (latest is None or latest.run_id != wanted):
        raise RunNotResumable(f"run {wanted} is not the latest run of its job, date and params")
    if latest is None:
        run = repo.create_run(conn, identity, params, 0, chunk_size, request.actor, now)
    elif latest.status is RunStatus.COMPLETED and wanted is None:
        if not request.rerun:
            _refuse_completed(latest, identity)
        run = repo.create_run(conn, identity, params, latest.rerun_no + 1, chunk_size,
                              request.actor, now)  # fmt: skip
    elif latest.status is RunStatus.ABANDONED and wanted is None:
        run = repo.create_run(conn, identity, params, latest.rerun_no + 1, chunk_size,
                              request.actor, now)  # fmt: skip
    elif latest.status in repo.FINAL_STATUSES:
        raise RunNotResumable(f"run {latest.run_id} is {latest.status}; it cannot be resumed")
    elif request.rerun:
        raise RunNotResumable(
            f"run {latest.run_id} is {latest.status}, not finished: resume it, or abandon it "
            "before --rerun"
        )
    else:
        run = latest
    repo.set_status(conn, run.run_id, RunStatus.RUNNING, now)
    resumed = repo.get_run(conn, run.run_id)
    assert resumed is not None
    return resumed


class _Executor:
    """Executes the steps of one run, chunk by chunk."""

    def __init__(
        self,
        store: Store,
        request: RunRequest,
        run: RunRow,
        token: str | None,
        outer: Connection | None,
        on_chunk: OnChunk | None,
    ) -> None:
        self.store, self.request, self.run, self.token = store, request, run, token
        self.outer, self.on_chunk = outer, on_chunk
        self.lock_key = run.identity.lock_key
        self.started = time.monotonic()
        self.verified: set[str] = set()  # steps this executor completed, totals verified
        self.ctx = JobContext(
            run.job_name, run.business_date, run.params, run.run_id, request.settings,
            request.actor, utc_now(), dry_run=request.dry_run,
        )  # fmt: skip

    @contextlib.contextmanager
    def tx(self) -> Iterator[Connection]:
        """A chunk's transaction: its own commit, or a part of the dry run's one transaction."""
        if self.outer is not None:
            with self.outer.begin_nested():
                yield self.outer
            return
        with self.store.write() as conn:
            assert self.token is not None
            locks.fence(conn, self.lock_key, self.token, self.request.settings.lease_s,
                        self.run.run_id)  # fmt: skip
            yield conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        if self.outer is not None:
            yield self.outer
            return
        with self.store.read() as conn:
            yield conn

    def execute(self) -> RunReport:
        files: list[dict[str, object]] = []
        try:
            for position, step in enumerate(self.request.job.ordered_steps()):
                self._run_step(position, step)
            files = self._outputs()
            self._finish(RunStatus.COMPLETED, None)
        except StopRun as exc:
            self._finish(RunStatus.STOPPED, str(exc))
        except EngineError as exc:
            self._finish(RunStatus.FAILED, str(exc))
        except KeyboardInterrupt:
            self._finish(RunStatus.STOPPED, "interrupted")
            raise
        except Exception as exc:
            self._finish(RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
            raise
        with self.reading() as conn:
            return build_report(conn, self.run.run_id, self.request.dry_run, files,
                                self.request.settings.sample_items_max)  # fmt: skip

    def _finish(self, status: RunStatus, reason: str | None) -> None:
        with contextlib.suppress(locks.LockLost), self.tx() as conn:
            repo.set_status(conn, self.run.run_id, status, utc_now(), reason)
            if self.token is not None:
                locks.release(conn, self.lock_key, self.token)

    # ------------------------------------------------------------------------- steps

    def _run_step(self, position: int, step: Step) -> None:
        with self.reading() as conn:
            done = repo.step_rows(conn, self.run.run_id)
        row = done.get(step.name)
        if row is not None and row.totals.status == "completed":
            return
        self._check_before(step, done)
        with self.reading() as conn, gc_paused():  # a step's items: often 100,000s, no cycles
            items = list(step.list_items(conn, self.ctx))
            _check_items(step, items)
            fingerprint = items_fingerprint(items)
        if row is None and not items:  # nothing to do: started and completed in one go
            with self.tx() as conn:
                repo.start_step(conn, self.run.run_id, step.name, position, 0, fingerprint,
                                utc_now())  # fmt: skip
                repo.complete_step(conn, self.run.run_id, step.name, utc_now())
            faults.fault_point(step.name, 0, "listed")
            self.verified.add(step.name)
            return
        if row is None:
            with self.tx() as conn:
                repo.start_step(conn, self.run.run_id, step.name, position, len(items),
                                fingerprint, utc_now())  # fmt: skip
            items_done, chunk_no, failed_n = 0, 0, 0
        else:
            if row.items_fingerprint != fingerprint:
                raise ItemsChanged(
                    f"step {step.name} of run {self.run.run_id} lists other items than when it "
                    f"started ({len(items)} now, {row.totals.items_total} then); inputs changed"
                )
            items_done, chunk_no = row.totals.items_read, row.chunks_done
            failed_n = row.totals.items_failed
        faults.fault_point(step.name, 0, "listed")
        chunk_size = min(self.run.chunk_size * step.chunk_scale, CHUNK_ITEMS_MAX)
        while items_done < len(items):
            chunk = items[items_done : items_done + chunk_size]
            failed_n += self._run_chunk(step, chunk_no, items_done, chunk)
            items_done += len(chunk)
            chunk_no += 1
            self._after_chunk(step, chunk_no - 1, items_done, len(items), failed_n)
        with self.tx() as conn:
            totals = repo.step_rows(conn, self.run.run_id)[step.name].totals
            problems = controls.verify_step(conn, self.run.run_id, totals)
            if problems:
                raise ControlTotalsMismatch("; ".join(problems))
            repo.complete_step(conn, self.run.run_id, step.name, utc_now())
        self.verified.add(step.name)

    def _check_before(self, step: Step, done: Mapping[str, repo.StepRow]) -> None:
        problems: list[str] = []
        with self.reading() as conn:
            for dep in step.after:
                dep_row = done.get(dep)
                if dep_row is None or dep_row.totals.status != "completed":
                    problems.append(f"step {dep} has not completed")
                    continue
                if dep in self.verified:  # verified when it completed, under this run's lock
                    continue
                problems += controls.verify_step(conn, self.run.run_id, dep_row.totals)
            if not problems and step.check_before is not None:
                totals = {name: r.totals for name, r in done.items()}
                problems += step.check_before(conn, self.ctx, totals)
        if problems:
            raise ControlTotalsMismatch(f"before step {step.name}: " + "; ".join(problems))

    def _run_chunk(self, step: Step, chunk_no: int, first: int, chunk: Sequence[Item]) -> int:
        """Process, post and record one chunk in one transaction; the number of failed items."""
        started = time.monotonic()
        with self.tx() as conn:
            if self.outer is None and repo.stop_requested(conn, self.run.run_id):
                raise StopRun("stopped by operator")
            frames = self._process(conn, step, chunk)
            faults.fault_point(step.name, chunk_no, "after_process")
            results, written = self._post(conn, frames, first)
            faults.fault_point(step.name, chunk_no, "after_post")
            record = repo.ChunkRecord(
                self.run.run_id, step.name, chunk_no, first, self.run.business_date, results,
                written.entries, written.postings, written.debits_fen, written.credits_fen,
                _tallies(results), int((time.monotonic() - started) * 1000),
            )  # fmt: skip
            repo.record_chunk(conn, record, utc_now())
            faults.fault_point(step.name, chunk_no, "before_commit")
            faults.arm_commit_fault(conn, step.name, chunk_no)
        faults.fault_point(step.name, chunk_no, "after_commit")
        return int((results["status"] == ItemStatus.FAILED.value).sum())

    def _process(self, conn: Connection, step: Step, chunk: Sequence[Item]) -> ChunkFrames:
        """The chunk's outcomes and entries as frames, from either kind of step."""
        if step.process_frames is not None:
            frames = step.process_frames(conn, self.ctx, chunk)
            return outcomes.checked(step.name, chunk, frames)
        assert step.process is not None
        rows = list(step.process(conn, self.ctx, chunk))
        _check_outcomes(step, chunk, rows)
        return outcomes.frames_of_outcomes(rows)

    def _post(
        self, conn: Connection, frames: ChunkFrames, first: int
    ) -> tuple[pl.DataFrame, _Written]:
        """Post the chunk's entries; an entry already in the ledger is a skip, never a repost."""
        settled = None
        written = _Written(0, 0, 0, 0)
        if frames.entries is not None and frames.postings is not None and frames.entries.height:
            result, settled = post_frames_settled(
                conn, frames.entries, frames.postings, actor=self.request.actor, now=utc_now()
            )
            new_keys = settled.filter(pl.col("state") == "written")["idempotency_key"]
            legs = frames.postings.filter(pl.col("idempotency_key").is_in(new_keys.implode()))
            amount = legs["amount_fen"]
            written = _Written(result.written, result.postings_written,
                               int(amount.clip(lower_bound=0).sum()),
                               -int(amount.clip(upper_bound=0).sum()))  # fmt: skip
        return outcomes.results(frames.outcomes, settled, first), written

    def _after_chunk(
        self, step: Step, chunk_no: int, items_done: int, items_total: int, failed_n: int
    ) -> None:
        """Report progress; stop the run when the step's failure rate passes the threshold."""
        if self.on_chunk is not None:
            elapsed = time.monotonic() - self.started
            self.on_chunk(ChunkProgress(self.run.run_id, step.name, chunk_no, items_done,
                                        items_total, elapsed))  # fmt: skip
        settings = self.request.settings
        if items_done < settings.failure_min_items or items_done == 0:
            return
        rate_pct = Decimal(failed_n) * 100 / Decimal(items_done)
        if rate_pct > settings.failure_rate_max_pct:
            raise StopRun(
                f"failure rate {rate_pct:.2f}% > {settings.failure_rate_max_pct}% after "
                f"{items_done} items of step {step.name}; look at the failures, then resume"
            )

    # ------------------------------------------------------------------------- files

    def _outputs(self) -> list[dict[str, object]]:
        job = self.request.job
        if job.outputs is None:
            return []
        with self.reading() as conn:
            produced = list(job.outputs(conn, self.ctx))
        folder = output_folder(self.request.settings, job.name, self.run.business_date)
        described: list[dict[str, object]] = []
        for output in produced:
            path = folder / output.name
            data = output.text.encode()
            if not self.request.dry_run:
                write_atomically(path, data)
            written = not self.request.dry_run
            described.append({"name": output.name, "path": str(path), "bytes": len(data),
                              "rows": output.rows, "written": written})  # fmt: skip
        return described


@dataclass(frozen=True)
class _Written:
    entries: int
    postings: int
    debits_fen: int
    credits_fen: int


def _tallies(results: pl.DataFrame) -> dict[str, int]:
    """Count and amount of the succeeded items per tally, as ``count:T`` / ``amount_fen:T``."""
    tallied = (
        results.filter(
            (pl.col("status") == ItemStatus.SUCCEEDED.value) & pl.col("tally").is_not_null()
        )
        .group_by("tally")
        .agg(pl.len().alias("count"), pl.col("amount_fen").sum().alias("amount_fen"))
    )
    tallies: dict[str, int] = {}
    for tally, count, amount_fen in tallied.iter_rows():
        tallies[f"count:{tally}"] = int(count)
        tallies[f"amount_fen:{tally}"] = int(amount_fen)
    return tallies


def _check_items(step: Step, items: Sequence[Item]) -> None:
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise EngineError(f"step {step.name}: item keys repeat")
    too_long = [k for k in keys if not k or len(k) > ITEM_KEY_LEN_MAX]
    if too_long:
        raise EngineError(f"step {step.name}: item key must be 1..{ITEM_KEY_LEN_MAX} chars")


def _check_outcomes(step: Step, chunk: Sequence[Item], rows: Sequence[ItemOutcome]) -> None:
    """Every item read has exactly one outcome, in order (items read = outcomes)."""
    if [o.key for o in rows] != [i.key for i in chunk]:
        raise EngineError(f"step {step.name}: outcomes do not match the chunk's items one to one")


def output_folder(settings: EngineSettings, job_name: str, business_date: date) -> Path:
    return settings.out_dir / job_name / business_date.isoformat()


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
