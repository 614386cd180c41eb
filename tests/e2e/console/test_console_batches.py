"""Payment batches in a real headless Chromium against a live ``cardbatch serve``.

An operator uploads a payroll file on the batches page; an approver signs in and
approves it; the operator runs it and downloads the return files. A user who may
approve (admin) submits a file with the CLI and finds no approve button on it, and
the API refuses the approval with 403 (maker-checker).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx

from cardbatch.domain.roles import Role
from tests.console_support import PASSWORD, PAY_DAY, PAYROLL_ROWS, payroll_file
from tests.e2e.console.conftest import LiveConsole


def _tab(browser: Any, live: LiveConsole, name: str) -> tuple[Any, Any]:
    context = browser.new_context(base_url=live.base_url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#secret", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url("**/accounts")
    return context, page


def test_upload_approve_by_a_second_user_run_and_download(
    browser: Any, live_console: LiveConsole, tmp_path: Path
) -> None:
    path, employer = payroll_file(live_console.demo.db_url, tmp_path, amount_fen=210_000)
    maker, ops = _tab(browser, live_console, "operator")
    checker, approver = _tab(browser, live_console, "approver")
    try:
        ops.click("a[href='/batches']")
        ops.select_option("#kind", "payroll")
        ops.fill("#party-account", employer)
        ops.fill("#business-date", PAY_DAY.isoformat())
        ops.set_input_files("#batch-file", str(path))
        ops.click("#submit-batch-button")
        ops.wait_for_url("**/batches/*")
        batch_url = ops.url
        assert ops.locator("#batch-status").inner_text() == "validated"
        assert ops.locator("#approve").count() == 0  # an operator may not approve
        assert ops.locator("#run").count() == 0  # nor run before approval

        approver.goto(batch_url)
        assert approver.locator("#run").count() == 0  # an approver may not run
        approver.click("#approve")
        approver.wait_for_function(
            "document.querySelector('#batch-status').innerText === 'approved'"
        )
        assert approver.locator("#approved-by").inner_text() == "approver"

        ops.reload()
        ops.click("#run")
        ops.wait_for_function("document.querySelector('#batch-status').innerText === 'completed'")
        assert ops.locator("#success").inner_text().startswith(f"{PAYROLL_ROWS - 1} /")
        assert ops.locator("#by-reason tbody tr").count() >= 1
        with ops.expect_download() as waiting:
            ops.click("#download-returns")
        download = waiting.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
        assert any("success" in n for n in names) and any("failure" in n for n in names)
    finally:
        maker.close()
        checker.close()


def test_the_submitter_finds_no_approve_button_and_the_api_refuses(
    browser: Any, live_console: LiveConsole, tmp_path: Path
) -> None:
    demo = live_console.demo
    path, employer = payroll_file(demo.db_url, tmp_path, amount_fen=220_000)
    submitted = subprocess.run(
        [sys.executable, "-m", "cardbatch", "--db", demo.db_url, "payroll", "submit", str(path),
         "--employer", employer, "--date", PAY_DAY.isoformat(), "--as", "admin", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    batch_id = json.loads(submitted.stdout)["batch_id"]
    context, admin = _tab(browser, live_console, "admin")
    try:
        admin.goto(f"/batches/{batch_id}")
        assert admin.locator("#batch-status").inner_text() == "validated"
        assert admin.locator("#submitted-by").inner_text() == "admin"
        assert admin.locator("#approve").count() == 0  # maker-checker: not their own
        headers = {"Authorization": f"Bearer {demo.tokens[Role.ADMIN]}"}
        refused = httpx.post(f"{live_console.base_url}/api/batches/{batch_id}/approve",
                             headers=headers, timeout=30)  # fmt: skip
        assert refused.status_code == 403
        assert "cannot also approve" in refused.json()["error"]["message"]
        admin.reload()
        assert admin.locator("#batch-status").inner_text() == "validated"
    finally:
        context.close()
