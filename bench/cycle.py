"""Benchmark: one worst-case night of the card cycle, end to end, against two yardsticks.

    python -m bench.cycle --accounts 1000000
    python -m bench.cycle --accounts 300000 --backend postgresql --executor dask

Builds the synthetic worst-case portfolio of :mod:`cardbatch.jobs.cycle_portfolio`
(not timed; built once per size and seed in a separate process and cached under
``out/bench/cache``, then copied into a fresh database for each run), times the
partitioned cycle of its business date (read, compute, write postings, statements,
balances, item results, commit) and prints JSON with:

- ``vs_write_floor``: cycle seconds / seconds to bulk-insert the same journal
  entries and postings into an identical empty schema by the store's fastest path
  (executemany in one transaction on SQLite, COPY on PostgreSQL);
- ``vs_reference``: seconds per account of the plain-Python per-account reference
  (the tests' oracle, with one query and per-row inserts per account) on a subset
  of ``--reference-accounts`` / seconds per account of the cycle.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, text
from tests.reference.cycle_reference import RefAccount, Txn
from tests.reference.cycle_reference import run_period as reference_period

from bench.common import PG_ADMIN_URL, emit, on_server, peak_rss_mb, remove_sqlite
from bench.write_floor import ledger_rows, write_floor
from cardbatch.engine.settings import load_settings
from cardbatch.jobs import cycle_io
from cardbatch.jobs.cycle_partitions import PARTITION_ACCOUNTS_DEFAULT, run_partitioned
from cardbatch.jobs.cycle_portfolio import BUSINESS_DATE, PRODUCT_CODE, build_portfolio, card_id
from cardbatch.services import ledger
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade

CACHE = Path("out/bench/cache")
REFERENCE_ACCOUNTS = 100_000
CYCLE_KEYS = "card-cycle:%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--db",
        help="PostgreSQL server URL (fresh databases are made there) "
        "or a sqlite:/// file to create; default: a fresh file or database",
    )
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
    parser.add_argument("--scheduler", help="tcp://host:port of a Dask scheduler")
    parser.add_argument("--partition-accounts", type=int, default=PARTITION_ACCOUNTS_DEFAULT)
    parser.add_argument("--reference-accounts", type=int, default=REFERENCE_ACCOUNTS)
    parser.add_argument(
        "--no-yardsticks", action="store_true",
        help="time the night only (no write floor, no reference): for scale and memory runs, "
        "where the floor would hold every ledger row in memory",
    )  # fmt: skip
    args = parser.parse_args()
    emit(run(vars(args)))


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Build (or reuse) the portfolio, time the cycle and both yardsticks; the JSON document."""
    accounts_n, seed = int(args["accounts"]), int(args["seed"])
    db: str | None = args.get("db")
    backend = "postgresql" if db and db.startswith("postgresql") else args["backend"]
    with fresh_copy(backend, accounts_n, seed, db) as url:
        store = open_store(url)
        settings = load_settings()
        rss_before_mb = peak_rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        outcomes = run_partitioned(
            store, url, BUSINESS_DATE, "bench", settings,
            accounts_per_partition=int(args["partition_accounts"]),
            executor=args["executor"], scheduler=args.get("scheduler"),
        )  # fmt: skip
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        rss_mb = peak_rss_mb()
        not_done = [o for o in outcomes if o.status != "completed"]
        if not_done:
            raise SystemExit(f"cycle partitions not completed: {not_done}")
        verdict = ledger.check(store)
        if not verdict.balanced:
            raise SystemExit(f"ledger check failed after the cycle: {verdict.mismatches[:5]}")
        if args.get("no_yardsticks"):
            yardsticks: dict[str, Any] = {"postings": cycle_postings(store)}
        else:
            yardsticks = _yardsticks(store, backend, db, seconds / accounts_n,
                                     min(accounts_n, int(args["reference_accounts"])))  # fmt: skip
        store.dispose()
    return {
        "benchmark": "cycle",
        "backend": backend,
        "executor": args["executor"],
        "accounts": accounts_n,
        "partitions": len(outcomes),
        "partition_accounts": int(args["partition_accounts"]),
        "seconds": round(seconds, 3),
        "accounts_per_s": round(accounts_n / seconds),
        "cpu_seconds_this_process": round(cpu_seconds, 3),
        "peak_rss_mb": rss_mb,
        "rss_before_cycle_mb": rss_before_mb,
        **yardsticks,
        "vs_write_floor": _ratio(seconds, yardsticks.get("write_floor_s")),
        "ledger_balanced": verdict.balanced,
    }


def _yardsticks(
    store: Store, backend: str, db: str | None, per_account_s: float, subset_n: int
) -> dict[str, Any]:
    """The write floor of the night's ledger rows and the per-account reference."""
    entries, posting_rows = ledger_rows(store, CYCLE_KEYS)
    floor_s = write_floor(backend, db, entries, posting_rows)
    reference_s = reference_seconds(store, subset_n)
    return {
        "postings": len(posting_rows),
        "entries": len(entries),
        "write_floor_s": round(floor_s, 3),
        "reference_accounts": subset_n,
        "reference_s": round(reference_s, 3),
        "vs_reference": round((reference_s / subset_n) / per_account_s, 2),
    }


