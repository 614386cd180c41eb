"""``/api/batches``: a payroll file through upload, approval by a second user, run, returns.

Also: maker-checker (the submitter cannot approve, even as admin: 403), masking of the
company's account, a file that does not parse (rejected with the CLI's reason), refusals
by state (409) and unknown batches (404).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cardbatch.domain.masking import mask_card
from cardbatch.domain.roles import Role
from tests.console_support import PAY_DAY, PAYROLL_ROWS, ConsoleDemo, payroll_file
from tests.integration.console.conftest import bearer


def _upload(
    client: TestClient, demo: ConsoleDemo, role: Role, path: Path, party: str
) -> dict[str, Any]:
    form = {"kind": "payroll", "party_account": party, "business_date": PAY_DAY.isoformat()}
    with path.open("rb") as handle:
        answer = client.post("/api/batches/upload", data=form, headers=bearer(demo, role),
                             files={"file": (path.name, handle, "text/plain")})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_payroll_upload_approve_run_and_download_returns(
    client: TestClient, console_demo: ConsoleDemo, tmp_path: Path
) -> None:
    path, employer = payroll_file(console_demo.db_url, tmp_path, amount_fen=300_000)
    made = _upload(client, console_demo, Role.OPERATOR, path, employer)
    assert made["status"] == "validated" and made["row_count"] == PAYROLL_ROWS
    batch = f"/api/batches/{made['batch_id']}"
    shown = client.get(batch, headers=bearer(console_demo, Role.OPERATOR)).json()
    assert shown["submitted_by"] == "operator" and shown["source_name"] == path.name
    assert shown["party_account"] == mask_card(employer) != employer
    assert not shown["may_approve"] and not shown["may_run"]
    as_admin = client.get(batch, headers=bearer(console_demo, Role.ADMIN)).json()
    assert as_admin["party_account"] == employer and as_admin["may_approve"]
    ops = bearer(console_demo, Role.OPERATOR)
    assert client.post(f"{batch}/run", headers=ops).status_code == 409  # not approved yet
    assert client.get(f"{batch}/returns", headers=ops).status_code == 409  # not run yet
    approved = client.post(f"{batch}/approve", headers=bearer(console_demo, Role.APPROVER))
    assert approved.status_code == 200 and approved.json()["approved_by"] == "approver"
    ran = client.post(f"{batch}/run", headers=ops)
    assert ran.status_code == 200 and ran.json()["status"] == "completed"
    assert (ran.json()["success_count"], ran.json()["failure_count"]) == (PAYROLL_ROWS - 1, 1)
    done = client.get(batch, headers=ops).json()
    assert done["status"] == "completed" and done["may_download"]
    assert [info["rows"] for info in done["by_reason"].values() if info["iso_code"] != "ACCP"]
    zipped = client.get(f"{batch}/returns", headers=ops)
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert any("success" in n for n in names) and any("failure" in n for n in names)
    again = client.get(f"{batch}/returns", headers=ops)
    assert again.content == zipped.content  # stamped with the completion time: same bytes
    assert (
        client.get(f"{batch}/returns", headers=bearer(console_demo, Role.AUDITOR)).status_code
        == 403
    )


def test_nobody_approves_their_own_batch(
    client: TestClient, console_demo: ConsoleDemo, tmp_path: Path
) -> None:
    path, employer = payroll_file(console_demo.db_url, tmp_path, amount_fen=310_000)
    made = _upload(client, console_demo, Role.ADMIN, path, employer)
    batch = f"/api/batches/{made['batch_id']}"
    admin = bearer(console_demo, Role.ADMIN)
    assert client.get(batch, headers=admin).json()["may_approve"] is False
    refused = client.post(f"{batch}/approve", headers=admin)
    assert (
        refused.status_code == 403 and "cannot also approve" in refused.json()["error"]["message"]
    )
    assert client.get(batch, headers=admin).json()["status"] == "validated"
    assert (
        client.post(f"{batch}/approve", headers=bearer(console_demo, Role.APPROVER)).status_code
        == 200
    )


def test_a_file_that_does_not_parse_is_rejected_with_a_reason(
    client: TestClient, console_demo: ConsoleDemo, tmp_path: Path
) -> None:
    path = tmp_path / "payroll.txt"
    path.write_text("1|1|20260105|U1|1|1|2|notanumber|\r\n", encoding="utf-8")
    made = _upload(client, console_demo, Role.OPERATOR, path, "DA-NOBODY")
    assert made["status"] == "rejected" and made["reject_code"] and made["reject_reason"]
    listed = client.get("/api/batches?status=rejected", headers=bearer(console_demo, Role.AUDITOR))
    assert made["batch_id"] in [b["batch_id"] for b in listed.json()["batches"]]


def test_unknown_batches_and_bad_forms(client: TestClient, console_demo: ConsoleDemo) -> None:
    ops = bearer(console_demo, Role.OPERATOR)
    assert client.get("/api/batches/999999", headers=ops).status_code == 404
    assert client.post("/api/batches/999999/run", headers=ops).status_code == 404
    form = {"kind": "payroll", "party_account": "DA1", "business_date": "not-a-date"}
    bad = client.post("/api/batches/upload", data=form, headers=ops,
                      files={"file": ("x.txt", b"x\n")})  # fmt: skip
    assert bad.status_code == 422 and "business_date" in bad.json()["error"]["message"]
