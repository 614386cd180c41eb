"""Benchmark: import 1,000,000 customer rows with full validation.

    python -m bench.import_customers --rows 1000000 --backend sqlite
    python -m bench.import_customers --rows 1000000 --backend postgresql

Writes the file first (not timed): UTF-8 CSV with Chinese names, valid resident
IDs and phones, and three rows in a thousand that are dirty (a bad check digit
and a bad phone, rejected; a phone written ``+86 138-…``, accepted by the
row-by-row rules) so both the vectorised pass and the scalar rules run. Then
times two things: ``validate`` (read, clean and validate every row, no store)
and ``import`` (the whole ``import_file`` into a fresh database: validation,
duplicate checks, inserts, the imports record, one transaction). Reports wall
and CPU seconds and the machine's load, since other work on a shared machine
stretches wall time. Target: at least 200,000 rows/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import emit, fresh_database, peak_rss_mb
from cardbatch.domain.identity import ric_check_char
from cardbatch.ingest.columns import CUSTOMERS
from cardbatch.ingest.formats import open_reader
from cardbatch.ingest.service import import_file
from cardbatch.ingest.settings import CHUNK_ROWS_DEFAULT, IngestSettings
from cardbatch.ingest.validate import validate_chunk
from cardbatch.store import open_store
from cardbatch.store.migrate import upgrade

ROWS_DEFAULT = 1_000_000
DIRTY_EVERY = 1_000
BIRTH_DAYS = 5_800  # births 1990..2005: every region below existed then (stdnum's county table)
REGIONS = ("110105", "310101", "440305", "330106", "360426", "320102", "510104", "420102")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
CITIES = ("北京", "上海", "深圳", "杭州", "南昌", "南京", "成都", "武汉")
TARGET_ROWS_PER_S = 200_000


def customer_row(serial: int) -> str:
    birth = date(1990, 1, 1) + timedelta(days=serial % BIRTH_DAYS)
    body = f"{REGIONS[serial % len(REGIONS)]}{birth:%Y%m%d}{serial // BIRTH_DAYS % 1000:03d}"
    ric = body + ric_check_char(body)
    name = SURNAMES[serial % len(SURNAMES)] + GIVEN[serial // 7 % len(GIVEN)]
    phone = f"1{3 + serial % 7}{serial % 10**9:09d}"
    cells = [f"C{serial:08d}", name, ric, phone, CITIES[serial % 8], str(serial % 1001)]
    if serial % DIRTY_EVERY == 7:
        cells[2] = ric[:17] + ("0" if ric[17] != "0" else "1")  # bad check digit: rejected
    elif serial % DIRTY_EVERY == 307:
        cells[3] = "12345"  # bad phone: rejected
    elif serial % DIRTY_EVERY == 607:
        cells[3] = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"  # accepted by the row rules
    return ",".join(cells)


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("customer_id,name,id_number,phone,city,credit_score\n")
        for start in range(0, rows, 100_000):
            stop = min(rows, start + 100_000)
            handle.write("\n".join(customer_row(i) for i in range(start, stop)) + "\n")


def timed(rows: int, wall_s: float, cpu_s: float) -> dict[str, Any]:
    return {"seconds": round(wall_s, 2), "cpu_seconds": round(cpu_s, 2),
            "rows_per_s": round(rows / wall_s), "rows_per_cpu_s": round(rows / cpu_s)}  # fmt: skip


def validate_only(path: Path) -> dict[str, Any]:
    """Read, clean and validate every row without a store (no database writes)."""
    wall, cpu = time.perf_counter(), time.process_time()
    reader, header = open_reader(path, CUSTOMERS)
    rows = 0
    for chunk in reader.chunks(50_000):
        result = validate_chunk(chunk, CUSTOMERS, header)
        rows += result.accepted.height + len(result.rejects)
    return {"rows": rows, **timed(rows, time.perf_counter() - wall, time.process_time() - cpu)}


def run(backend: str, rows_n: int, chunk_rows: int = CHUNK_ROWS_DEFAULT) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers.csv"
        write_file(path, rows_n)
        file_mb = path.stat().st_size / 2**20
        load_before = os.getloadavg()[0]
        validation = validate_only(path)
        with fresh_database(backend, Path("out/bench")) as url:
            bare = open_store(url, require_schema=False)
            upgrade(bare)
            bare.dispose()
            store = open_store(url)
            wall, cpu = time.perf_counter(), time.process_time()
            settings = IngestSettings(chunk_rows=chunk_rows)
            result = import_file(store, "customers", path, actor="bench", settings=settings)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            store.dispose()
    assert result.rows_total == rows_n == result.rows_accepted + result.rows_rejected
    return {
        "benchmark": "import_customers",
        "backend": backend,
        "chunk_rows": chunk_rows,
        "rows": result.rows_total,
        "rows_accepted": result.rows_accepted,
        "rows_rejected": result.rows_rejected,
        "rows_fast_path": result.rows_fast,
        "file_mb": round(file_mb, 1),
        "validate": validation,
        "import": timed(result.rows_total, wall, cpu),
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "load_average_1min_before": round(load_before, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS_DEFAULT)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=CHUNK_ROWS_DEFAULT,
        help="rows per chunk (the import setting chunk_rows)",
    )
    args = parser.parse_args()
    emit(run(args.backend, args.rows, args.chunk_rows))


if __name__ == "__main__":
    main()
