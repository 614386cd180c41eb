"""Every broken sample is refused as a whole with one clear reason naming file, line, field
and value (personal data masked), at parsing or at the whole-file checks."""

from __future__ import annotations

from datetime import date

import pytest

from cardbatch.payfiles import CheckContext, FileError, check_file, parse_batch_file
from cardbatch.payfiles.model import Kind
from tests.unit.payfiles import samples

BUSINESS_DATE = date(2024, 4, 15)

# file -> (kind, stage, code, line, field)
CASES: dict[str, tuple[Kind, str, str, int | None, str]] = {
    "pipe_gbk_count_mismatch_summary_says_6.txt": (
        "payroll",
        "check",
        "count_mismatch",
        1,
        "count",
    ),
    "pipe_utf8_sum_mismatch_summary_says_300.txt": (
        "collection",
        "check",
        "total_mismatch",
        1,
        "total",
    ),
    "pipe_utf8_bad_date_20240431.txt": ("collection", "parse", "bad_date", 1, "date"),
    "pipe_utf8_bad_amount_letter_o.txt": ("collection", "parse", "bad_amount", 3, "amount"),
    "pipe_utf8_duplicate_row.txt": ("collection", "rows", "duplicate", 6, "row"),
    "pipe_utf8_detail_unit_differs.txt": ("collection", "check", "unit_mismatch", 4, "unit_no"),
    "pipe_undecodable_bytes.txt": ("payroll", "parse", "undecodable", 3, "encoding"),
    "pipe_utf8_short_detail_line.txt": ("collection", "parse", "bad_detail", 3, "detail"),
    "csv_zh_sum_mismatch.csv": ("payroll", "check", "total_mismatch", 1, "total"),
    "csv_en_count_mismatch.csv": ("collection", "check", "count_mismatch", 1, "count"),
    "csv_en_bad_amount_three_decimals.csv": ("collection", "parse", "bad_amount", 3, "amount"),
    "csv_en_unknown_column.csv": ("collection", "parse", "bad_header", 1, "header"),
    "csv_zh_no_control_line.csv": ("payroll", "parse", "no_control", None, "control"),
    "csv_zh_bad_date_in_control_line.csv": ("payroll", "parse", "bad_date", 5, "date"),
    "xlsx_not_a_zip.xlsx": ("payroll", "parse", "bad_xlsx", None, "xlsx"),
    "pain001_malformed_truncated.xml": ("payroll", "parse", "malformed_xml", 83, "xml"),
    "pain001_xsd_invalid_no_debtor_agent.xml": ("payroll", "parse", "xsd_invalid", 30, "xsd"),
    "pain001_xsd_invalid_pmtmtd_chk.xml": ("payroll", "parse", "xsd_invalid", 15, "xsd"),
    "pain001_xxe_external_entity.xml": ("payroll", "parse", "unsafe_xml", 1, "xml"),
    "pain008_billion_laughs.xml": ("collection", "parse", "unsafe_xml", 1, "xml"),
    "pain008_count_mismatch_nboftxs_5.xml": ("collection", "check", "count_mismatch", 1, "count"),
    "pain001_sum_mismatch_ctrlsum.xml": ("payroll", "check", "total_mismatch", 1, "total"),
    "pain001_amount_three_decimals.xml": ("payroll", "parse", "bad_amount", 42, "amount"),
    "pain001_currency_usd.xml": ("payroll", "parse", "bad_currency", 42, "currency"),
    "pain001_duplicate_end_to_end_id.xml": (
        "payroll",
        "check",
        "duplicate_end_to_end_id",
        58,
        "EndToEndId",
    ),
}


def test_every_invalid_sample_has_a_case() -> None:
    names = {p.name for p in samples.INVALID.iterdir()} - set(samples.invalid_loan_samples())
    assert sorted(names) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_sample_is_refused_with_a_clear_reason(name: str) -> None:
    kind, stage, code, line, field = CASES[name]
    path = samples.INVALID / name
    if stage == "parse":
        with pytest.raises(FileError) as caught:
            parse_batch_file(path, kind)
        problem = caught.value.problems[0]
        assert str(caught.value).startswith(f"{name}")
    elif stage == "check":
        batch = parse_batch_file(path, kind)
        problems = check_file(batch, CheckContext(batch.batch_date or BUSINESS_DATE))
        assert problems, name
        problem = problems[0]
    else:
        from cardbatch.payfiles import pre_check_rows

        batch = parse_batch_file(path, kind)
        assert check_file(batch, CheckContext(BUSINESS_DATE)) == []
        failed = [r for r in pre_check_rows(batch) if r is not None and r.iso_code == "AM05"]
        assert [r.row.line_no for r in failed] == [line]
        assert failed[0].reason_cn == "重复"
        return
    assert (problem.file, problem.code, problem.line, problem.field) == (name, code, line, field)
    assert problem.reason


def test_values_in_errors_are_masked(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "long_account.txt"
    path.write_text(
        "1|1|20240415|2088|1|1|1|1.00|\n01|张三丰|1.00|" + "6" * 300 + "|2088|\n", encoding="utf-8"
    )
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    problem = caught.value.problems[0]
    assert problem.field == "account"
    assert problem.value.startswith("666666*")
    assert "6" * 20 not in problem.value
