"""Planner statistics after bulk loads: stale tables are analyzed on PostgreSQL, nothing on
SQLite, and the night refreshes them before its first job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.engine.calendar import set_business_date
from cardbatch.engine.night import run_night
from cardbatch.engine.settings import load_settings
from cardbatch.store import Store
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.statistics import NIGHT_READS, refresh_statistics, stale_tables

NOW = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
DAY = date(2026, 3, 5)


def _load(store: Store, count: int) -> None:
    cash = (GL.COUNTER_CASH, Component.BALANCE)
    entries = [
        transfer(f"stats-{n}", DAY, EntryKind.DEPOSIT, cash, (f"D{n:06d}", Component.BALANCE), 100)
        for n in range(count)
    ]
    with store.write() as conn:
        post_entries(conn, entries, actor="tester", now=NOW)


def _row_estimate(store: Store, table: str) -> float:
    with store.read() as conn:
        query = text("SELECT reltuples FROM pg_class WHERE relname = :t AND relkind = 'r' "
                     "AND relnamespace = current_schema()::regnamespace")  # fmt: skip
        return float(conn.execute(query, {"t": table}).scalar_one())


def test_a_bulk_load_is_analyzed_once_then_left_alone(store: Store) -> None:
    _load(store, 2_000)
    with store.write() as conn:
        analyzed = refresh_statistics(conn, ["postings", "journal_entries", "customers"])
    if store.dialect == "sqlite":
        assert analyzed == []
        with store.read() as conn:  # SQLite keeps no statistics it did not have
            assert conn.execute(text("SELECT name FROM sqlite_master WHERE name = "
                                     "'sqlite_stat1'")).first() is None  # fmt: skip
        return
    assert {"postings", "journal_entries"} <= set(analyzed)  # never analyzed before
    assert _row_estimate(store, "postings") == 4_000
    assert _row_estimate(store, "journal_entries") == 2_000
    with store.read() as conn:
        assert stale_tables(conn, ["postings", "journal_entries"]) == []


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_night_refreshes_statistics_before_its_jobs(store: Store, tmp_path: Path) -> None:
    with store.write() as conn:
        set_business_date(conn, DAY - timedelta(days=1), "tester")
    _load(store, 500)
    with store.read() as conn:
        assert "postings" in stale_tables(conn, NIGHT_READS)
    settings = load_settings({"CARDBATCH_OUT_DIR": str(tmp_path)})
    run_night(store, settings, "tester", day=DAY)  # its first job finds no day's files: stops
    assert _row_estimate(store, "postings") == 1_000
