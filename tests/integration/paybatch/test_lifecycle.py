"""The batch lifecycle on a real store (SQLite and PostgreSQL): submit, approve, run, returns.

Oracles: the expected return files under tests/data/expected/payfiles (made by the payfiles
layer from the fixed outcomes in outcomes.toml), and the ledger itself.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.paybatch import (
    BatchStateError,
    BatchStatus,
    MakerCheckerError,
    SubmitRequest,
    approve,
    entry_key,
    list_batches,
    run_batch,
    show,
    submit,
    write_batch_returns,
)
from cardbatch.paybatch.model import RunRefused
from cardbatch.paybatch.returns import load_results, pipe_returns
from cardbatch.payfiles import summarize
from cardbatch.payfiles.pain002 import parse_status_report
from cardbatch.payfiles.returns import render_returns
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries, postings
from cardbatch.store.tables_paybatch import paybatch_results, paybatch_rows, paybatches
from tests.integration.paybatch.worlds import (
    DAY,
    WORLDS,
    available_fen,
    build_world,
    numbered_success_fen,
    numbered_world,
    write_numbered_payroll,
)
from tests.unit.payfiles.samples import EXPECTED, INVALID, VALID, created_at, outcomes

MAKER, CHECKER = "maker", "checker"


def request_for(name: str, folder: Path = VALID, **changes: object) -> SubmitRequest:
    spec = outcomes().get(name, {})
    world = WORLDS[name]
    values: dict[str, object] = {
        "path": folder / name,
        "kind": world.kind,
        "party_account": world.party_account,
        "business_date": date.fromisoformat(spec.get("business_date", "2024-04-15")),
        "declared_count": spec.get("declared_count"),
        "declared_total_fen": spec.get("declared_total_fen"),
    }
    values.update(changes)
    return SubmitRequest(**values)  # type: ignore[arg-type]


def submit_approved(store: Store, name: str) -> int:
    outcome = submit(store, request_for(name), MAKER)
    assert outcome.status == BatchStatus.VALIDATED, outcome.rejection
    approve(store, outcome.batch_id, CHECKER)
    return outcome.batch_id


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_every_sample_runs_to_its_expected_return_files(
    store: Store, name: str, tmp_path: Path
) -> None:
    world = WORLDS[name]
    build_world(store, world)
    party_before = available_fen(store, world.party_account)
    batch_id = submit_approved(store, name)
    outcome = run_batch(store, batch_id, "operator")
    files = write_batch_returns(store, batch_id, tmp_path, created_at=created_at())
    for path in files.paths:
        assert path.read_bytes() == (EXPECTED / path.name).read_bytes(), path.name
    assert {p.name for p in files.paths} == {
        p.name for p in EXPECTED.iterdir() if p.name.startswith(Path(name).stem + ".")
    }
    # The party moved by exactly the sum of the successful rows, and nothing else.
    change = available_fen(store, world.party_account) - party_before
    sign = -1 if world.kind == "payroll" else 1
    assert change == sign * outcome.success_total_fen
    assert outcome.success_count == files.summary.success_count
    assert outcome.failure_count == files.summary.failure_count
    assert ledger.check(store).balanced


def test_payroll_posts_only_successes_one_entry_per_row(store: Store) -> None:
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, WORLDS[name])
    batch_id = submit_approved(store, name)
    run_batch(store, batch_id, "operator")
    summary = show(store, batch_id)
    assert summary.status == BatchStatus.COMPLETED
    assert summary.success_count == 3 and summary.success_total_fen == 30000 + 500000 + 420050
    assert summary.by_reason["name_mismatch"]["rows"] == 1
    assert summary.by_reason["account_closed"]["rows"] == 1
    assert available_fen(store, "1000125100017") == 500000  # 李　四 matched 李四
    assert available_fen(store, "1000124600023") == 0  # 户名不符: nothing posted
    with store.read() as conn:
        keys = set(conn.execute(select(journal_entries.c.idempotency_key)).scalars())
    assert {entry_key(batch_id, n) for n in (1, 3, 4)} <= keys
    assert entry_key(batch_id, 2) not in keys and entry_key(batch_id, 5) not in keys


def test_the_submitter_cannot_approve(store: Store) -> None:
    name = "csv_zh_headers_gbk_control_line_payroll.csv"
    build_world(store, WORLDS[name])
    outcome = submit(store, request_for(name), MAKER)
    with pytest.raises(MakerCheckerError):
        approve(store, outcome.batch_id, MAKER)
    assert show(store, outcome.batch_id).status == BatchStatus.VALIDATED
    assert show(store, approve(store, outcome.batch_id, CHECKER).batch_id).approved_by == CHECKER


def test_an_unapproved_batch_cannot_run(store: Store) -> None:
    name = "csv_zh_headers_gbk_control_line_payroll.csv"
    world = WORLDS[name]
    build_world(store, world)
    before = available_fen(store, world.party_account)
    outcome = submit(store, request_for(name), MAKER)
    with pytest.raises(BatchStateError, match="not approved"):
        run_batch(store, outcome.batch_id, MAKER)
    assert available_fen(store, world.party_account) == before
    assert show(store, outcome.batch_id).status == BatchStatus.VALIDATED


def test_a_completed_batch_does_not_run_again(store: Store) -> None:
    name = "csv_zh_headers_gbk_control_line_payroll.csv"
    build_world(store, WORLDS[name])
    batch_id = submit_approved(store, name)
    run_batch(store, batch_id, "operator")
    with pytest.raises(BatchStateError):
        run_batch(store, batch_id, "operator")
    with pytest.raises(BatchStateError):
        approve(store, batch_id, "someone")


def test_same_payroll_file_twice_is_refused_the_second_time(store: Store) -> None:
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, WORLDS[name])
    first = submit(store, request_for(name), MAKER)
    second = submit(store, request_for(name), MAKER)
    assert first.status == BatchStatus.VALIDATED
    assert second.status == BatchStatus.REJECTED
    assert second.rejection is not None and second.rejection.code == "duplicate_file"
    assert f"batch {first.batch_id}" in second.rejection.reason


def test_same_message_id_with_other_content_has_its_own_reason(
    store: Store, tmp_path: Path
) -> None:
    name = "pain001_payroll_20240415.xml"
    build_world(store, WORLDS[name])
    assert submit(store, request_for(name), MAKER).status == BatchStatus.VALIDATED
    changed = tmp_path / "pain001_payroll_20240415_changed.xml"
    data = (VALID / name).read_bytes()
    changed.write_bytes(data.replace("2024年4月工资".encode(), "2024年4月奖金".encode()))
    again = submit(store, request_for(name, path=changed), MAKER)
    assert again.rejection is not None
    assert again.rejection.code == "duplicate_message_id"
    assert "PAYROLL-20240415-0001" in again.rejection.reason


def test_a_rejected_file_may_be_submitted_again_once_fixed(store: Store) -> None:
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, WORLDS[name])
    wrong_day = submit(store, request_for(name, business_date=date(2009, 9, 7)), MAKER)
    assert wrong_day.rejection is not None and wrong_day.rejection.code == "date_mismatch"
    allowed = submit(store, request_for(name, business_date=date(2009, 9, 7), allow_date=True),
                     MAKER)  # fmt: skip
    assert allowed.status == BatchStatus.VALIDATED


@pytest.mark.parametrize(
    ("invalid_name", "world_name", "code"),
    [
        ("pipe_gbk_count_mismatch_summary_says_6.txt", "pipe_gbk_crlf_payroll_20090906.txt",
         "count_mismatch"),
        ("pipe_utf8_sum_mismatch_summary_says_300.txt", "pipe_utf8_collection_20240415.txt",
         "total_mismatch"),
        ("pipe_undecodable_bytes.txt", "pipe_gbk_crlf_payroll_20090906.txt", "undecodable"),
        ("pipe_utf8_detail_unit_differs.txt", "pipe_utf8_collection_20240415.txt",
         "unit_mismatch"),
        ("csv_zh_sum_mismatch.csv", "csv_zh_headers_gbk_control_line_payroll.csv",
         "total_mismatch"),
        ("pain008_count_mismatch_nboftxs_5.xml", "pain008_collection_20240415.xml",
         "count_mismatch"),
    ],
)  # fmt: skip
def test_broken_files_are_rejected_whole_with_one_reason(
    store: Store, invalid_name: str, world_name: str, code: str, tmp_path: Path
) -> None:
    world = WORLDS[world_name]
    build_world(store, world)
    target = tmp_path / invalid_name
    shutil.copy(INVALID / invalid_name, target)
    business_date = date.fromisoformat(outcomes()[world_name]["business_date"])
    outcome = submit(store, request_for(world_name, path=target, business_date=business_date),
                     MAKER)  # fmt: skip
    assert outcome.status == BatchStatus.REJECTED
    assert outcome.rejection is not None and outcome.rejection.code == code, outcome.rejection
    assert show(store, outcome.batch_id).reject_code == code
    with store.read() as conn:
        entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
    funded = (
        1 + sum(1 for h in world.holders if h.funds_fen)
        if world.party_funds_fen
        else sum(1 for h in world.holders if h.funds_fen)
    )
    assert entries == funded  # nothing posted beyond the set-up deposits


def test_unit_of_another_employer_is_rejected(store: Store) -> None:
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, WORLDS[name])
    other = WORLDS["pipe_utf8_collection_20240415.txt"]
    outcome = submit(store, request_for(name, party_account=other.party_account), MAKER)
    assert outcome.rejection is not None and outcome.rejection.code == "unknown_party"


def test_payroll_larger_than_the_employer_balance_is_rejected(store: Store) -> None:
    name = "pain001_payroll_20240415.xml"
    world = WORLDS[name]
    build_world(store, world)
    poor = request_for(name, party_account=world.party_account)
    # Spend almost everything first, so 43,601.49 is no longer covered.
    ledger.post(store, [transfer("test-spend", date(2024, 4, 14), EntryKind.PAYMENT,
                                 debit=(world.party_account, Component.BALANCE),
                                 credit=(GL.COUNTER_CASH, Component.BALANCE),
                                 amount_fen=world.party_funds_fen - 100)], "setup")  # fmt: skip
    outcome = submit(store, poor, MAKER)
    assert outcome.rejection is not None and outcome.rejection.code == "insufficient_funds"
    assert outcome.rejection.iso_code == "AM04"


def test_run_refuses_when_the_employer_was_emptied_after_approval(store: Store) -> None:
    name = "xlsx_zh_headers_control_line_payroll.xlsx"
    world = WORLDS[name]
    build_world(store, world)
    batch_id = submit_approved(store, name)
    ledger.post(store, [transfer("test-spend", date(2024, 4, 15), EntryKind.PAYMENT,
                                 debit=(world.party_account, Component.BALANCE),
                                 credit=(GL.COUNTER_CASH, Component.BALANCE),
                                 amount_fen=world.party_funds_fen)], "setup")  # fmt: skip
    with pytest.raises(RunRefused):
        run_batch(store, batch_id, "operator")
    assert show(store, batch_id).status == BatchStatus.APPROVED


def test_rejected_iso_message_gets_a_group_rejection_pain002(store: Store, tmp_path: Path) -> None:
    name = "pain001_payroll_20240415.xml"
    build_world(store, WORLDS[name])
    outcome = submit(store, request_for(name, business_date=date(2024, 4, 16)), MAKER)
    assert outcome.rejection is not None and outcome.rejection.code == "date_mismatch"
    files = write_batch_returns(store, outcome.batch_id, tmp_path)
    report = parse_status_report(files.paths[0].read_bytes())
    assert report.group_status == "RJCT"
    assert report.original_message_id == "PAYROLL-20240415-0001"
    assert report.group_reason_codes == ("DT01",)


def test_collection_pain002_lists_every_end_to_end_id_once(store: Store, tmp_path: Path) -> None:
    name = "pain008_collection_20240415.xml"
    build_world(store, WORLDS[name])
    batch_id = submit_approved(store, name)
    run_batch(store, batch_id, "operator", chunk_rows=1)
    files = write_batch_returns(store, batch_id, tmp_path)
    report = parse_status_report(files.paths[0].read_bytes())
    assert report.group_status == "PART"
    assert report.original_message_id == "FEES-20240415-0001"
    assert report.original_count == 4 and report.original_total_fen == 5800 + 12000 + 3650 + 9900
    by_id = {tx.end_to_end_id: (tx.status, tx.reason_code) for tx in report.transactions}
    assert [tx.end_to_end_id for tx in report.transactions] == [
        f"FEE-20240415-{n:04d}" for n in range(1, 5)
    ]
    assert by_id["FEE-20240415-0002"] == ("RJCT", "AM04")
    assert by_id["FEE-20240415-0004"] == ("RJCT", "MD01")
    assert by_id["FEE-20240415-0001"] == ("ACSC", "")
    assert report.count_by_status == {"ACSC": 2, "RJCT": 2}


def test_list_shows_newest_first(store: Store) -> None:
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, WORLDS[name])
    first = submit(store, request_for(name), MAKER)
    second = submit(store, request_for(name), MAKER)
    assert [b.batch_id for b in list_batches(store)] == [second.batch_id, first.batch_id]
    assert [b.batch_id for b in list_batches(store, status="rejected")] == [second.batch_id]


def test_a_large_batch_in_chunks_posts_exactly_the_successes(store: Store, tmp_path: Path) -> None:
    rows = 450  # above the COPY threshold on PostgreSQL for rows and results
    world = numbered_world(rows)
    build_world(store, world)
    path = tmp_path / "payroll_450.txt"
    write_numbered_payroll(path, rows)
    outcome = submit(store, SubmitRequest(path, "payroll", world.party_account, DAY), MAKER)
    assert outcome.status == BatchStatus.VALIDATED, outcome.rejection
    approve(store, outcome.batch_id, CHECKER)
    before = available_fen(store, world.party_account)
    result = run_batch(store, outcome.batch_id, "operator", chunk_rows=300)
    assert result.chunks_run == 2 and result.rows_run == rows
    assert result.success_total_fen == numbered_success_fen(rows)
    assert before - available_fen(store, world.party_account) == numbered_success_fen(rows)
    files = write_batch_returns(store, outcome.batch_id, tmp_path / "out")
    assert files.summary.success_count + files.summary.failure_count == rows
    assert ledger.check(store).balanced


def test_payroll_pain002_parses_back(store: Store, tmp_path: Path) -> None:
    name = "pain001_payroll_20240415.xml"
    build_world(store, WORLDS[name])
    batch_id = submit_approved(store, name)
    result = run_batch(store, batch_id, "operator")
    report = parse_status_report(
        write_batch_returns(store, batch_id, tmp_path).paths[0].read_bytes()
    )
    assert (report.group_status, report.original_message_id) == ("PART", "PAYROLL-20240415-0001")
    assert report.original_count == 5
    assert report.total_fen_by_status == {
        "ACSC": result.success_total_fen, "RJCT": result.failure_total_fen,
    }  # fmt: skip
    statuses = {tx.end_to_end_id: (tx.status, tx.reason_code) for tx in report.transactions}
    assert len(report.transactions) == len(statuses) == 5
    assert statuses["PAY-20240415-0002"] == ("RJCT", "AC06")
    assert statuses["PAY-20240415-0005"] == ("RJCT", "AC01")


def test_pipe_unit_of_another_unit_is_rejected(store: Store) -> None:
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, replace(WORLDS[name], unit_no="9999"))
    outcome = submit(store, request_for(name), MAKER)
    assert outcome.rejection is not None and outcome.rejection.code == "unit_mismatch"


def test_iso_debtor_account_must_be_the_submitting_employer(store: Store) -> None:
    name = "pain001_payroll_20240415.xml"
    world = replace(WORLDS[name], party_account="1000999900009")
    build_world(store, world)
    outcome = submit(store, request_for(name, party_account="1000999900009"), MAKER)
    assert outcome.rejection is not None and outcome.rejection.code == "unit_mismatch"


def test_rows_above_the_per_row_limit_fail_am02(store: Store) -> None:
    name = "csv_zh_headers_gbk_control_line_payroll.csv"
    build_world(store, WORLDS[name])
    outcome = submit(store, request_for(name, amount_fen_max_per_row=700_000), MAKER)
    approve(store, outcome.batch_id, CHECKER)
    run_batch(store, outcome.batch_id, "operator")
    by_reason = show(store, outcome.batch_id).by_reason
    assert by_reason["amount_over_limit"]["rows"] == 2  # 8,000.00 and 7,500.00 > 7,000.00
    assert by_reason["amount_over_limit"]["iso_code"] == "AM02"
    assert by_reason["success"]["rows"] == 1


def test_a_repeated_row_inside_the_file_fails_as_duplicate(store: Store, tmp_path: Path) -> None:
    world_name = "pipe_utf8_collection_20240415.txt"
    build_world(store, WORLDS[world_name])
    target = tmp_path / "pipe_utf8_duplicate_row.txt"
    shutil.copy(INVALID / "pipe_utf8_duplicate_row.txt", target)
    outcome = submit(store, request_for(world_name, path=target), MAKER)
    assert outcome.status == BatchStatus.VALIDATED, outcome.rejection
    approve(store, outcome.batch_id, CHECKER)
    result = run_batch(store, outcome.batch_id, "operator")
    by_reason = show(store, outcome.batch_id).by_reason
    assert by_reason["duplicate"] == {"rows": 1, "amount_fen": 5800, "reason_cn": "重复",
                                      "iso_code": "AM05"}  # fmt: skip
    assert result.success_count == 1  # the first 陈一 row only; it is collected once
    assert available_fen(store, "6222020000000001") == 10_000 - 5_800


@pytest.mark.parametrize(
    "name", ["pipe_gbk_crlf_payroll_20090906.txt", "pipe_utf8_collection_20240415.txt"]
)
def test_run_entries_are_the_transfer_entries_of_the_rows(store: Store, name: str) -> None:
    """The columnar run posts, row for row, what ``transfer`` builds (same content hash, legs
    in the same order), so a run started before and resumed after the change agrees."""
    world = WORLDS[name]
    build_world(store, world)
    batch_id = submit_approved(store, name)
    run_batch(store, batch_id, "operator")
    je, p = journal_entries.c, postings.c
    day = show(store, batch_id).business_date
    with store.read() as conn:
        rows = conn.execute(
            select(paybatch_rows.c.row_no, paybatch_rows.c.account, paybatch_rows.c.amount_fen)
            .join(paybatch_results, (paybatch_results.c.batch_id == paybatch_rows.c.batch_id)
                  & (paybatch_results.c.row_no == paybatch_rows.c.row_no))
            .where(paybatch_rows.c.batch_id == batch_id, paybatch_results.c.status == "success")
        ).all()  # fmt: skip
        stored = {
            key: (content_hash, run_id)
            for key, content_hash, run_id in conn.execute(
                select(je.idempotency_key, je.content_hash, je.run_id)
            )
        }
        legs = conn.execute(
            select(je.idempotency_key, p.account_id, p.component, p.amount_fen)
            .join_from(postings, journal_entries, p.entry_id == je.entry_id)
            .order_by(p.posting_id)
        ).all()
    assert rows
    kind = EntryKind.PAYROLL if world.kind == "payroll" else EntryKind.COLLECTION
    for row_no, account, amount_fen in rows:
        payer, payee = ((world.party_account, account) if world.kind == "payroll"
                        else (account, world.party_account))  # fmt: skip
        entry = transfer(entry_key(batch_id, row_no), day, kind, (payer, Component.BALANCE),
                         (payee, Component.BALANCE), amount_fen,
                         f"{world.kind} batch {batch_id} row {row_no}",
                         run_id=f"paybatch:{batch_id}")  # fmt: skip
        assert stored[entry.idempotency_key] == (entry.content_hash, entry.run_id)
        got = [tuple(leg[1:]) for leg in legs if leg[0] == entry.idempotency_key]
        assert got == [(x.account_id, x.component, x.amount_fen) for x in entry.postings]


def test_pipe_returns_built_column_wise_equal_the_payfiles_rendering(
    store: Store, tmp_path: Path
) -> None:
    """The column-wise pipe return files are byte for byte what ``render_returns`` makes from
    the rows and results (GBK with CRLF here, several failure reasons)."""
    name = "pipe_gbk_crlf_payroll_20090906.txt"
    build_world(store, WORLDS[name])
    batch_id = submit_approved(store, name)
    run_batch(store, batch_id, "operator")
    with store.read() as conn:
        header_text = show_header(conn, batch_id)
        batch, results = load_results(conn, batch_id, header_text)
        rendered = pipe_returns(conn, batch_id, json.loads(header_text))
    assert rendered is not None
    files, summary = rendered
    assert files == render_returns(batch, results, created_at())
    assert summary == summarize(results)
    assert summary.failure_count == 2


def show_header(conn: Connection, batch_id: int) -> str:
    return str(
        conn.execute(
            select(paybatches.c.file_header).where(paybatches.c.batch_id == batch_id)
        ).scalar_one()
    )
