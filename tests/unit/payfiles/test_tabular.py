"""CSV and XLSX files: Chinese or English headers, control line or declared totals, and
formula neutralisation in the return files."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from cardbatch.payfiles import FileError, parse_batch_file, row_success, tabular, write_returns
from cardbatch.payfiles.model import row_failure
from cardbatch.payfiles.reasons import NAME_MISMATCH
from tests.unit.payfiles.samples import VALID


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_chinese_headers_gbk_with_control_line() -> None:
    batch = parse_batch_file(VALID / "csv_zh_headers_gbk_control_line_payroll.csv", "payroll")
    assert (batch.format, batch.encoding, batch.header_lang) == ("csv", "gbk", "zh")
    assert (batch.declared_count, batch.declared_total_fen) == (3, 2170000)
    assert batch.batch_date is not None and batch.batch_date.isoformat() == "2024-04-15"
    assert [r.line_no for r in batch.rows] == [2, 3, 4]
    assert batch.rows[0].memo == "四月工资"


def test_english_headers_any_order_and_control_line_first(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "TOTAL,2,10.50\nmemo,amount,NAME,account\nfee,10.00,A,6222\nfee,0.50,B,6223\n",
    )
    batch = parse_batch_file(path, "collection")
    assert batch.header_lang == "en"
    assert [(r.account, r.name, r.amount_fen) for r in batch.rows] == [
        ("6222", "A", 1000),
        ("6223", "B", 50),
    ]
    assert (batch.declared_count, batch.declared_total_fen) == (2, 1050)


def test_declared_totals_replace_a_missing_control_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "账号,户名,金额\n6222,张三,1.00\n")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    assert caught.value.code == "no_control"
    batch = parse_batch_file(path, "payroll", declared_count=1, declared_total_fen=100)
    assert (batch.declared_count, batch.declared_total_fen) == (1, 100)


def test_declared_totals_must_agree_with_the_control_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "账号,户名,金额\n6222,张三,1.00\n合计,1,1.00\n")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll", declared_total_fen=200)
    assert caught.value.code == "declared_mismatch"
    assert caught.value.field == "total"


def test_missing_required_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "账号,金额\n6222,1.00\n合计,1,1.00\n")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    assert caught.value.code == "bad_header"
    assert "name" in caught.value.reason


def test_xlsx_numeric_amounts_and_text_cells() -> None:
    batch = parse_batch_file(VALID / "xlsx_zh_headers_control_line_payroll.xlsx", "payroll")
    assert batch.format == "xlsx"
    assert [r.amount_fen for r in batch.rows] == [300050, 400000, 150025]
    assert batch.rows[2].name == '=HYPERLINK("x")'
    assert (batch.declared_count, batch.declared_total_fen) == (3, 850075)


def test_cell_text_of_spreadsheet_values() -> None:
    assert tabular._cell_text(None) == ""
    assert tabular._cell_text(1000123800020.0) == "1000123800020"
    assert tabular._cell_text(3000.5) == "3000.5"
    assert tabular._cell_text(12) == "12"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+86", "'+86"),
        ("-refund", "'-refund"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("工资", "工资"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(text: str, shown: str) -> None:
    assert tabular.neutralise(text) == shown


def test_csv_returns_neutralise_formulas(tmp_path: Path) -> None:
    path = _write(tmp_path, "account,name,amount,memo\n=cmd,@evil,1.00,-2+3\nTOTAL,1,1.00\n")
    batch = parse_batch_file(path, "payroll")
    written = write_returns(batch, [row_success(batch.rows[0])], tmp_path / "out")
    success = (tmp_path / "out" / "f.success.csv").read_text(encoding="utf-8")
    assert success.splitlines()[1] == "'=cmd,'@evil,1.00,'-2+3,成功,"
    assert len(written) == 2


def test_xlsx_returns_neutralise_formulas_and_keep_text_cells(tmp_path: Path) -> None:
    batch = parse_batch_file(VALID / "xlsx_zh_headers_control_line_payroll.xlsx", "payroll")
    results = [row_success(row) for row in batch.rows[:2]]
    results.append(row_failure(batch.rows[2], NAME_MISMATCH))
    write_returns(batch, results, tmp_path)
    failure = tmp_path / "xlsx_zh_headers_control_line_payroll.failure.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(failure.read_bytes()))
    rows = [[cell.value for cell in row] for row in book.active.iter_rows()]
    assert rows == [
        ["账号", "户名", "金额", "用途", "结果", "原因代码"],
        ["1000125100017", '\'=HYPERLINK("x")', "1500.25", "工资", "户名不符", "BE01"],
        ["合计", "1", "1500.25", None, None, None],
    ]
    assert all(
        cell.data_type == "s" for row in book.active.iter_rows() for cell in row if cell.value
    )


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    assert caught.value.code == "bad_xlsx"


def test_a_control_line_in_the_middle_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "账号,户名,金额\n6222,张三,1.00\n合计,1,1.00\n6223,李四,2.00\n")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll", declared_count=2, declared_total_fen=300)
    assert (caught.value.code, caught.value.line) == ("bad_control", 3)
