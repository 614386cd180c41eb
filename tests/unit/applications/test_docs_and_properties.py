"""The docs list every reason code and setting; intake accounts for every generated row."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from cardbatch.applications import intake
from cardbatch.applications.decision import Reason
from cardbatch.applications.reader import read_application_file
from cardbatch.applications.rejects import write_rejects
from cardbatch.applications.roles import APPROVERS_SETTING
from cardbatch.domain.identity import ric_check_char

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "applications.md").read_text(encoding="utf-8")
SOURCES = [
    ROOT / "src" / "cardbatch" / "applications" / "intake.py",
    ROOT / "src" / "cardbatch" / "actions" / "limit_service.py",
    ROOT / "src" / "cardbatch" / "actions" / "notices.py",
]


def test_every_decision_reason_is_documented() -> None:
    missing = [r.value for r in Reason if f"`{r.value}`" not in DOC]
    assert missing == []


def test_every_intake_code_is_documented() -> None:
    codes = set(re.findall(r'_err\([^,]+, "[a-z_]+", "([a-z_]+)"', SOURCES[0].read_text()))
    codes |= {
        "duplicate_in_file",
        "ric_format",
        "ric_birth_date",
        "ric_checksum",
        "ric_region",
        "phone_format",
    }
    assert codes and [c for c in sorted(codes) if f"`{c}`" not in DOC] == []


def test_limit_and_notice_reasons_and_settings_are_documented() -> None:
    names = [
        "limit_changed_since_proposal",
        "limit_changed_since_apply",
        "no_change",
        "not_found",
        "not_due_in_window",
        "nothing_due",
        "dpd_unknown",
        "other_bucket",
        APPROVERS_SETTING,
        "FILE_BYTES_MAX",
        "ROWS_MAX",
        "TARGETS_MAX",
    ]
    assert [n for n in names if n not in DOC] == []


def test_xlsx_input_gets_an_xlsx_rejects_file(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "证件号码", "手机号", "工作单位", "月收入", "申请产品", "地址"])
    sheet.append(["张三", "11010519491231002X", "13812345678", "", 5000, "standard", "北京"])
    sheet.append(["@张三", "110105194912310021", "13812345678", "", 5000, "standard", "x"])
    path = tmp_path / "apps.xlsx"
    book.save(path)
    raw = read_application_file(path, "h")
    result = intake.clean_file(raw)
    rejects = write_rejects(raw, result.rejected)
    assert rejects is not None and rejects.name == "apps.rejects.xlsx"
    rows = list(load_workbook(rejects).worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "'@张三" and rows[1][-2] == "ric_checksum"


_GOOD = ["张三", "", "13812345678", "某公司", "5000", "standard", "北京"]
_BAD_VALUES = {
    0: ["", "张3"],
    1: ["123", "110105194912310021"],
    2: ["12", "abc"],
    4: ["-1", "x", "1.234"],
    5: ["标准"],
    6: [""],
}


@st.composite
def _rows(draw: st.DrawFn) -> list[list[str]]:
    rows = []
    for i in range(draw(st.integers(min_value=1, max_value=40))):
        body = f"110105{1960 + draw(st.integers(0, 40))}0101{draw(st.integers(0, 30)):03d}"
        row = [*_GOOD]
        row[1] = body + ric_check_char(body)
        if draw(st.booleans()):
            column = draw(st.sampled_from(sorted(_BAD_VALUES)))
            row[column] = draw(st.sampled_from(_BAD_VALUES[column]))
        rows.append(row if i == 0 or not draw(st.booleans()) else rows[-1])
    return rows


@settings(max_examples=40, deadline=None)
@given(_rows())
def test_every_row_is_accepted_or_rejected_once(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    folder = tmp_path_factory.mktemp("p")
    path = folder / "apps.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["name", "id_number", "phone", "employer", "monthly_income", "product", "address"]
        )
        writer.writerows(rows)
    result = intake.clean_file(read_application_file(path, "h"))
    assert len(result.accepted) + len(result.rejected) == len(rows)
    keys = [(a.id_number, a.product_code) for a in result.accepted]
    assert len(keys) == len(set(keys))
    lines = sorted([a.line_no for a in result.accepted] + [e.line_no for _, e in result.rejected])
    assert lines == list(range(2, len(rows) + 2))
