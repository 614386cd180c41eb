"""The web console in a real headless Chromium against a live server over demo data."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cardbatch.domain.redact import find_personal_numbers
from cardbatch.domain.roles import Role
from tests.console_support import PASSWORD
from tests.e2e.console.conftest import LiveConsole

MASKED_CARD = re.compile(r"^622588\*{6}\d{4}$")
MASKED_RIC = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")


@pytest.fixture
def page(browser: Any, live_console: LiveConsole) -> Any:
    context = browser.new_context(base_url=live_console.base_url)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def sign_in(page: Any, name: str, secret: str) -> None:
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#secret", secret)
    page.click("#sign-in")


def test_sign_in_open_an_account_and_see_masked_data(page: Any, live_console: LiveConsole) -> None:
    sign_in(page, "operator", PASSWORD)
    page.wait_for_url("**/accounts")
    assert page.locator("h1").inner_text() == "信用卡账户"
    assert "operator" in page.locator("#whoami").inner_text()
    page.click(f"text={live_console.demo.card_account_id}")
    page.wait_for_url(f"**/accounts/{live_console.demo.card_account_id}")
    assert MASKED_CARD.match(page.locator("#card-number").inner_text())
    assert MASKED_RIC.match(page.locator("#id-number").inner_text())
    assert MASKED_PHONE.match(page.locator("#phone").inner_text())
    assert set(page.locator("#holder").inner_text()[1:]) == {"*"}
    assert page.locator("#masked-note").is_visible()
    assert page.locator("#transactions tbody tr").count() > 0  # 交易明细 from the demo nights
    assert "交易明细" in page.content()
    assert page.locator("#statements tbody tr").count() >= 1  # stored by the demo's card cycle
    assert page.locator("#statement-lines tbody tr").count() >= 1
    assert find_personal_numbers(page.content()) == []


def test_language_switch(page: Any, live_console: LiveConsole) -> None:
    sign_in(page, "approver", PASSWORD)
    page.goto(f"/accounts/{live_console.demo.card_account_id}")
    assert page.locator("h2").first.inner_text() == "余额（按组成）"
    page.click("#lang-switch")
    page.wait_for_load_state()
    assert page.url.endswith(f"/accounts/{live_console.demo.card_account_id}")
    assert page.locator("h2").first.inner_text() == "Balances by component"
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("#lang-switch")
    page.wait_for_load_state()
    assert page.locator("h2").first.inner_text() == "余额（按组成）"


def test_a_forged_csrf_token_is_refused(page: Any, live_console: LiveConsole) -> None:
    page.goto("/login")
    page.fill("#name", "operator")
    page.fill("#secret", PASSWORD)
    page.eval_on_selector("input[name=csrf_token]", "el => el.value = 'forged'")
    page.click("#sign-in")
    assert "CSRF" in page.locator("#message").inner_text()
    sign_in(page, "operator", PASSWORD)
    page.wait_for_url("**/accounts")
    page.eval_on_selector("form[action='/logout'] input[name=csrf_token]",
                          "el => el.value = 'forged'")  # fmt: skip
    page.click("#sign-out")
    assert "CSRF" in page.locator("#message").inner_text()
    page.goto("/accounts")
    assert page.url.endswith("/accounts")  # still signed in: the forged sign-out did nothing


def test_token_sign_in_roles_runs_and_sign_out(page: Any, live_console: LiveConsole) -> None:
    sign_in(page, "auditor", live_console.demo.tokens[Role.AUDITOR])
    page.wait_for_url("**/accounts")
    page.goto("/runs")
    assert page.locator("#runs tbody tr").count() > 0  # the demo nights' cycle runs
    page.goto("/audit")
    assert page.locator("#audit tbody tr").count() > 0
    page.click("#sign-out")
    page.wait_for_url("**/login")
    page.goto("/audit")
    assert "/login" in page.url
    sign_in(page, "operator", PASSWORD)
    page.goto("/audit")
    assert page.locator("#message").inner_text() == "您的角色无权查看此页面"


def test_server_logs_are_json_lines_without_personal_data(
    page: Any, live_console: LiveConsole
) -> None:
    sign_in(page, "operator", PASSWORD)
    page.goto(f"/accounts/{live_console.demo.deposit_account_id}")
    assert page.locator("#balance").is_visible()
    lines = live_console.log_path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(r.get("route") == "/accounts/{account_id}" for r in records)
    for line in lines:
        assert find_personal_numbers(line) == [], line
