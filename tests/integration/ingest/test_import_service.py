"""The import use case on a real store: duplicates, re-imports, updates, ledger postings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from cardbatch.ingest.service import file_sha256
from cardbatch.ingest.settings import IngestSettings
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import balances, card_accounts, customers, journal_entries
from cardbatch.store.tables_ingest import imports
from tests.integration.ingest.conftest import (
    DATA,
    EXAMPLES,
    ORDER,
    copy_to,
    fresh_sqlite_store,
    import_count,
    load_examples,
    run,
    snapshot,
)


def balance_of(store: Store, account_id: str) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(
            select(balances.c.component, balances.c.balance_fen).where(
                balances.c.account_id == account_id
            )
        )
        return {component: amount for component, amount in rows}


def test_same_content_is_refused_unless_forced(store: Store, tmp_path: Path) -> None:
    path = copy_to(tmp_path, EXAMPLES / "customers.csv")
    first = run(store, "customers", path)
    before = snapshot(store)
    again = run(store, "customers", path)
    assert again.refused and again.duplicate_of == first.import_id
    assert again.rows_total == 0 and again.import_id is None
    assert snapshot(store) == before and import_count(store) == 1
    forced = run(store, "customers", path, force=True)
    assert not forced.refused and forced.duplicate_of == first.import_id
    assert (forced.rows_total, forced.rows_unchanged, forced.rows_inserted) == (5, 5, 0)
    assert snapshot(store) == before and import_count(store) == 2


def test_the_store_enforces_one_first_import_per_content(store: Store, tmp_path: Path) -> None:
    path = copy_to(tmp_path, EXAMPLES / "customers.csv")
    first = run(store, "customers", path)
    with pytest.raises(IntegrityError), store.write() as conn:
        row = conn.execute(select(imports).where(imports.c.import_id == first.import_id)).one()
        values = {**row._mapping}
        values.pop("import_id")
        conn.execute(imports.insert().values(**values))
    assert file_sha256(path) == first.content_sha256


def test_reimport_of_a_fixed_rejects_file_adds_only_the_fixed_rows(
    store: Store, tmp_path: Path
) -> None:
    load_examples(store, tmp_path, ("customers",))
    first = run(store, "customers", copy_to(tmp_path, DATA / "invalid" / "customers_dirty_en.csv"))
    assert (first.rows_accepted, first.rows_rejected) == (1, 11)
    rejects = Path(first.rejects_file or "")
    fixed = rejects.read_text("utf-8").replace("110105194912310021", "110105198001010067")
    rejects.write_text(fixed, "utf-8")
    second = run(store, "customers", rejects)
    assert (second.rows_total, second.rows_inserted, second.rows_rejected) == (11, 1, 10)
    with store.read() as conn:
        ids = conn.execute(select(customers.c.customer_id).order_by(customers.c.customer_id))
        assert [row[0] for row in ids] == ["C001", "C002", "C003", "C004", "C005", "C101", "C106"]
    third = run(store, "customers", rejects, force=True)
    assert (third.rows_inserted, third.rows_updated, third.rows_unchanged) == (0, 0, 1)


def test_transactions_post_balanced_idempotent_journal_entries(
    store: Store, tmp_path: Path
) -> None:
    load_examples(store, tmp_path, ORDER)
    with store.read() as conn:
        keys = conn.execute(
            select(journal_entries.c.idempotency_key, journal_entries.c.kind)
            .where(journal_entries.c.idempotency_key.like("txn:%"))
            .order_by(journal_entries.c.idempotency_key)
        ).all()
    assert [tuple(k) for k in keys] == [
        ("txn:T0001", "purchase"), ("txn:T0002", "cash_advance"), ("txn:T0003", "refund"),
        ("txn:T0004", "payment"), ("txn:T0005", "purchase"), ("txn:T0006", "refund"),
    ]  # fmt: skip
    # A001: purchase 1,000.00 - refund 100.00 - payment 200.00 (allocated to purchases).
    assert balance_of(store, "A001") == {"purchase": 70_000}
    assert balance_of(store, "A002") == {"cash": 50_000}
    assert balance_of(store, "A003") == {"purchase": 8_880}  # found by card number
    assert balance_of(store, "GL:card_settlement") == {"balance": -142_280}
    assert ledger.check(store).balanced
    before = snapshot(store)
    again = run(store, "transactions", copy_to(tmp_path, EXAMPLES / "transactions.csv"), force=True)
    assert (again.rows_unchanged, again.rows_inserted) == (6, 0)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("status", "reason"), [("blocked", "card_blocked"), ("frozen", "card_frozen")]
)
def test_a_blocked_or_frozen_card_takes_no_new_spending_but_refunds_and_payments(
    store: Store, tmp_path: Path, status: str, reason: str
) -> None:
    load_examples(store, tmp_path, ("customers", "deposits", "accounts"))
    with store.write() as conn:
        conn.execute(update(card_accounts).where(card_accounts.c.account_id == "A001")
                     .values(status=status))  # fmt: skip
    result = run(store, "transactions", copy_to(tmp_path, EXAMPLES / "transactions.csv"))
    refused = [(r["line"], r["field"], r["reason"]) for r in result.rejects]
    assert refused == [(2, "txn_type", reason)]  # T0001, the purchase on A001
    assert (result.rows_inserted, result.rows_rejected) == (5, 1)
    # A001 takes the refund of 100.00 and the payment of 200.00 only: a credit of 300.00.
    assert sum(balance_of(store, "A001").values()) == -30_000
    assert ledger.check(store).balanced


def test_deposits_open_with_a_ledger_balance_and_later_files_only_warn(
    store: Store, tmp_path: Path
) -> None:
    load_examples(store, tmp_path, ("customers", "deposits"))
    assert balance_of(store, "D001") == {"balance": -500_000}
    path = tmp_path / "deposits_later.csv"
    path.write_text(
        "账号,户名,客户号,余额,状态\nD001,张三,C001,6000.00,冻结\nD002,李四,C002,1200.50,正常\n"
    )
    result = run(store, "deposits", path)
    assert (result.rows_updated, result.rows_unchanged, result.rows_warned) == (1, 1, 1)
    assert result.warnings[0]["reason"] == "balance_differs"
    assert balance_of(store, "D001") == {"balance": -500_000}


def test_updates_touch_only_the_fields_the_file_gives(store: Store, tmp_path: Path) -> None:
    load_examples(store, tmp_path, ("customers",))
    path = tmp_path / "phones.csv"
    path.write_text("客户号,姓名,证件号码,手机号\nC001,张三,11010519491231002X,139-0000-0001\n")
    result = run(store, "customers", path)
    assert (result.rows_updated, result.rows_rejected) == (1, 0)
    with store.read() as conn:
        row = conn.execute(select(customers).where(customers.c.customer_id == "C001")).one()
    assert (row.phone, row.city, row.credit_score, row.updated_by) == (
        "13900000001", "北京", 720, "tester")  # fmt: skip


@pytest.mark.parametrize("sample", ["customers_dirty_en.csv", "transactions_dirty.csv"])
def test_small_chunks_give_the_same_result_as_one_chunk(
    store: Store, tmp_path: Path, sample: str
) -> None:
    kind = sample.split("_")[0]
    load_examples(store, tmp_path, ORDER if kind == "transactions" else ("customers",))
    before = snapshot(store)
    path = copy_to(tmp_path, DATA / "invalid" / sample)
    whole = run(store, kind, path)
    after_whole = snapshot(store)
    small_dir = tmp_path / "small"
    small_dir.mkdir()
    other = fresh_sqlite_store(small_dir)
    try:
        load_examples(other, small_dir, ORDER if kind == "transactions" else ("customers",))
        assert snapshot(other) == before
        chunked = run(other, kind, copy_to(small_dir, DATA / "invalid" / sample),
                      settings=IngestSettings(chunk_rows=2))  # fmt: skip
        assert chunked.rejects == whole.rejects
        assert snapshot(other) == after_whole
    finally:
        other.dispose()


def test_a_callers_connection_keeps_the_import_in_its_transaction(
    store: Store, tmp_path: Path
) -> None:
    from cardbatch.ingest.service import import_file

    path = copy_to(tmp_path, EXAMPLES / "customers.csv")
    with pytest.raises(RuntimeError), store.write() as conn:
        result = import_file(conn, "customers", path, actor="tester")
        assert result.rows_inserted == 5
        raise RuntimeError("caller rolls back")
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 0
    assert import_count(store) == 0
