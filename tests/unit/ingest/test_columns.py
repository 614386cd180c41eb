"""Column sets: English and Chinese header aliases, order, extra and reject columns."""

from __future__ import annotations

import pytest

from cardbatch.ingest.columns import COLUMN_SETS, CUSTOMERS, TRANSACTIONS, map_header
from cardbatch.ingest.errors import WholeFileError


def test_chinese_headers_in_any_order_with_extra_columns() -> None:
    header = map_header(CUSTOMERS, ["备注", "证件号码", "姓名", "客户号", "手机号"], "f.csv")
    assert header.positions == {"id_number": 1, "name": 2, "customer_id": 3, "phone": 4}
    assert header.ignored == ("备注",)


def test_english_headers_are_matched_loosely() -> None:
    header = map_header(CUSTOMERS, [" Customer ID ", "NAME", "id-number", "ＣＩＴＹ"], "f.csv")
    assert header.positions == {"customer_id": 0, "name": 1, "id_number": 2, "city": 3}


def test_reject_columns_are_ignored() -> None:
    cells = ["customer_id", "name", "id_number", "reject_line", "reject_reason"]
    assert map_header(CUSTOMERS, cells, "f.csv").ignored == ()


def test_missing_required_column_names_the_file_and_column() -> None:
    with pytest.raises(WholeFileError) as info:
        map_header(CUSTOMERS, ["customer_id", "name"], "f.csv")
    assert info.value.code == "missing_column"
    assert "f.csv" in info.value.message and "id_number" in info.value.message


def test_transactions_need_an_account_or_a_card_column() -> None:
    base = ["txn_id", "txn_type", "amount", "txn_date", "post_date"]
    with pytest.raises(WholeFileError) as info:
        map_header(TRANSACTIONS, base, "t.csv")
    assert "account_id or card_number" in info.value.message
    assert "card_number" in map_header(TRANSACTIONS, [*base, "卡号"], "t.csv").positions


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(WholeFileError) as info:
        map_header(CUSTOMERS, ["客户号", "customer_id", "name", "id_number"], "f.csv")
    assert info.value.code == "duplicate_column"


def test_aliases_are_unambiguous_within_each_kind() -> None:
    from cardbatch.ingest.columns import header_token

    for columns in COLUMN_SETS.values():
        tokens = [header_token(a) for c in columns.columns for a in (c.name, *c.aliases)]
        assert len(tokens) == len(set(tokens)), columns.kind
