"""Reading and cleaning application files: headers, encodings, XLSX, whole-file errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cardbatch.applications.intake import clean_file, clean_row
from cardbatch.applications.reader import ApplicationFileError, RawRow, read_application_file
from cardbatch.applications.rejects import write_rejects
from cardbatch.textsafe import neutralise

DATA = Path(__file__).resolve().parents[2] / "data"
VALID = DATA / "valid" / "applications"
INVALID = DATA / "invalid" / "applications"


def test_gb18030_file_with_chinese_headers_is_read_and_clean() -> None:
    raw = read_application_file(VALID / "employer_staff_zh_headers_gb18030.csv", "h")
    result = clean_file(raw)
    assert result.rejected == []
    assert [a.name for a in result.accepted] == ["刘一", "陈二", "杨三"]
    assert result.accepted[1].monthly_income_fen == 900_050
    assert result.accepted[2].product_code == "gold"


def test_xlsx_with_english_headers_in_any_order() -> None:
    raw = read_application_file(VALID / "walk_in_en_headers.xlsx", "h")
    result = clean_file(raw)
    assert result.rejected == []
    assert [(a.name, a.monthly_income_fen, a.employer) for a in result.accepted] == [
        ("Li Si", 2_000_000, "Xinghe Tech"),
        ("Zhou Wu", 700_000, ""),
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing_id_column.csv", "required column(s) missing: id_number"),
        ("header_only.csv", "header but no applications"),
        ("not_text.csv", "not UTF-8 or GB18030"),
    ],
)
def test_whole_file_errors_are_one_clear_line(name: str, message: str) -> None:
    with pytest.raises(ApplicationFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_application_file(INVALID / name, "h")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ApplicationFileError, match="empty"):
        read_application_file(path, "h")


def _row(**values: str) -> RawRow:
    base = {
        "name": "张三",
        "id_number": "11010519491231002x",
        "phone": "13812345678",
        "employer": "",
        "monthly_income": "5000",
        "product": "standard",
        "address": "北京",
    }
    base.update(values)
    return RawRow(2, base, tuple(base.values()))


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"name": " "}, "name", "required"),
        ({"name": "张3"}, "name", "name_format"),
        ({"id_number": "11010519491231002"}, "id_number", "ric_format"),
        ({"id_number": "110105194912310021"}, "id_number", "ric_checksum"),
        ({"phone": "1381234567"}, "phone", "phone_format"),
        ({"monthly_income": ""}, "monthly_income", "required"),
        ({"monthly_income": "5000.001"}, "monthly_income", "amount_format"),
        ({"monthly_income": "-5"}, "monthly_income", "amount_negative"),
        ({"monthly_income": "2000000000"}, "monthly_income", "amount_too_large"),
        ({"product": "标准卡"}, "product", "product_format"),
        ({"address": ""}, "address", "required"),
    ],
)
def test_row_errors_name_field_and_code(values: dict[str, str], field: str, code: str) -> None:
    error = clean_row(_row(**values))
    assert not hasattr(error, "id_number")
    assert (getattr(error, "field", None), getattr(error, "code", None)) == (field, code)
    assert getattr(error, "message", "").startswith("line 2: ")


def test_cleaning_normalises_full_width_and_lower_case_x_and_plus86() -> None:
    app = clean_row(
        _row(phone="+86 １３８-1234-5678", monthly_income="￥5,000.5", product=" Standard ")
    )
    assert not hasattr(app, "code")
    assert app.id_number == "11010519491231002X"
    assert app.phone == "13812345678"
    assert app.monthly_income_fen == 500_050
    assert app.product_code == "Standard"  # codes are kept as given


def test_rejects_file_reimports_after_a_fix(tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    shutil.copy(INVALID / "mixed_edge_cases_zh_headers.csv", source)
    raw = read_application_file(source, "h")
    result = clean_file(raw)
    path = write_rejects(raw, result.rejected)
    assert path is not None and path.name == "mixed.rejects.csv"
    again = clean_file(read_application_file(path, "h2"))
    assert again.rows_total == len(result.rejected) == 6
    # the in-file duplicate stands alone in the rejects file; deciding then finds line 2's
    # application open (reason open_application). The other rows keep their errors.
    assert [a.id_number for a in again.accepted] == ["110105199005010114"]
    assert [e.code for _, e in again.rejected] == [
        "ric_checksum",
        "ric_birth_date",
        "phone_format",
        "amount_format",
        "required",
    ]


def test_a_row_with_several_problems_lists_them_all() -> None:
    error = clean_row(_row(name="", phone="12", monthly_income="x"))
    assert getattr(error, "field", "") == "name;phone;monthly_income"
    assert getattr(error, "code", "") == "required;phone_format;amount_format"
    assert getattr(error, "message", "").startswith("line 2: applicant name is empty; phone ")


def test_gb18030_input_gets_a_gb18030_rejects_file(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes(
        "姓名,证件号码,手机号,工作单位,月收入,申请产品,地址\n张三,123,13812345678,,5000,standard,北京\n".encode(
            "gb18030"
        )
    )
    raw = read_application_file(path, "h")
    rejects = write_rejects(raw, clean_file(raw).rejected)
    assert rejects is not None and rejects.name == "staff.rejects.csv"
    text = rejects.read_bytes().decode("gb18030")
    assert text.splitlines()[0].endswith("reject_line,reject_field,reject_reason,reject_message")
    assert ",ric_format," in text.splitlines()[1]


def test_formula_cells_are_neutralised() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("张三") == "张三"
    assert neutralise("-5") == "-5" and neutralise("+86 138") == "'+86 138"
