"""Row validation: the vectorised pass agrees with the scalar rules, row by row."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cardbatch.ingest.columns import ACCOUNTS, CUSTOMERS, TRANSACTIONS, ColumnSet, HeaderMap
from cardbatch.ingest.formats.base import Chunk
from cardbatch.ingest.validate import INDEX, LINE, validate_chunk, validate_row

SAMPLES: dict[str, list[str]] = {
    "customer_id": ["C001", "c-9_x", "Ｃ００２", "C 1", "", "客户"],
    "account_id": ["A001", "A-2", "", "A/1", "账户"],
    "name": ["张三", "张 三", " Zhang  Wei ", "", "=1+2", "ＡＢＣ"],
    "id_number": ["11010519491231002X", "11010519491231002x", "360426199101010071",
                  "110105194912310021", "110105194913310028", "990105194912310023",
                  "１１０１０５１９４９１２３１００２Ｘ", "12345", "", "18000119000101001X",
                  "110105190001010013"],
    "phone": ["13800138000", "+86 138-0013-8000", "1380013800", "", "23800138000"],
    "city": ["北京", "", " 上海 ", "x" * 60],
    "credit_score": ["720", "0", "1000", "1001", "８１０", "", "-1", "7.5"],
    "card_number": ["6222021000000005", "6222022000000095", "4367420000000018",
                    "6222 0210 0000 0013", "622202100000000", "", "4367420000000017"],
    "product_code": ["gold", "", "金卡"],
    "credit_limit": ["20000.00", "1,000", "12.345", "-1", "0", "", "９９.９", "1e3"],
    "statement_day": ["5", "05", "28", "29", "0", "", "５"],
    "repayment_account_id": ["D001", "", "D 1"],
    "autopay_mode": ["full", "全额", "FULL", "", "sometimes"],
    "status": ["active", "正常", "", "挂失", "Closed"],
    "opened_on": ["2024-01-10", "2024/1/10", "20240110", "2024-02-30", "", "10/01/2024"],
    "txn_id": ["T1", "T-2", "", "T 3"],
    "txn_type": ["purchase", "消费", "取现", "Refund", "", "transfer"],
    "amount": ["10.00", "0.01", "0", "1,000.50", "", "abc", "10.5"],
    "txn_date": ["2024-03-30", "2024/3/30", "", "2024-13-01"],
    "post_date": ["2024-03-30", "20240330", "2024年3月30日", "", "x"],
    "description": ["超市", "", "—", "=cmd"],
}  # fmt: skip


def rows_for(columns: ColumnSet) -> st.SearchStrategy[list[list[str]]]:
    cell = {name: st.sampled_from(SAMPLES[name]) for name in columns.names}
    row = st.tuples(*(cell[name] for name in columns.names)).map(list)
    return st.lists(row, min_size=1, max_size=30)


def check_agreement(columns: ColumnSet, rows: list[list[str]]) -> None:
    header = HeaderMap({name: i for i, name in enumerate(columns.names)}, ())
    chunk = Chunk(lines=[i + 2 for i in range(len(rows))], rows=rows)
    result = validate_chunk(chunk, columns, header)
    accepted: dict[int, dict[str, Any]] = {
        row[INDEX]: row for row in result.accepted.iter_rows(named=True)
    }
    rejected = {index: reject for index, reject in result.rejects}
    assert set(accepted) | set(rejected) == set(range(len(rows)))
    assert not set(accepted) & set(rejected)
    for index, row in enumerate(rows):
        values, issues, _warnings = validate_row(row, columns, header)
        if issues:
            assert index in rejected, (row, issues)
            assert rejected[index].issues == tuple(issues)
        else:
            got = accepted[index]
            assert got[LINE] == index + 2
            assert [got[name] for name in columns.names] == values, row


@given(rows_for(CUSTOMERS))
def test_customers_fast_pass_agrees_with_scalar_rules(rows: list[list[str]]) -> None:
    check_agreement(CUSTOMERS, rows)


@given(rows_for(ACCOUNTS))
def test_accounts_fast_pass_agrees_with_scalar_rules(rows: list[list[str]]) -> None:
    check_agreement(ACCOUNTS, rows)


@given(rows_for(TRANSACTIONS))
def test_transactions_fast_pass_agrees_with_scalar_rules(rows: list[list[str]]) -> None:
    check_agreement(TRANSACTIONS, rows)


def test_canonical_rows_take_the_fast_path() -> None:
    row = ["C001", "张三", "11010519491231002X", "13800138000", "北京", "720"]
    header = HeaderMap({name: i for i, name in enumerate(CUSTOMERS.names)}, ())
    result = validate_chunk(Chunk(lines=[2, 3], rows=[row, row]), CUSTOMERS, header)
    assert result.fast_rows == 2
    assert result.rejects == []


def test_every_bad_field_of_a_row_is_reported() -> None:
    row = ["C001", "", "110105194912310021", "123", "北京", "2000"]
    header = HeaderMap({name: i for i, name in enumerate(CUSTOMERS.names)}, ())
    result = validate_chunk(Chunk(lines=[7], rows=[row]), CUSTOMERS, header)
    (index, reject), *_ = result.rejects
    assert (index, reject.line) == (0, 7)
    assert reject.fields == "name;id_number;phone;credit_score"
    assert reject.codes == "required;ric_checksum;phone_format;score_range"
