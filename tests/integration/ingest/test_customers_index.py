"""The customers' unique ID number index: migration 0015, and the bulk load that builds it.

A load into an empty customers table drops the index and builds it once at the
end; the index must be there afterwards, enforce uniqueness, and come back when
the import fails half-way (the transaction rolls the drop back).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from cardbatch.ingest.loaders.parties import CustomersLoader
from cardbatch.ingest.settings import IngestSettings
from cardbatch.store import Store
from cardbatch.store.all_tables import metadata
from cardbatch.store.migrate import alembic_config, upgrade
from cardbatch.store.tables import card_accounts, customers
from tests.integration.ingest.conftest import load_examples, run, snapshot

INDEX_NAME = "uq_customers_id_number"


def id_number_index(store: Store) -> list[dict[str, object]]:
    """The stand-alone index (PostgreSQL also lists the index behind a unique constraint)."""
    with store.read() as conn:
        indexes = inspect(conn).get_indexes("customers")
    return [
        dict(i) for i in indexes if i["name"] == INDEX_NAME and "duplicates_constraint" not in i
    ]


def insert_duplicate_id_number(store: Store) -> None:
    with store.write() as conn:
        stored = conn.execute(select(customers).limit(1)).mappings().one()
        conn.execute(customers.insert().values({**stored, "customer_id": "CDUP"}))


def test_migration_keeps_rows_and_foreign_keys_both_ways(store: Store, tmp_path: Path) -> None:
    load_examples(store, tmp_path, ("customers", "deposits", "accounts"))
    before = snapshot(store)
    with store.write() as conn:
        config = alembic_config(store)
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    assert snapshot(store) == before and not id_number_index(store)
    with pytest.raises(IntegrityError):  # the table constraint from before 0015 holds
        insert_duplicate_id_number(store)
    upgrade(store)
    assert snapshot(store) == before
    assert [i["unique"] for i in id_number_index(store)] == [True]
    with store.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    with pytest.raises(IntegrityError):
        insert_duplicate_id_number(store)
    with pytest.raises(IntegrityError), store.write() as conn:  # card accounts still refer
        row = conn.execute(select(card_accounts).limit(1)).mappings().one()
        conn.execute(card_accounts.insert().values({**row, "account_id": "AX",
                                                    "card_number": "4367420000000018",
                                                    "customer_id": "NOBODY"}))  # fmt: skip


def test_load_into_empty_table_builds_the_index_again(store: Store, tmp_path: Path) -> None:
    load_examples(store, tmp_path, ("customers",))
    assert [i["unique"] for i in id_number_index(store)] == [True]
    with pytest.raises(IntegrityError):
        insert_duplicate_id_number(store)


def test_failed_load_into_empty_table_keeps_the_index(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after the index was dropped rolls everything back, the drop included."""

    def broken_finish(self: CustomersLoader, conn: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(CustomersLoader, "finish", broken_finish)
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name,id_number\nC1,张三,11010519491231002X\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"):
        run(store, "customers", path)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 0
    assert [i["unique"] for i in id_number_index(store)] == [True]


def test_failure_after_rows_were_sent_leaves_nothing_and_the_store_usable(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load into an empty table fails in its third chunk, after two were written.

    On PostgreSQL the first chunks are already in the open COPY; the COPY is failed,
    the transaction rolls back, and the same file then imports in full.
    """
    from cardbatch.ingest import service

    calls = {"n": 0}
    real = service.validate_chunk

    def failing_third(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("reader lost the file")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    path = tmp_path / "customers.csv"
    rows = ["C1,张三,11010519491231002X", "C2,李四,110105194912310038",
            "C3,王五,110105194912310046", "C4,赵六,110105194912310062"]  # fmt: skip
    path.write_text("customer_id,name,id_number\n" + "\n".join(rows) + "\n", encoding="utf-8")
    settings = IngestSettings(chunk_rows=1)
    monkeypatch.setattr(service, "validate_chunk", failing_third)
    with pytest.raises(RuntimeError, match="lost the file"):
        run(store, "customers", path, settings=settings)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 0
    assert [i["unique"] for i in id_number_index(store)] == [True]
    monkeypatch.setattr(service, "validate_chunk", real)
    result = run(store, "customers", path, settings=settings)
    assert (result.rows_accepted, result.rows_rejected) == (4, 0)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 4
