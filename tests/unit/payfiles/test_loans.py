"""Loan schedule files (贷款扣款): CSV or XLSX, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest

from cardbatch.payfiles import FileError
from cardbatch.payfiles.loans import parse_loan_schedule
from tests.unit.payfiles import samples


def test_chinese_headers_gbk_csv() -> None:
    schedule = parse_loan_schedule(samples.VALID / "loan_schedule_zh_headers_gbk.csv")
    assert schedule.encoding == "gbk"
    assert [
        (i.line_no, i.loan_id, i.instalment_no, i.due_date, i.amount_fen)
        for i in schedule.instalments
    ] == [
        (2, "L2024-0001", 1, date(2024, 5, 15), 152033),
        (3, "L2024-0001", 2, date(2024, 6, 15), 152033),
        (4, "L2024-0002", 1, date(2024, 5, 20), 88000),
    ]
    assert schedule.instalments[0].name == "客户01"
    assert schedule.total_fen == 392066


def test_english_headers_xlsx_with_date_cells() -> None:
    schedule = parse_loan_schedule(samples.VALID / "loan_schedule_en_headers.xlsx")
    (only,) = schedule.instalments
    assert (only.loan_id, only.account, only.due_date, only.amount_fen) == (
        "L2024-0003",
        "1000125100017",
        date(2024, 5, 25),
        200050,
    )
    assert only.instalment_no is None


@pytest.mark.parametrize(
    ("name", "code", "line", "field"),
    [
        ("loan_schedule_duplicate_instalment.csv", "duplicate_instalment", 5, "loan_id"),
        ("loan_schedule_bad_due_date.csv", "bad_date", 3, "due_date"),
        ("loan_schedule_zero_amount.csv", "bad_amount", 4, "amount"),
    ],
)
def test_broken_schedules_are_refused(name: str, code: str, line: int, field: str) -> None:
    with pytest.raises(FileError) as caught:
        parse_loan_schedule(samples.INVALID / name)
    assert (caught.value.code, caught.value.line, caught.value.field) == (code, line, field)
