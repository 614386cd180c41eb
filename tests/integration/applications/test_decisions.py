"""The decision fixture: every row of the edge-case file ends with its exact expected result."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from sqlalchemy import select

from cardbatch.applications.deciding import decide_batch
from cardbatch.applications.service import block, submit
from cardbatch.store import Store
from cardbatch.store.tables_apps import applications
from tests.integration.applications.conftest import BUSINESS_DATE, INVALID, MAKER

FIXTURE = INVALID / "mixed_edge_cases_zh_headers.csv"
EXPECTED = INVALID / "mixed_edge_cases_zh_headers.expected.csv"


def _expected() -> dict[int, dict[str, str]]:
    with EXPECTED.open(encoding="utf-8") as handle:
        return {int(r["line"]): r for r in csv.DictReader(handle)}


def _submit_fixture(bank: Store, tmp_path: Path) -> str:
    source = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, source)
    return submit(bank, source, BUSINESS_DATE, MAKER, channel="employer").batch_id


def test_every_row_gets_its_expected_decision_or_rejection(bank: Store, tmp_path: Path) -> None:
    source = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, source)
    result = submit(bank, source, BUSINESS_DATE, MAKER, channel="employer")
    expected = _expected()
    assert result.rows_total == len(expected) == result.rows_accepted + result.rows_rejected
    rejected = {r.line_no: (r.code, r.field) for r in result.rejects}
    assert rejected == {
        line: (e["outcome_or_code"], e["field"])
        for line, e in expected.items()
        if e["stage"] == "rejected"
    }
    report = decide_batch(bank, result.batch_id, BUSINESS_DATE, "operator")
    decided = {
        i.line_no: (
            i.outcome,
            ",".join(i.reasons),
            "" if i.credit_limit_fen is None else str(i.credit_limit_fen),
        )
        for i in report.items
    }
    assert decided == {
        line: (e["outcome_or_code"], e["reasons"], e["credit_limit_fen"])
        for line, e in expected.items()
        if e["stage"] == "decided"
    }


def test_rejects_file_is_private_and_masks_messages(bank: Store, tmp_path: Path) -> None:
    source = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, source)
    result = submit(bank, source, BUSINESS_DATE, MAKER)
    assert result.rejects_file is not None
    path = Path(result.rejects_file)
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["reject_line"]) for r in rows] == [7, 8, 9, 16, 18, 21]
    assert "110105199005010114" not in rows[2]["reject_message"]
    assert "110105********0114" in rows[2]["reject_message"]


def test_dry_run_decides_the_same_and_writes_nothing(bank: Store, tmp_path: Path) -> None:
    batch_id = _submit_fixture(bank, tmp_path)
    dry = decide_batch(bank, batch_id, BUSINESS_DATE, "operator", dry_run=True)
    with bank.read() as conn:
        statuses = set(
            conn.execute(
                select(applications.c.status).where(applications.c.batch_id == batch_id)
            ).scalars()
        )
    assert statuses == {"received"}
    real = decide_batch(bank, batch_id, BUSINESS_DATE, "operator", chunk_items=4)
    assert dry.items == real.items
    again = decide_batch(bank, batch_id, BUSINESS_DATE, "operator")
    assert again.items == []


def test_blocked_phone_declines_too(bank: Store, tmp_path: Path) -> None:
    block(bank, "phone", "+86 139 0000 0001", "reported stolen", MAKER)
    path = tmp_path / "one.csv"
    path.write_text(
        "name,id_number,phone,employer,monthly_income,product,address\n"
        "赵六,360426199101010071,13900000001,,20000,standard,北京\n",
        encoding="utf-8",
    )
    batch_id = submit(bank, path, BUSINESS_DATE, MAKER).batch_id
    report = decide_batch(bank, batch_id, BUSINESS_DATE, "operator")
    assert [(i.outcome, i.reasons) for i in report.items] == [("decline", ("blocked",))]
