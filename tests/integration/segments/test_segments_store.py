"""Segments on a real store (SQLite and PostgreSQL): frame, define, list, screen, export."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy import text as text_sql

from cardbatch.rules.versions import approve_version, load_version
from cardbatch.segments.classify import ClassifyError
from cardbatch.segments.frame import accounts_frame, product_edges
from cardbatch.segments.service import (
    SegmentError,
    define_segment,
    get_segment,
    list_segments,
    record_export,
    screen,
    write_export,
)
from cardbatch.segments.typecheck import ExprErrors
from cardbatch.store import Store
from cardbatch.store.tables import audit_events
from cardbatch.store.tables_rules import segments

from .seed import seed_bank

DAY = date(2024, 6, 30)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rules"


@pytest.fixture
def bank(store: Store) -> Store:
    seed_bank(store)
    return store


def test_accounts_frame_from_the_store(bank: Store) -> None:
    with bank.read() as conn:
        frame = accounts_frame(conn, DAY)
    rows = {r["account_id"]: r for r in frame.iter_rows(named=True)}
    assert sorted(rows) == ["A1", "A2", "A3", "A4"]
    assert rows["A1"]["balance_fen"] == 800_000
    assert rows["A1"]["utilisation"] == 0.16
    assert rows["A1"]["last_payment_date"] == date(2024, 6, 20)
    assert rows["A1"]["age"] == 74 and rows["A1"]["gender"] == "F"
    assert rows["A1"]["months_on_book"] == 53
    assert rows["A2"]["last_payment_date"] == date(2024, 4, 1)
    assert rows["A3"]["balance_fen"] == 600_000
    assert rows["A3"]["last_payment_date"] is None
    assert rows["A4"]["utilisation"] is None and rows["A4"]["city"] is None
    assert {r["dpd"] for r in rows.values()} == {0}  # no dpd column before the cycle
    assert {r["bucket"] for r in rows.values()} == {"M0"}


def test_last_payment_date_is_as_of_the_business_date(bank: Store) -> None:
    with bank.read() as conn:
        frame = accounts_frame(conn, date(2024, 6, 19))
    a1 = frame.filter(frame["account_id"] == "A1").row(0, named=True)
    assert a1["last_payment_date"] is None


def test_define_list_show(bank: Store) -> None:
    with bank.write() as conn:
        define_segment(conn, "shanghai", 'city = "上海"', ["product"], "ops")
        define_segment(conn, "owing", "balance_fen > 0", ["balance_fen:700000"], "ops")
        second = define_segment(conn, "owing", "balance_fen >= 700000", [], "ops2", "v2")
    assert second.version_no == 2
    with bank.read() as conn:
        listed = list_segments(conn)
        owing = get_segment(conn, "owing")
        result = screen(conn, get_segment(conn, "shanghai"), DAY)
        total = screen(conn, owing, DAY)
    assert [(s.name, s.version_no) for s in listed] == [("owing", 2), ("shanghai", 1)]
    assert owing.expression == "balance_fen >= 700000" and owing.created_by == "ops2"
    assert result.count == 2 and result.balance_fen == 2_400_000
    assert result.by_class.rows() == [("CCB_LIKE", 1, 600_000), ("STD", 1, 1_800_000)]
    assert total.accounts["account_id"].to_list() == ["A1", "A2"]
    assert total.by_class.rows() == [(2, 2_600_000)]


def test_bad_definitions_write_nothing(bank: Store) -> None:
    with bank.write() as conn:
        with pytest.raises(ExprErrors):
            define_segment(conn, "x", "citty = 1", [], "ops")
        with pytest.raises(ClassifyError):
            define_segment(conn, "x", "dpd = 0", ["city:1"], "ops")
        with pytest.raises(SegmentError):
            define_segment(conn, "bad name", "dpd = 0", [], "ops")
    with bank.read() as conn:
        assert conn.execute(select(segments)).all() == []
        with pytest.raises(SegmentError, match="no segment named 'x'"):
            get_segment(conn, "x")


def test_export_is_masked_by_default_and_safe_for_spreadsheets(bank: Store, tmp_path: Path) -> None:
    with bank.write() as conn:
        segment = define_segment(conn, "all", "true", ["statement_day"], "ops")
    with bank.read() as conn:
        result = screen(conn, segment, DAY)
    path = tmp_path / "all.csv"
    assert write_export(result, path) == 4
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    assert first["name"] == "张*"
    assert first["id_number"] == "110105********002X"
    assert first["card_number"].startswith("622202") and "*" in first["card_number"]
    assert first["balance"] == "8000.00"
    assert first["class_statement_day"] == "5"
    assert rows[3]["name"] == "'=***"
    assert not (tmp_path / "all.csv.part").exists()
    clear = tmp_path / "clear.csv"
    rows_clear = write_export(result, clear, masked=False)
    assert "11010519491231002X" in clear.read_text(encoding="utf-8-sig")
    with bank.write() as conn:
        record_export(conn, result, clear, rows_clear, False, "auditor")
    with bank.read() as conn:
        event = conn.execute(
            select(audit_events).where(audit_events.c.action == "segment.export")
        ).one()
    assert (event.actor, event.subject) == ("auditor", "all@1")
    assert '"masked": false' in event.detail


def test_dpd_column_and_product_edges_in_force(bank: Store) -> None:
    text = (EXAMPLES / "standard.toml").read_text(encoding="utf-8")
    custom = text.replace(
        "bucket_edges = [1, 31, 61, 91, 121, 151, 181]",
        "bucket_edges = [1, 11, 21, 31, 41, 51, 61]",
    )
    assert custom != text
    with bank.write() as conn:
        version, _ = load_version(conn, custom, date(2024, 1, 1), "maker", "custom.toml")
        approve_version(conn, "STD", version.version_no, "checker")
        # the nightly cycle will keep days past due on the account; stand in for it here
        conn.execute(text_sql("ALTER TABLE card_accounts ADD COLUMN dpd INTEGER"))
        conn.execute(text_sql("UPDATE card_accounts SET dpd = 35 WHERE account_id IN ('A1', 'A3')"))
    with bank.read() as conn:
        edges = product_edges(conn, ["STD", "CCB_LIKE"], DAY)
        frame = accounts_frame(conn, DAY)
    assert edges == {"STD": ([1, 11, 21, 31, 41, 51, 61], [1, 91, 121, 181])}
    rows = {
        r["account_id"]: (r["dpd"], r["bucket"], r["five_class"])
        for r in frame.iter_rows(named=True)
    }
    assert rows["A1"] == (35, "M4", "special_mention")  # STD: its own edges
    assert rows["A3"] == (35, "M2", "special_mention")  # CCB_LIKE: no rules, standard edges
    assert rows["A2"] == (0, "M0", "normal")
