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
- ``vs_reference``: seconds per account of the plain-Python per-account reference (the
  tests' oracle, on a subset of ``--reference-accounts``) / seconds per account of the
  cycle. The reference runs on the portfolio as it is before the night and, one account
  and one statement at a time, reads the account's state and period, runs the oracle and
  writes what the night writes for it (the statement with its inputs, the interest entry
  with its postings and balances, the next state, the item result); its transaction is
  rolled back, so the night starts from the same data.

``--no-yardsticks`` times the night alone (scale and memory runs).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, text
from tests.reference.cycle_reference import RefAccount, Txn
from tests.reference.cycle_reference import run_period as reference_period

from bench.common import PG_ADMIN_URL, emit, on_server, peak_rss_mb, remove_sqlite
from bench.write_floor import ledger_rows, migrate, write_floor
from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.engine.settings import load_settings
from cardbatch.jobs import cycle_io
from cardbatch.jobs.cycle_partitions import PARTITION_ACCOUNTS_DEFAULT, run_partitioned
from cardbatch.jobs.cycle_portfolio import BUSINESS_DATE, PRODUCT_CODE, build_portfolio, card_id
from cardbatch.services import ledger
from cardbatch.services.actor import utc_now
from cardbatch.store import Store, open_store
from cardbatch.store.tables_cycle import STATEMENT_AMOUNTS

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
    parser.add_argument(
        "--in-place", action="store_true",
        help="SQLite: run on the cached portfolio itself, not a copy (the cache is used up; "
        "for sizes where the disk holds one portfolio and its night, not two)",
    )  # fmt: skip
    args = parser.parse_args()
    emit(run(vars(args)))


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Build (or reuse) the portfolio, time the cycle and both yardsticks; the JSON document."""
    accounts_n = int(args["accounts"])
    db: str | None = args.get("db")
    backend = "postgresql" if db and db.startswith("postgresql") else args["backend"]
    measure = not args.get("no_yardsticks")
    yardsticks: dict[str, Any] = {}
    in_place = bool(args.get("in_place"))
    with fresh_copy(backend, accounts_n, int(args["seed"]), db, in_place) as url:
        store = open_store(url)
        if measure:  # on the portfolio as it is before the night
            subset_n = min(accounts_n, int(args["reference_accounts"]))
            reference_s = reference_seconds(store, subset_n)
            yardsticks.update(reference_accounts=subset_n, reference_s=round(reference_s, 3))
        night = _night(store, url, args)
        verdict = ledger.check(store)
        if not verdict.balanced:
            raise SystemExit(f"ledger check failed after the cycle: {verdict.mismatches[:5]}")
        if measure:
            yardsticks.update(_floor(store, backend, db))
            per_account_s = night["seconds"] / accounts_n
            yardsticks["vs_reference"] = round((reference_s / subset_n) / per_account_s, 2)
        else:
            yardsticks["postings"] = cycle_postings(store)
        store.dispose()
    return {
        "benchmark": "cycle",
        "backend": backend,
        "executor": args["executor"],
        "accounts": accounts_n,
        "partition_accounts": int(args["partition_accounts"]),
        **night,
        "accounts_per_s": round(accounts_n / night["seconds"]),
        **yardsticks,
        "vs_write_floor": _ratio(night["seconds"], yardsticks.get("write_floor_s")),
        "ledger_balanced": verdict.balanced,
    }


def _night(store: Store, url: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run the partitioned night; its seconds, CPU seconds and peak memory."""
    rss_before_mb = peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    outcomes = run_partitioned(
        store, url, BUSINESS_DATE, "bench", load_settings(),
        accounts_per_partition=int(args["partition_accounts"]),
        executor=args["executor"], scheduler=args.get("scheduler"),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    not_done = [o for o in outcomes if o.status != "completed"]
    if not_done:
        raise SystemExit(f"cycle partitions not completed: {not_done}")
    return {
        "partitions": len(outcomes),
        "seconds": round(seconds, 3),
        "cpu_seconds_this_process": round(cpu_seconds, 3),
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_cycle_mb": rss_before_mb,
    }


def _floor(store: Store, backend: str, db: str | None) -> dict[str, Any]:
    """The night's ledger rows and the time to bulk-insert them into an empty schema."""
    entries, posting_rows = ledger_rows(store, CYCLE_KEYS)
    floor_s = write_floor(backend, db, entries, posting_rows)
    return {"postings": len(posting_rows), "entries": len(entries),
            "write_floor_s": round(floor_s, 3)}  # fmt: skip


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
    migrate(url)
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
def fresh_copy(
    backend: str, accounts_n: int, seed: int, db: str | None, in_place: bool = False
) -> Iterator[str]:
    """A fresh database holding the cached portfolio of this size and seed.

    ``in_place`` (SQLite) moves the cached file itself into place instead of copying it:
    the cache is used up, and the disk holds one portfolio, not two (at 10M accounts a
    portfolio is ~23 GB and its night adds ~30 GB).
    """
    if backend == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        cached = CACHE / f"cycle-{accounts_n}-{seed}.db"
        if not cached.exists():
            partial = cached.with_suffix(".partial")
            remove_sqlite(partial)  # with a killed build's WAL, which must not meet a new file
            _build_apart(f"sqlite:///{partial}", accounts_n, seed)
            partial.replace(cached)
        target = Path(db.removeprefix("sqlite:///")) if db else (
            CACHE.parent / f"cycle-run-{uuid.uuid4().hex[:8]}.db"
        )  # fmt: skip
        if in_place:
            shutil.move(cached, target)
        else:
            shutil.copyfile(cached, target)
        try:
            migrate(f"sqlite:///{target}")  # a portfolio cached by older code: to this schema
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
        migrate(on_server(admin, name))
        yield on_server(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----------------------------------------------------------------------------- reference

_REFERENCE_STATE = text(
    "SELECT c.period_start, a.statement_day, a.credit_limit_fen FROM cycle_accounts c "
    "JOIN card_accounts a ON a.account_id = c.account_id WHERE c.account_id = :a"
)
_STATEMENT_COLUMNS = ("account_id", "statement_date", "period_start", "due_date",
                      *STATEMENT_AMOUNTS, "dpd", "bucket", "five_category", "rule_version",
                      "run_id", "inputs_json")  # fmt: skip
_REFERENCE_STATEMENT = text(
    f"INSERT INTO statements ({', '.join(_STATEMENT_COLUMNS)}) "
    f"VALUES ({', '.join(f':{name}' for name in _STATEMENT_COLUMNS)})"
)
_REFERENCE_ENTRY = text(
    "INSERT INTO journal_entries (idempotency_key, content_hash, business_date, kind, "
    "description, run_id, actor, created_at) VALUES (:key, :hash, :d, :kind, :text, :run, "
    "'bench', :now) RETURNING entry_id"
)
_REFERENCE_POSTING = text(
    "INSERT INTO postings (entry_id, account_id, component, amount_fen) VALUES (:e, :a, :c, :f)"
)
_REFERENCE_BALANCE = text(
    "INSERT INTO balances (account_id, component, balance_fen) VALUES (:a, :c, :f) "
    "ON CONFLICT (account_id, component) DO UPDATE SET balance_fen = balances.balance_fen "
    "+ excluded.balance_fen"
)
_REFERENCE_NEXT_STATE = text(
    "UPDATE cycle_accounts SET period_start = :next, last_statement_date = :d, due_date = :due, "
    "statement_balance_fen = :closing, minimum_fen = :minimum, dpd = :dpd, bucket = :bucket, "
    "five_category = :category, state_date = :d WHERE account_id = :a"
)
_REFERENCE_RESULT = text(
    "INSERT INTO item_results (run_id, step_name, item_key, seq, business_date, status, "
    "entry_key, entry_id, amount_fen, chunk_no) VALUES (:run, 'statement', :item, :seq, :d, "
    "'succeeded', :key, :e, :f, 1)"
)
_REFERENCE_KINDS = {"purchase": "purchase", "cash_advance": "cash_advance", "payment": "payment"}
_REFERENCE_RUN = "bench-reference"


def reference_seconds(store: Store, subset_n: int) -> float:
    """Seconds for the per-account reference on the portfolio as it is before the night.

    Per account, one row at a time: read its state and the period's transactions, run the
    tests' oracle, and write what the night writes for it (the statement with its inputs,
    the interest entry with its two postings and balances, the next state, the item
    result), in one transaction that is rolled back, so the night starts from the same data.
    """
    with store.writer.connect() as conn:
        transaction = conn.begin()
        try:
            terms = cycle_io.terms_in_force(conn, PRODUCT_CODE, BUSINESS_DATE, {})[0]
            started = time.perf_counter()
            for index in range(subset_n):
                _reference_account(conn, index, terms)
            return time.perf_counter() - started
        finally:
            transaction.rollback()


def _reference_account(conn: Connection, index: int, terms: Any) -> None:
    day, account = BUSINESS_DATE, card_id(index)
    start_raw, statement_day, limit_fen = conn.execute(_REFERENCE_STATE, {"a": account}).one()
    start = _as_date(start_raw)
    txns = _reference_txns(conn, account, start, day)
    result = reference_period(RefAccount(index, statement_day, limit_fen, terms, opened=start),
                              txns)  # fmt: skip
    s = result.statement
    inputs = json.dumps({"account": [account, str(start), statement_day, limit_fen],
                         "txns": [[str(t.txn_date), t.seq, t.kind, t.amount_fen] for t in txns],
                         "rule_version": f"{PRODUCT_CODE}@1"})  # fmt: skip
    conn.execute(_REFERENCE_STATEMENT, {
        "account_id": account, "statement_date": day, "period_start": start,
        "due_date": s.due_date, **{name: getattr(s, name) for name in STATEMENT_AMOUNTS},
        "dpd": result.dpd, "bucket": result.bucket, "five_category": result.five_category,
        "rule_version": f"{PRODUCT_CODE}@1", "run_id": _REFERENCE_RUN, "inputs_json": inputs,
    })  # fmt: skip
    entry_id, key = None, None
    if s.interest_fen:
        key = f"{_REFERENCE_RUN}:{account}:interest"
        entry = transfer(key, day, EntryKind.INTEREST, (account, Component.INTEREST),
                         (GL.INTEREST_INCOME, Component.BALANCE), s.interest_fen,
                         "interest", _REFERENCE_RUN)  # fmt: skip
        entry_id = conn.execute(_REFERENCE_ENTRY, {
            "key": key, "hash": entry.content_hash, "d": day, "kind": entry.kind,
            "text": entry.description, "run": _REFERENCE_RUN, "now": utc_now(),
        }).scalar_one()  # fmt: skip
        for posting in entry.postings:
            legs = {"a": posting.account_id, "c": posting.component, "f": posting.amount_fen}
            conn.execute(_REFERENCE_POSTING, {"e": entry_id, **legs})
            conn.execute(_REFERENCE_BALANCE, legs)
    conn.execute(_REFERENCE_NEXT_STATE, {
        "a": account, "next": day + timedelta(days=1), "d": day, "due": s.due_date,
        "closing": s.closing_balance_fen, "minimum": s.minimum_payment_fen, "dpd": result.dpd,
        "bucket": result.bucket, "category": result.five_category,
    })  # fmt: skip
    conn.execute(_REFERENCE_RESULT, {"run": _REFERENCE_RUN, "item": f"{account}:statement",
                                     "seq": index, "d": day, "key": key, "e": entry_id,
                                     "f": s.interest_fen})  # fmt: skip


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
