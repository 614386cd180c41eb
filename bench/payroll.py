"""Benchmark: a large payroll file from submit to return files on SQLite.

Makes a fresh SQLite database with one deposit account per row (a few closed, a few with
another holder name), an employer with enough money, and a UTF-8 pipe payroll file; then
times ``submit``, ``approve``, ``run`` and ``returns`` through the service layer (what the
CLI calls) and prints one JSON document. Set-up time is reported apart. ``write_floor_s`` is
the time the store's fastest path takes to insert just the run's journal entries and postings
(one entry and two postings per paid row) into an empty schema; no run can beat it.

    python -m bench.payroll [--rows 1000000] [--chunk-rows 5000] [--workdir DIR]

The run is the engine job ``paybatch``; without ``--chunk-rows`` its chunks hold the engine's
chunk size times the job's chunk scale.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench.common import emit, peak_rss_mb
from bench.write_floor import ledger_rows, write_floor
from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.money import format_fen
from cardbatch.paybatch import SubmitRequest, approve, run_batch, submit, write_batch_returns
from cardbatch.paybatch.model import CHUNK_ROWS_DEFAULT
from cardbatch.services import ledger
from cardbatch.store import Store, open_store
from cardbatch.store.frame_io import insert_tuples
from cardbatch.store.migrate import upgrade

ROWS_DEFAULT = 1_000_000
ROWS_MAX = 2_000_000
UNIT = "8001"
EMPLOYER = "8001000000000001"
DAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
T = TypeVar("T")


def account(n: int) -> str:
    return f"6217{n:012d}"


def amount_fen(n: int) -> int:
    return 300_000 + (n * 7919) % 500_000


def holder(n: int) -> str:
    return f"员工{n:07d}" if n % 1000 else f"他人{n:07d}"  # every 1000th: 户名不符


def make_accounts(store: Store, rows: int) -> None:
    columns = ("account_id", "holder_name", "status", "created_at", "created_by")
    with store.write() as conn:
        insert_tuples(
            conn, "deposit_accounts", columns, [(EMPLOYER, "某某公司", "active", NOW, "bench")]
        )
        conn.exec_driver_sql(
            "INSERT INTO enterprises (enterprise_id, name, kind, unit_no, settlement_account_id,"
            " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("E8001", "某某公司", "employer", UNIT, EMPLOYER, NOW, "bench"),
        )
        batch = 100_000
        for start in range(1, rows + 1, batch):
            insert_tuples(conn, "deposit_accounts", columns, [
                (account(n), holder(n), "closed" if n % 997 == 0 else "active", NOW, "bench")
                for n in range(start, min(start + batch, rows + 1))
            ])  # fmt: skip
    total_fen = sum(amount_fen(n) for n in range(1, rows + 1))
    funding = transfer("bench-fund", DAY, EntryKind.DEPOSIT, (GL.COUNTER_CASH, Component.BALANCE),
                       (EMPLOYER, Component.BALANCE), total_fen + 100)  # fmt: skip
    ledger.post(store, [funding], "bench")


def write_file(path: Path, rows: int) -> None:
    total_fen = sum(amount_fen(n) for n in range(1, rows + 1))
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(
            f"1|1|{DAY:%Y%m%d}|{UNIT}|1|1|{rows}|{format_fen(total_fen, grouping=False)}|\n"
        )
        for n in range(1, rows + 1):
            amount = format_fen(amount_fen(n), grouping=False)
            handle.write(f"{n:07d}|员工{n:07d}|{amount}|{account(n)}|{UNIT}|1|1|01|\n")


def timed(
    phases: dict[str, float],
    name: str,
    action: Callable[[], T],
    cpu: dict[str, float] | None = None,
) -> T:
    """Run ``action``, recording its wall time (and this process's CPU time in ``cpu``)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = action()
    phases[name] = round(time.perf_counter() - start, 3)
    if cpu is not None:
        cpu[name] = round(time.process_time() - start_cpu, 3)
    return result


def run(rows: int, chunk_rows: int | None, workdir: Path) -> dict[str, Any]:
    if not 1 <= rows <= ROWS_MAX:
        raise SystemExit(f"--rows must be 1..{ROWS_MAX}")
    db_path = workdir / "bench.db"
    for leftover in workdir.glob("bench.db*"):
        leftover.unlink()
    setup: dict[str, float] = {}
    store = timed(setup, "schema", lambda: _fresh_store(db_path))
    timed(setup, "accounts", lambda: make_accounts(store, rows))
    payroll = workdir / f"payroll_{rows}.txt"
    timed(setup, "file", lambda: write_file(payroll, rows))
    phases: dict[str, float] = {}
    cpu: dict[str, float] = {}
    request = SubmitRequest(payroll, "payroll", EMPLOYER, DAY)
    outcome = timed(phases, "submit", lambda: submit(store, request, "maker"), cpu)
    assert outcome.rejection is None, outcome.rejection
    timed(phases, "approve", lambda: approve(store, outcome.batch_id, "checker"), cpu)
    result = timed(phases, "run", lambda: run_batch(store, outcome.batch_id, "operator",
                                                    chunk_rows=chunk_rows), cpu)  # fmt: skip
    out_dir = workdir / "returns"
    files = timed(
        phases, "returns", lambda: write_batch_returns(store, outcome.batch_id, out_dir), cpu
    )
    check = ledger.check(store)
    floor_s = write_floor("sqlite", None, *ledger_rows(store, "paybatch:%"))
    store.dispose()
    total_s = sum(phases.values())
    return {
        "benchmark": "payroll",
        "backend": "sqlite",
        "rows": rows,
        "chunk_rows": chunk_rows or CHUNK_ROWS_DEFAULT,
        "file_bytes": payroll.stat().st_size,
        "seconds": phases,
        "seconds_total": round(total_s, 3),
        "rows_per_second": round(rows / total_s),
        "write_floor_s": round(floor_s, 3),
        "vs_write_floor": round(total_s / floor_s, 2) if floor_s else None,
        "cpu_seconds": cpu,
        "cpu_seconds_total": round(sum(cpu.values()), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "setup_seconds": setup,
        "success_count": result.success_count,
        "failure_count": result.failure_count,
        "success_total_fen": result.success_total_fen,
        "return_files": [p.name for p in files.paths],
        "ledger_balanced": check.balanced,
        "peak_rss_mb": peak_rss_mb(),
    }


def _fresh_store(path: Path) -> Store:
    bare = open_store(f"sqlite:///{path}", require_schema=False)
    upgrade(bare)
    return bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS_DEFAULT)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-payroll-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        emit(run(args.rows, args.chunk_rows, workdir))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