def _ratio(seconds: float, floor_s: float | None) -> float | None:
    return round(seconds / floor_s, 2) if floor_s else None


def cycle_postings(store: Store) -> int:
    """How many postings the night wrote (its entries' keys start with the job's name)."""
    query = text(
        "SELECT COUNT(*) FROM postings p JOIN journal_entries je ON je.entry_id = p.entry_id "
        "WHERE je.idempotency_key LIKE :keys"
    )
    with store.read() as conn:
        return int(conn.execute(query, {"keys": CYCLE_KEYS}).scalar_one())


# ----------------------------------------------------------------------------- portfolio


def _build(url: str, accounts_n: int, seed: int) -> None:
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    store = open_store(url)
    build_portfolio(store, accounts_n, seed)
    store.dispose()


def _build_apart(url: str, accounts_n: int, seed: int) -> None:
    """Build in a separate process, so the cycle's peak memory is its own."""
    process = multiprocessing.get_context("spawn").Process(
        target=_build, args=(url, accounts_n, seed)
    )
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"building the portfolio failed (exit {process.exitcode})")


@contextmanager
def fresh_copy(backend: str, accounts_n: int, seed: int, db: str | None) -> Iterator[str]:
    """A fresh database holding the cached portfolio of this size and seed."""
    if backend == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        cached = CACHE / f"cycle-{accounts_n}-{seed}.db"
        if not cached.exists():
            partial = cached.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            _build_apart(f"sqlite:///{partial}", accounts_n, seed)
            partial.replace(cached)
        target = Path(db.removeprefix("sqlite:///")) if db else (
            CACHE.parent / f"cycle-run-{uuid.uuid4().hex[:8]}.db"
        )  # fmt: skip
        shutil.copyfile(cached, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            if not db:
                remove_sqlite(target)
        return
    admin = db or PG_ADMIN_URL
    template = f"cardbatch_bench_cycle_{accounts_n}_{seed}"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
    if exists is None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{template}_partial"')
        _build_apart(on_server(admin, f"{template}_partial"), accounts_n, seed)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{template}_partial" RENAME TO "{template}"')
    name = f"cardbatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield on_server(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----------------------------------------------------------------------------- reference

_REFERENCE_TABLE = (
    "CREATE TEMPORARY TABLE reference_statements (account_id varchar(40), statement_date date, "
    "closing_balance_fen bigint, minimum_payment_fen bigint, interest_fen bigint)"
)
_REFERENCE_KINDS = {"purchase": "purchase", "cash_advance": "cash_advance", "payment": "payment"}


def reference_seconds(store: Store, subset_n: int) -> float:
    """Seconds for the per-account reference: one read, the oracle, per-row inserts."""
    day = BUSINESS_DATE
    with store.read() as conn:
        terms = cycle_io.terms_in_force(conn, PRODUCT_CODE, day, {})[0]
        started = time.perf_counter()
        conn.exec_driver_sql(_REFERENCE_TABLE)
        for index in range(subset_n):
            account = card_id(index)
            state = conn.execute(
                text("SELECT period_start, statement_day, credit_limit_fen FROM cycle_accounts "
                     "JOIN card_accounts USING (account_id) WHERE account_id = :a"),
                {"a": account},
            ).one()  # fmt: skip
            start = _as_date(state[0])
            txns = _reference_txns(conn, account, start, day)
            ref = RefAccount(index, state[1], state[2], terms, opened=start)
            result = reference_period(ref, txns)
            s = result.statement
            conn.execute(
                text("INSERT INTO reference_statements VALUES (:a, :d, :c, :m, :i)"),
                {"a": account, "d": day, "c": s.closing_balance_fen,
                 "m": s.minimum_payment_fen, "i": s.interest_fen},
            )  # fmt: skip
            if s.interest_fen:
                conn.execute(
                    text("INSERT INTO reference_statements VALUES (:a, :d, 0, 0, :i)"),
                    {"a": f"GL:{account}", "d": day, "i": -s.interest_fen},
                )
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


def _reference_txns(conn: Connection, account: str, first: date, last: date) -> list[Txn]:
    rows = conn.execute(
        text("SELECT je.business_date, je.entry_id, je.kind, SUM(p.amount_fen) FROM postings p "
             "JOIN journal_entries je ON je.entry_id = p.entry_id WHERE p.account_id = :a "
             "AND je.business_date >= :f AND je.business_date <= :l "
             "AND je.kind IN ('purchase', 'cash_advance', 'payment') "
             "GROUP BY je.business_date, je.entry_id, je.kind"),
        {"a": account, "f": first, "l": last},
    )  # fmt: skip
    return [Txn(_as_date(d), int(e), _REFERENCE_KINDS[k], abs(int(s))) for d, e, k, s in rows]


def _as_date(value: Any) -> date:
    """A date from a raw row (SQLite hands back ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


if __name__ == "__main__":
    main()
