"""pain.002.001.03 status reports: every generated report is parsed back and checked for group
status, original message id, counts and sums, and every original EndToEndId exactly once with
its status and reason code."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbatch.payfiles import (
    BatchFile,
    RowResult,
    pain002,
    parse_batch_file,
    row_failure,
    row_success,
    write_returns,
)
from cardbatch.payfiles.model import FileProblem
from cardbatch.payfiles.reasons import REASONS, SUCCESS
from tests.unit.payfiles import samples
from tests.unit.payfiles.test_iso20022 import iso_batches

STAMP = datetime(2024, 4, 15, 20, 0, 0)
FAILURES = [reason for reason in REASONS if reason is not SUCCESS]


def assert_report_matches(data: bytes, batch: BatchFile, results: list[RowResult]) -> None:
    report = pain002.parse_status_report(data)
    successes = [r for r in results if r.ok]
    failures = [r for r in results if not r.ok]
    expected_group = "ACCP" if not failures else ("RJCT" if not successes else "PART")
    assert report.group_status == expected_group
    assert report.original_message_id == batch.message_id
    assert report.original_message_name == pain002.MESSAGE_NAMES[batch.format]
    assert report.original_count == len(batch.rows)
    assert report.original_total_fen == batch.total_fen
    assert report.count_by_status.get("ACSC", 0) == len(successes)
    assert report.count_by_status.get("RJCT", 0) == len(failures)
    assert report.total_fen_by_status.get("ACSC", 0) == sum(r.row.amount_fen for r in successes)
    assert report.total_fen_by_status.get("RJCT", 0) == sum(r.row.amount_fen for r in failures)
    seen = Counter(tx.end_to_end_id for tx in report.transactions)
    assert seen == Counter(row.end_to_end_id for row in batch.rows)
    assert set(seen.values()) == {1}
    by_id = {tx.end_to_end_id: tx for tx in report.transactions}
    for result in results:
        tx = by_id[result.row.end_to_end_id]
        assert tx.status == ("ACSC" if result.ok else "RJCT")
        assert tx.reason_code == result.iso_code
        assert tx.reason_text == ("" if result.ok else result.reason_cn)
        assert tx.amount_fen == result.row.amount_fen


@pytest.mark.parametrize(
    "name", ["pain001_payroll_20240415.xml", "pain008_collection_20240415.xml"]
)
def test_expected_reports_parse_back(name: str) -> None:
    batch = samples.parse_valid(name)
    results = samples.fixed_results(batch, samples.outcomes()[name]["failures"])
    data = (samples.EXPECTED / name.replace(".xml", ".pain002.xml")).read_bytes()
    assert_report_matches(data, batch, results)
    report = pain002.parse_status_report(data)
    assert report.group_status == "PART"
    assert report.created_at == "2024-04-15T20:00:00"


@pytest.mark.parametrize("fmt", ["pain.001", "pain.008"])
def test_generated_reports_parse_back(fmt: str, tmp_path: Path) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(iso_batches(fmt), st.data())
    def check(generated: BatchFile, data: st.DataObject) -> None:
        from cardbatch.payfiles import iso20022

        path = tmp_path / "in.xml"
        path.write_bytes(iso20022.render(generated))
        batch = parse_batch_file(path, generated.kind)
        outcomes = data.draw(
            st.lists(
                st.sampled_from([None, *FAILURES]),
                min_size=len(batch.rows),
                max_size=len(batch.rows),
            )
        )
        results = [
            row_success(row) if reason is None else row_failure(row, reason)
            for row, reason in zip(batch.rows, outcomes, strict=True)
        ]
        (report_path,) = write_returns(batch, results, tmp_path / "out", created_at=STAMP)
        assert report_path.name == "in.pain002.xml"
        assert_report_matches(report_path.read_bytes(), batch, results)

    check()


def test_all_accepted_and_all_rejected() -> None:
    batch = samples.parse_valid("pain008_collection_20240415.xml")
    accepted = [row_success(row) for row in batch.rows]
    rejected = [row_failure(row, FAILURES[0]) for row in batch.rows]
    for results, status in ((accepted, "ACCP"), (rejected, "RJCT")):
        data = pain002.render_status_report(batch, results, STAMP)
        assert pain002.parse_status_report(data).group_status == status
        assert_report_matches(data, batch, results)


def test_group_rejection_report() -> None:
    problem = FileProblem(
        "x.xml", 1, "count", "5", "4 rows but 5 declared", "count_mismatch", "AM18"
    )
    data = pain002.render_group_rejection(
        original_message_id="FEES-1",
        original_message_name="pain.008.001.02",
        problem=problem,
        created_at=STAMP,
        original_count=5,
        original_total_fen=31350,
    )
    report = pain002.parse_status_report(data)
    assert report.group_status == "RJCT"
    assert report.group_reason_codes == ("AM18",)
    assert (report.original_message_id, report.original_count) == ("FEES-1", 5)
    assert report.original_total_fen == 31350
    assert report.transactions == ()


def test_report_message_id_is_short_and_stable() -> None:
    first = pain002.report_message_id("PAYROLL-20240415-0001")
    assert first == pain002.report_message_id("PAYROLL-20240415-0001")
    assert len(first) <= 35
    assert first != pain002.report_message_id("PAYROLL-20240415-0002")
