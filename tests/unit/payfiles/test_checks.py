"""Pure whole-file and per-row checks (DOMAIN.md "Batch payment files", issue checks)."""

from __future__ import annotations

from datetime import date

import pytest

from cardbatch.payfiles import CheckContext, FileError, checks, parse_batch_file
from cardbatch.payfiles.model import BatchRow
from cardbatch.payfiles.reasons import AMOUNT_OVER_LIMIT, DUPLICATE, INVALID_AMOUNT
from tests.unit.payfiles import samples

PIPE = samples.VALID / "pipe_gbk_crlf_payroll_20090906.txt"
PAIN001 = samples.VALID / "pain001_payroll_20240415.xml"


def test_header_date_must_be_the_business_date_unless_allowed() -> None:
    batch = parse_batch_file(PIPE, "payroll")
    problems = checks.check_file(batch, CheckContext(date(2009, 9, 7)))
    assert [(p.code, p.field, p.value, p.iso_code) for p in problems] == [
        ("date_mismatch", "date", "2009-09-06", "DT01")
    ]
    assert checks.check_file(batch, CheckContext(date(2009, 9, 7), allow_date=True)) == []


def test_unit_number_must_be_the_employers() -> None:
    batch = parse_batch_file(PIPE, "payroll")
    assert checks.check_file(batch, CheckContext(date(2009, 9, 6), unit_no="1046")) == []
    (problem,) = checks.check_file(batch, CheckContext(date(2009, 9, 6), unit_no="2000"))
    assert (problem.code, problem.field, problem.value) == ("unit_mismatch", "unit_no", "1046")


def test_iso_employer_account_must_be_the_submitting_one() -> None:
    batch = parse_batch_file(PAIN001, "payroll")
    ctx = CheckContext(date(2024, 4, 15), party_account="1000999900001")
    assert checks.check_file(batch, ctx) == []
    (problem,) = checks.check_file(batch, ctx._replace(party_account="1000999900002"))
    assert problem.code == "unit_mismatch"
    assert problem.value == "100099***0001"  # masked


def test_require_valid_file_raises_every_problem_together() -> None:
    batch = parse_batch_file(
        samples.INVALID / "pipe_gbk_count_mismatch_summary_says_6.txt", "payroll"
    )
    with pytest.raises(FileError) as caught:
        checks.require_valid_file(batch, CheckContext(date(2009, 9, 7), unit_no="9"))
    assert [p.code for p in caught.value.problems] == [
        "date_mismatch",
        "unit_mismatch",
        "count_mismatch",
    ]
    assert caught.value.code == "date_mismatch"


def test_a_file_without_rows_is_refused(tmp_path: object) -> None:
    batch = parse_batch_file(PIPE, "payroll")._replace(
        rows=(), declared_count=0, declared_total_fen=0
    )
    (problem,) = checks.check_file(batch, CheckContext(date(2009, 9, 6)))
    assert problem.code == "no_rows"


@pytest.mark.parametrize(
    ("in_file", "holder", "same"),
    [
        ("张三", "张三", True),
        ("张　三", "张三", True),  # ideographic space
        (" 张三 ", "张三", True),
        ("ＬＩ　Ｌｅｉ", "LI Lei", True),  # full-width letters and space
        ("li  lei", "LI Lei", True),
        ("LILei", "LI Lei", False),
        ("阿卜杜・热合曼", "阿卜杜·热合曼", True),  # katakana middle dot vs middle dot
        ("阿卜杜•热合曼", "阿卜杜·热合曼", True),
        ("张三", "张山", False),
        ("客户01", "客户０１", True),
    ],
)
def test_names_match_after_normalisation(in_file: str, holder: str, same: bool) -> None:
    assert checks.names_match(in_file, holder) is same


def _row(amount_fen: int, account: str = "6222", name: str = "张三", line_no: int = 2) -> BatchRow:
    return BatchRow(line_no, "", name, account, amount_fen)


def test_amount_must_be_positive_and_within_the_limit() -> None:
    assert checks.check_amount(_row(0)) is INVALID_AMOUNT
    assert checks.check_amount(_row(-100)) is INVALID_AMOUNT
    assert checks.check_amount(_row(1)) is None
    assert checks.check_amount(_row(checks.AMOUNT_FEN_MAX_PER_ROW)) is None
    assert checks.check_amount(_row(checks.AMOUNT_FEN_MAX_PER_ROW + 1)) is AMOUNT_OVER_LIMIT
    assert checks.check_amount(_row(5001), amount_fen_max=5000) is AMOUNT_OVER_LIMIT


def test_duplicates_fail_later_occurrences_only() -> None:
    rows = [
        _row(100, line_no=2),
        _row(100, line_no=3),
        _row(100, name="张　三", line_no=4),
        _row(200, line_no=5),
    ]
    assert checks.duplicates(rows) == {1: 0, 2: 0}
    batch = parse_batch_file(PIPE, "payroll")._replace(rows=tuple(rows))
    results = checks.pre_check_rows(batch)
    assert [r.iso_code if r else None for r in results] == [None, "AM05", "AM05", None]
    assert results[1] is not None and results[1].reason_cn == DUPLICATE.reason_cn


def test_pre_checks_on_a_sample() -> None:
    batch = parse_batch_file(samples.VALID / "pipe_utf8_collection_20240415.txt", "collection")
    results = checks.pre_check_rows(batch)
    assert [(r.row.line_no, r.reason_cn, r.iso_code) for r in results if r] == [
        (5, "金额无效", "AM12")
    ]
    over = checks.pre_check_rows(batch, amount_fen_max=10000)
    assert [(r.row.line_no, r.iso_code) for r in over if r] == [(4, "AM02"), (5, "AM12")]


def test_file_checks_are_a_list_of_plain_functions() -> None:
    assert checks.check_date in checks.FILE_CHECKS
    assert checks.check_count in checks.FILE_CHECKS
    assert checks.check_total in checks.FILE_CHECKS


def test_account_rules_in_order() -> None:
    from cardbatch.domain.records import DepositAccount, DepositStatus

    row = _row(100, account="1000123800020", name="李　四")
    active = DepositAccount("1000123800020", "李四")
    assert checks.check_account(row, None).iso_code == "AC01"
    closed = DepositAccount("1000123800020", "王五", DepositStatus.CLOSED)
    assert checks.check_account(row, closed).reason_cn == "账户已销户"
    frozen = DepositAccount("1000123800020", "李四", DepositStatus.FROZEN)
    assert checks.check_account(row, frozen).iso_code == "AC06"
    assert checks.check_account(row, active) is None
    other = DepositAccount("1000123800020", "李思")
    assert checks.check_account(row, other).reason_cn == "户名不符"
    assert checks.check_account(row, active, mandate_required=True).iso_code == "MD01"
    assert checks.check_account(row, active, mandate_required=True, has_mandate=True) is None
