"""Pure per-row rules of a batch run and of a loan deduction attempt."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardbatch.domain.records import DepositAccount, DepositStatus
from cardbatch.paybatch.header import batch_from_header, header_json, row_from_store, row_tuple
from cardbatch.paybatch.loans import DEFAULT_PRODUCT, decide_attempt
from cardbatch.paybatch.rules import CHUNK_SCHEMA, chunk_reasons, pre_reasons, row_reason
from cardbatch.payfiles import pre_check_rows
from cardbatch.payfiles.checks import check_account
from cardbatch.payfiles.model import BatchFile, BatchRow, Kind
from cardbatch.payfiles.reasons import reason_by_key
from cardbatch.store.loans_repo import ProductRow

LIMIT_FEN = 1_000_000


def batch_of(rows: list[BatchRow]) -> BatchFile:
    return BatchFile("payroll", "pipe", "utf-8", "x.txt", "0" * 64, date(2024, 4, 15), "1046",
                     None, len(rows), sum(r.amount_fen for r in rows), tuple(rows))  # fmt: skip


rows_strategy = st.lists(
    st.builds(
        BatchRow,
        line_no=st.integers(1, 10_000),
        seq=st.just("01"),
        name=st.sampled_from(["张三", "张　三", "张 三", "ＬＩ Lei", "li lei", "李四"]),
        account=st.sampled_from(["A1", "A2", "A3"]),
        amount_fen=st.sampled_from([-5, 0, 100, 200, LIMIT_FEN, LIMIT_FEN + 1]),
        memo=st.sampled_from(["", "工资", "奖金"]),
    ),
    max_size=40,
)


@settings(max_examples=100)
@given(rows_strategy)
def test_pre_reasons_agree_with_the_payfiles_pre_checks(rows: list[BatchRow]) -> None:
    expected = [r.reason_cn if r else None for r in pre_check_rows(batch_of(rows), LIMIT_FEN)]
    got = pre_reasons(rows, LIMIT_FEN)
    assert expected == [reason_by_key(key).reason_cn if key else None for key in got]


many_rows_strategy = st.lists(
    st.builds(
        BatchRow,
        line_no=st.integers(1, 10_000),
        seq=st.just("01"),
        name=st.sampled_from(["张三", "张　三", "李四"]),
        account=st.sampled_from([f"A{n}" for n in range(60)]),
        amount_fen=st.sampled_from([-5, 0, 100, 200, LIMIT_FEN, LIMIT_FEN + 1]),
        memo=st.sampled_from(["", "工资"]),
    ),
    max_size=120,
)


@settings(max_examples=100)
@given(many_rows_strategy)
def test_pre_reasons_with_mostly_unique_rows_agree_with_the_pre_checks(
    rows: list[BatchRow],
) -> None:
    """The column-wise search for duplicates (only rows sharing account, amount and memo are
    compared by name) finds what the row-by-row pre-checks find."""
    expected = [r.reason_cn if r else None for r in pre_check_rows(batch_of(rows), LIMIT_FEN)]
    got = pre_reasons(rows, LIMIT_FEN)
    assert expected == [reason_by_key(key).reason_cn if key else None for key in got]


def test_pre_reasons_of_no_rows_is_empty() -> None:
    assert pre_reasons([], LIMIT_FEN) == []


def test_full_width_name_and_spaces_match_the_holder() -> None:
    ok = row_reason("payroll", "李　四", 100, None, "李四", "active", 0, None)
    assert ok.key == "success"
    assert row_reason("payroll", "ＬＩ　Ｌｅｉ", 100, None, "LI Lei", "active", 0, None).key == (
        "success"
    )
    assert row_reason("payroll", "李五", 100, None, "李四", "active", 0, None).iso_code == "BE01"


@pytest.mark.parametrize(
    ("args", "iso_code"),
    [
        (("payroll", "张三", 100, "duplicate", None, None, 0, None), "AM05"),
        (("payroll", "张三", 100, None, None, None, 0, None), "AC01"),
        (("payroll", "别人", 100, None, "张三", "closed", 0, None), "AC04"),
        (("payroll", "别人", 100, None, "张三", "frozen", 0, None), "AC06"),
        (("collection", "张三", 100, None, "张三", "active", 1_000, None), "MD01"),
        (("collection", "张三", 100, None, "张三", "active", 99, "active"), "AM04"),
        (("collection", "张三", 100, None, "张三", "active", 100, "active"), ""),
        (("collection", "张三", 100, None, "张三", "active", 100, "revoked"), "MD01"),
        (("payroll", "张三", 100, None, "张三", "active", -5, None), ""),
    ],
)
def test_row_rules_in_order(args: tuple[object, ...], iso_code: str) -> None:
    assert row_reason(*args).iso_code == iso_code  # type: ignore[arg-type]


def test_header_and_rows_round_trip() -> None:
    row = BatchRow(7, "01", "张三", "A1", 100, "工资", "E2E", "M1", date(2023, 1, 2), "G",
                   "1046", ("01", "张三", "1.00", "A1", "1046"))  # fmt: skip
    batch = batch_of([row])._replace(summary_fields=("1", "1", "20240415"), newline="\r\n")
    rebuilt = batch_from_header(header_json(batch), [row])
    assert rebuilt == batch
    stored = row_tuple(1, 1, row, None)
    assert row_from_store(stored[2:14]) == row
    as_text = (*stored[2:10], "2023-01-02", *stored[11:14])  # SQLite's driver gives ISO text
    assert row_from_store(as_text) == row


PARTIAL = ProductRow("partial", retry_days=2, partial_debit=True)


@pytest.mark.parametrize(
    ("remaining", "available", "status", "product", "attempt", "paid_before", "expected"),
    [
        (100, 100, "active", DEFAULT_PRODUCT, 1, 0, ("success", 100, "paid", "paid")),
        (100, 99, "active", DEFAULT_PRODUCT, 1, 0, ("insufficient_funds", 0, "failed", "due")),
        (100, 99, "active", DEFAULT_PRODUCT, 4, 0,
         ("insufficient_funds", 0, "failed", "overdue")),
        (100, 40, "active", PARTIAL, 1, 0, ("insufficient_funds", 40, "partial", "partial")),
        (100, 40, "active", PARTIAL, 3, 10, ("insufficient_funds", 40, "partial", "overdue")),
        (100, 0, "active", PARTIAL, 2, 10, ("insufficient_funds", 0, "failed", "partial")),
        (100, 500, "closed", DEFAULT_PRODUCT, 1, 0, ("account_closed", 0, "failed", "failed")),
        (100, 500, "frozen", DEFAULT_PRODUCT, 1, 0, ("account_frozen", 0, "failed", "failed")),
        (100, 500, None, DEFAULT_PRODUCT, 1, 0, ("account_not_found", 0, "failed", "failed")),
    ],
)  # fmt: skip
def test_deduction_attempts(
    remaining: int, available: int, status: str | None, product: ProductRow, attempt: int,
    paid_before: int, expected: tuple[str, int, str, str],
) -> None:  # fmt: skip
    got = decide_attempt(remaining, available, status, product, attempt, paid_before)
    assert (got.reason.key, got.debited_fen, got.status, got.instalment_status) == expected


@settings(max_examples=100)
@given(
    name=st.sampled_from(["张三", "张　三", "ＬＩ Lei", "li lei", "李四"]),
    holder=st.sampled_from(["张三", "LI Lei", "李四"]),
    status=st.sampled_from([None, "active", "frozen", "closed"]),
    kind=st.sampled_from(["payroll", "collection"]),
    has_mandate=st.booleans(),
)
def test_row_rules_agree_with_the_payfiles_account_rules(
    name: str, holder: str, status: str | None, kind: str, has_mandate: bool
) -> None:
    row = BatchRow(2, "01", name, "A1", 100)
    account = None if status is None else DepositAccount("A1", holder, DepositStatus(status))
    expected = check_account(row, account, mandate_required=kind == "collection",
                             has_mandate=has_mandate)  # fmt: skip
    got = row_reason(kind, name, 100, None, holder if status else None, status, 10**9,  # type: ignore[arg-type]
                     "active" if has_mandate else None)  # fmt: skip
    assert got.key == (expected.key if expected else "success")


chunk_rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["张三", "张　三", "ＬＩ Lei", "li lei", "李四"]),
        st.sampled_from(["A1", "A2", "A3", "A4"]),
        st.integers(1, 300),
        st.sampled_from([None, None, None, "duplicate", "invalid_amount"]),
        st.sampled_from([None, "张三", "LI Lei", "李四"]),
        st.sampled_from([None, "active", "active", "frozen", "closed"]),
        st.sampled_from([None, 0, -100, -250, -1_000, 50]),
        st.sampled_from([None, "active", "active", "revoked"]),
    ),
    max_size=40,
)


@settings(max_examples=200)
@given(rows=chunk_rows_strategy, kind=st.sampled_from(["payroll", "collection"]))
def test_chunk_reasons_agree_with_row_reason_row_by_row(
    rows: list[tuple[Any, ...]], kind: Kind
) -> None:
    """The column-wise decision of a chunk equals deciding its rows one after the other."""
    spent: dict[str, int] = defaultdict(int)
    expected = []
    for name, account, amount, pre, holder, status, balance, mandate in rows:
        available = -(balance or 0) - spent[account]
        reason = row_reason(kind, name, amount, pre, holder, status, available, mandate)
        if reason.key == "success":
            spent[account] += amount
        expected.append(reason.key)
    frame = pl.DataFrame(
        [(n, *row) for n, row in enumerate(rows, start=1)], schema=CHUNK_SCHEMA, orient="row"
    )
    assert chunk_reasons(kind, frame).to_list() == expected
