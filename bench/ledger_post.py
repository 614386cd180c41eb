"""Benchmark: idempotent bulk posting of journal entries (the ledger's write path).

    python -m bench.ledger_post --entries 500000 --backend sqlite
    python -m bench.ledger_post --entries 500000 --backend postgresql

Times ``post_entries`` for N two-posting purchase entries over 100,000 card
accounts, in batches of ``--batch`` entries per transaction, then a full replay
of the same entries (which must write nothing), and the ledger check.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

from bench.common import Timer, emit, fresh_database, peak_rss_mb
from cardbatch.domain.ledger import GL, Component, EntryKind, JournalEntry, transfer
from cardbatch.services import ledger
from cardbatch.store import open_store
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.migrate import upgrade

ACCOUNTS_N = 100_000
DAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)


def entries(start: int, stop: int) -> list[JournalEntry]:
    return [
        transfer(f"txn:B{i:09d}", DAY, EntryKind.PURCHASE,
                 (f"CA{i % ACCOUNTS_N:010d}", Component.PURCHASE),
                 (GL.CARD_SETTLEMENT, Component.BALANCE), 1 + i % 500_000)
        for i in range(start, stop)
    ]  # fmt: skip


def run(backend: str, entries_n: int, batch: int) -> dict[str, object]:
    with fresh_database(backend, Path("out/bench")) as url:
        store = open_store(url, require_schema=False)
        upgrade(store)
        build, post, replay, check = Timer(), Timer(), Timer(), Timer()
        for start in range(0, entries_n, batch):
            with build.measure():
                chunk = entries(start, min(entries_n, start + batch))
            with post.measure(), store.write() as conn:
                post_entries(conn, chunk, actor="bench", now=NOW)
        for start in range(0, entries_n, batch):
            chunk = entries(start, min(entries_n, start + batch))
            with replay.measure(), store.write() as conn:
                result = post_entries(conn, chunk, actor="bench", now=NOW)
                assert result.written == 0
        with check.measure():
            verdict = ledger.check(store)
        assert verdict.balanced and verdict.journal_entries == entries_n
        store.dispose()
    return {
        "benchmark": "ledger_post",
        "backend": backend,
        "entries": entries_n,
        "postings": 2 * entries_n,
        "batch": batch,
        "build_entries_s": round(build.seconds, 3),
        "post_s": round(post.seconds, 3),
        "postings_per_s": round(2 * entries_n / post.seconds),
        "replay_s": round(replay.seconds, 3),
        "ledger_check_s": round(check.seconds, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    emit(run(args.backend, args.entries, args.batch))


if __name__ == "__main__":
    main()
