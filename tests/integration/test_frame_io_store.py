"""Keyed updates from a frame on a real store (SQLite and PostgreSQL), held to plain UPDATEs.

On PostgreSQL a frame of ``PG_COPY_MIN_ROWS`` rows or more with distinct keys goes
through a staging table and one ``UPDATE ... FROM``; smaller frames, frames with a
repeated key and SQLite use one UPDATE per row. Every path must leave the same rows.
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import select

from cardbatch.store import Store
from cardbatch.store.frame_io import (
    PG_COPY_MIN_ROWS,
    insert_tuples,
    key_in,
    read_frame,
    update_rows,
)
from cardbatch.store.tables import customers

NOW = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
SCHEMA = {"customer_id": pl.String, "city": pl.String, "birth_date": pl.Date,
          "credit_score": pl.Int64}  # fmt: skip


def _seed(store: Store, count: int) -> None:
    rows = [
        {"customer_id": f"C{n:05d}", "name": f"客户{n}", "id_number": f"ID{n:016d}",
         "phone": "13800000000", "city": "北京", "birth_date": date(1990, 1, 1),
         "credit_score": 600, "created_at": NOW, "created_by": "tester"}
        for n in range(count)
    ]  # fmt: skip
    with store.write() as conn:
        conn.execute(customers.insert(), rows)


def _changes(count: int) -> pl.DataFrame:
    """New city, birth date and score for every other customer; some set to null."""
    picked = range(0, count, 2)
    return pl.DataFrame(
        {
            "customer_id": [f"C{n:05d}" for n in picked],
            "city": [None if n % 10 == 0 else f"城市{n}" for n in picked],
            "birth_date": [date(1990, 1, 1) + timedelta(days=n) for n in picked],
            "credit_score": [n % 900 for n in picked],
        },
        schema=SCHEMA,
    )


def _stored(store: Store) -> list[tuple[object, ...]]:
    c = customers.c
    with store.read() as conn:
        query = select(c.customer_id, c.city, c.birth_date, c.credit_score, c.phone)
        return [tuple(row) for row in conn.execute(query.order_by(c.customer_id))]


def _expected(count: int, frame: pl.DataFrame) -> list[tuple[object, ...]]:
    new = {row[0]: row[1:] for row in frame.iter_rows()}
    expected = []
    for n in range(count):
        key = f"C{n:05d}"
        city, birth, score = new.get(key, ("北京", date(1990, 1, 1), 600))
        expected.append((key, city, birth, score, "13800000000"))
    return expected


@pytest.mark.parametrize("count", [PG_COPY_MIN_ROWS * 3, 20])
def test_update_rows_sets_exactly_the_given_columns(store: Store, count: int) -> None:
    _seed(store, count)
    frame = _changes(count)
    with store.write() as conn:
        update_rows(conn, customers.name, "customer_id", frame)
    assert _stored(store) == _expected(count, frame)


def test_a_repeated_key_takes_its_last_row(store: Store) -> None:
    count = PG_COPY_MIN_ROWS * 2
    _seed(store, count)
    frame = _changes(count)
    last = frame.head(1).with_columns(pl.lit("最后").alias("city"))
    with store.write() as conn:
        update_rows(conn, customers.name, "customer_id", pl.concat([frame, last]))
    expected = _expected(count, frame)
    expected[0] = (*expected[0][:1], "最后", *expected[0][2:])
    assert _stored(store) == expected


def test_a_failed_update_leaves_nothing_and_the_store_usable(store: Store) -> None:
    count = PG_COPY_MIN_ROWS * 2
    _seed(store, count)
    before = _stored(store)
    frame = _changes(count).with_columns(pl.lit("x" * 80).alias("city"))  # city holds 50
    with pytest.raises(Exception), store.write() as conn:  # noqa: B017 - driver's own error
        update_rows(conn, customers.name, "customer_id", frame)
        if store.dialect == "sqlite":  # SQLite does not check lengths: fail the same way
            raise ValueError("value too long")
    assert _stored(store) == before
    frame = _changes(count)
    with store.write() as conn:
        update_rows(conn, customers.name, "customer_id", frame)
    assert _stored(store) == _expected(count, frame)


@pytest.mark.parametrize("picked", [0, 1, 3_000])
def test_key_in_finds_the_same_rows_as_in_with_one_parameter(store: Store, picked: int) -> None:
    count = 2_000
    _seed(store, count)
    keys = [f"C{n:05d}" for n in range(1, 2 * picked, 2)][:picked]  # odd ids, some past the end
    expected = sorted(key for key in keys if int(key[1:]) < count)
    c = customers.c
    with store.read() as conn:
        query = select(c.customer_id).where(key_in(conn, c.customer_id, keys))
        found = sorted(conn.execute(query).scalars())
        framed = read_frame(conn, query.order_by(c.customer_id), {"customer_id": pl.String()})
        compiled = query.compile(dialect=conn.dialect)
    assert found == expected
    assert framed["customer_id"].to_list() == expected
    assert len(compiled.params) == 1
    assert ("ANY" if store.dialect == "postgresql" else "json_each") in str(compiled)


def test_key_in_matches_integer_keys(store: Store) -> None:
    _seed(store, 10)
    with store.write() as conn:
        update_rows(conn, "customers", "customer_id", _changes(10))  # scores 0, 2, 4, 6, 8
    c = customers.c
    with store.read() as conn:
        query = select(c.customer_id).where(key_in(conn, c.credit_score, [4, 8, 600, 7]))
        found = sorted(conn.execute(query).scalars())
    assert found == ["C00001", "C00003", "C00004", "C00005", "C00007", "C00008", "C00009"]


def test_read_frame_types_nulls_and_no_rows(store: Store) -> None:
    _seed(store, 30)
    update_rows_frame = _changes(30)  # some cities null, birth dates moved
    with store.write() as conn:
        update_rows(conn, "customers", "customer_id", update_rows_frame)
    c = customers.c
    schema = {"customer_id": pl.String(), "city": pl.String(), "birth_date": pl.Date(),
              "credit_score": pl.Int64()}  # fmt: skip
    query = select(c.customer_id, c.city, c.birth_date, c.credit_score).order_by(c.customer_id)
    with store.read() as conn:
        framed = read_frame(conn, query, schema)
        none = read_frame(conn, query.where(c.customer_id == "nobody"), schema)
        plain = [tuple(row) for row in conn.execute(query)]
    assert framed.schema == pl.Schema(schema) and none.schema == pl.Schema(schema)
    assert framed.rows() == plain and none.height == 0
    assert framed["city"].null_count() > 0


def test_bulk_moves_give_the_collector_back(store: Store) -> None:
    """Reads and inserts hold the cyclic collector (cardbatch.gcpause) and give it back."""
    rows = [(f"C{n:05d}", f"客户{n}", f"ID{n:016d}", NOW, "tester") for n in range(300)]
    columns = ("customer_id", "name", "id_number", "created_at", "created_by")
    c = customers.c
    with store.write() as conn:
        insert_tuples(conn, "customers", columns, rows)
        assert gc.isenabled()
        framed = read_frame(conn, select(c.customer_id).order_by(c.customer_id),
                            {"customer_id": pl.String()})  # fmt: skip
        assert gc.isenabled()
    assert framed["customer_id"].to_list() == [row[0] for row in rows]
