"""Reason codes (Chinese text, ISO code, NACHA), limits stated in code, the docs that list
them, and the guarantees of write_returns."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from cardbatch.payfiles import (
    FileError,
    model,
    parse_batch_file,
    reasons,
    row_failure,
    row_success,
    textio,
    write_returns,
)
from cardbatch.payfiles import pipe as pipe_format
from tests.unit.payfiles import samples

DOCS = Path(__file__).resolve().parents[3] / "docs" / "payfiles.md"


@pytest.mark.parametrize(
    ("reason_cn", "iso_code"),
    [
        ("户名不符", "BE01"),
        ("余额不足", "AM04"),
        ("账户冻结", "AC06"),
        ("账户已销户", "AC04"),
        ("账户不存在", "AC01"),
        ("无授权", "MD01"),
        ("重复", "AM05"),
        ("金额无效", "AM12"),
    ],
)
def test_chinese_reason_and_iso_code(reason_cn: str, iso_code: str) -> None:
    assert reasons.reason_by_iso(iso_code).reason_cn == reason_cn


def test_nacha_mapping_from_the_domain() -> None:
    assert reasons.reason_by_nacha("R01").iso_code == "AM04"
    assert reasons.reason_by_nacha("R02").iso_code == "AC04"
    assert reasons.reason_by_nacha("R03").iso_code == "AC01"
    assert reasons.reason_by_nacha("r04").iso_code == "AC01"
    assert reasons.reason_by_nacha("R16").iso_code == "AC06"
    assert reasons.reason_by_nacha("R99") is reasons.OTHER


def test_only_insufficient_funds_is_retryable() -> None:
    assert [r.iso_code for r in reasons.REASONS if r.retryable] == ["AM04"]


def test_unknown_iso_code_is_narrative() -> None:
    assert reasons.reason_by_iso("ZZ99").iso_code == "NARR"


def test_docs_list_every_reason_and_limit() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for reason in reasons.REASONS:
        assert reason.reason_cn in text, reason
        assert reason.iso_code in text, reason
        for code in reason.nacha_codes:
            assert code in text
    for name in (
        "FILE_BYTES_MAX",
        "ROWS_MAX",
        "FIELD_CHARS_MAX",
        "XLSX_UNZIPPED_BYTES_MAX",
        "AMOUNT_FEN_MAX_PER_ROW",
    ):
        assert name in text, name


def test_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes((samples.VALID / "pipe_utf8_collection_20240415.txt").read_bytes())
    monkeypatch.setattr(textio, "FILE_BYTES_MAX", 10)
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "collection")
    assert caught.value.code == "too_large"


def test_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipe_format, "ROWS_MAX", 3)
    with pytest.raises(FileError) as caught:
        parse_batch_file(samples.VALID / "pipe_utf8_collection_20240415.txt", "collection")
    assert caught.value.code == "too_many_rows"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"\n \n")
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll")
    assert caught.value.code == "empty"


def test_limits_are_stated() -> None:
    assert model.ROWS_MAX >= 1_000_000
    assert model.FILE_BYTES_MAX > 0


def test_write_returns_needs_one_result_per_row_in_order(tmp_path: Path) -> None:
    batch = samples.parse_valid("pipe_utf8_collection_20240415.txt")
    results = [row_success(row) for row in batch.rows]
    with pytest.raises(ValueError, match="results for"):
        write_returns(batch, results[:-1], tmp_path)
    with pytest.raises(ValueError, match="expected"):
        write_returns(batch, list(reversed(results)), tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_counts_and_sums_of_return_files(tmp_path: Path) -> None:
    from cardbatch.payfiles import summarize

    batch = samples.parse_valid("pipe_gbk_crlf_payroll_20090906.txt")
    results = [row_success(row) for row in batch.rows[:3]]
    results += [row_failure(row, reasons.ACCOUNT_FROZEN) for row in batch.rows[3:]]
    summary = summarize(results)
    assert summary == (3, 560000, 2, 730050)
    assert summary.success_total_fen + summary.failure_total_fen == batch.total_fen
    paths = write_returns(batch, results, tmp_path, created_at=datetime(2024, 1, 1))
    success = paths[0].read_bytes().decode("gbk").split("\r\n")
    assert success[0] == "1|1|20090906|1046|1|1|3|5600.00|"
    failure = paths[1].read_bytes().decode("gbk").split("\r\n")
    assert failure[0] == "1|1|20090906|1046|1|1|2|7300.50|"
    assert failure[1].endswith("|账户冻结|AC06|")
