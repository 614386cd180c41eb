"""The Chinese pipe format (DOMAIN.md example): parse, validate, render; GBK and UTF-8."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardbatch.payfiles import FileError, parse_batch_file, pipe
from cardbatch.payfiles.checks import CheckContext, check_file
from tests.unit.payfiles.samples import VALID

DOMAIN_EXAMPLE = (
    "1|1|20090906|1046|1|1|2|600.00|\n"
    "01|客户01|300.00|1000123800020|1046|1|1|01|\n"
    "02|客户02|300.00|1000124600023|1046|1|1|01|\n"
)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_domain_example_parses_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "daifa.txt"
    path.write_bytes(DOMAIN_EXAMPLE.encode(encoding))
    batch = parse_batch_file(path, "payroll")
    assert batch.format == "pipe"
    assert batch.encoding == encoding
    assert batch.batch_date == date(2009, 9, 6)
    assert batch.unit_no == "1046"
    assert (batch.declared_count, batch.declared_total_fen) == (2, 60000)
    assert [(r.line_no, r.seq, r.name, r.amount_fen, r.account) for r in batch.rows] == [
        (2, "01", "客户01", 30000, "1000123800020"),
        (3, "02", "客户02", 30000, "1000124600023"),
    ]
    assert batch.rows[0].fields == (
        "01",
        "客户01",
        "300.00",
        "1000123800020",
        "1046",
        "1",
        "1",
        "01",
    )
    assert check_file(batch, CheckContext(date(2009, 9, 6), unit_no="1046")) == []


@pytest.mark.parametrize(
    "name", ["pipe_gbk_crlf_payroll_20090906.txt", "pipe_utf8_collection_20240415.txt"]
)
def test_render_round_trips_the_sample(name: str) -> None:
    data = (VALID / name).read_bytes()
    batch = pipe.parse(data, source=name, kind="payroll")
    assert pipe.render(batch) == data


def test_crlf_is_detected_and_kept() -> None:
    batch = parse_batch_file(VALID / "pipe_gbk_crlf_payroll_20090906.txt", "payroll")
    assert batch.newline == "\r\n"
    assert batch.encoding == "gbk"
    assert batch.rows[2].name == "李　四"


def test_blank_lines_are_ignored_and_line_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "gaps.txt"
    path.write_text(DOMAIN_EXAMPLE.replace("\n01|", "\n\n01|"), encoding="utf-8")
    batch = parse_batch_file(path, "payroll")
    assert [row.line_no for row in batch.rows] == [3, 4]


def test_declared_count_must_agree_with_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "daifa.txt"
    path.write_text(DOMAIN_EXAMPLE, encoding="utf-8")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll", declared_count=3)
    assert caught.value.code == "declared_mismatch"


def test_every_bad_detail_line_is_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(
        "1|1|20090906|1046|1|1|2|600.00|\n01|客户01|x|1000123800020|1046|\n02||300.00||1046|\n",
        encoding="utf-8",
    )
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    found = [(p.line, p.field, p.code) for p in caught.value.problems]
    assert found == [
        (2, "amount", "bad_amount"),
        (3, "name", "missing_field"),
        (3, "account", "missing_field"),
    ]


def test_looks_like_pipe() -> None:
    assert pipe.looks_like_pipe(DOMAIN_EXAMPLE)
    assert not pipe.looks_like_pipe("账号,户名,金额,用途\n")
    assert not pipe.looks_like_pipe("\n\n")


def test_a_malformed_summary_is_reported_as_pipe(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("1|1|20090906|1046|\n01|客户01|300.00|1000123800020|1046|\n", encoding="utf-8")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    assert (caught.value.code, caught.value.line, caught.value.value) == (
        "bad_summary",
        1,
        "4 fields",
    )


def test_short_detail_line_does_not_show_personal_data(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("1|1|20090906|1046|1|1|1|1.00|\n01|张三丰|1.00|\n", encoding="utf-8")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    assert "张三丰" not in str(caught.value)
