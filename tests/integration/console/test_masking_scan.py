"""Over the demo data, no unmasked resident ID, card/account number or phone reaches a
non-privileged role: not in any API answer, any page, or any log line written meanwhile."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardbatch.domain.redact import find_personal_numbers
from cardbatch.domain.roles import Role, sees_personal_data
from cardbatch.store import open_store
from cardbatch.store.tables import card_accounts, customers, deposit_accounts
from tests.console_support import PASSWORD, SCREEN_DATE, SEGMENT, ConsoleDemo
from tests.integration.console.conftest import bearer
from tests.integration.console.test_api_roles import sign_in


def _personal_values(db_url: str) -> tuple[list[str], list[str], list[str]]:
    """(numbers, names, account ids to visit) straight from the database."""
    store = open_store(db_url)
    try:
        with store.read() as conn:
            people = conn.execute(select(customers.c.id_number, customers.c.phone,
                                         customers.c.name)).all()  # fmt: skip
            cards = conn.execute(select(card_accounts.c.account_id,
                                        card_accounts.c.card_number)).all()  # fmt: skip
            deposits = conn.execute(select(deposit_accounts.c.account_id).where(
                deposit_accounts.c.customer_id.is_not(None))).scalars().all()  # fmt: skip
    finally:
        store.dispose()
    numbers = [p.id_number for p in people] + [p.phone for p in people if p.phone]
    numbers += [c.card_number for c in cards] + list(deposits)
    visit = [c.account_id for c in cards] + list(deposits)
    return numbers, [p.name for p in people], visit


SCREEN_PATH = f"/api/segments/{SEGMENT}/screen?business_date={SCREEN_DATE}&limit=1000"


def _api_answers(
    client: TestClient, headers: dict[str, str], visit: list[str], batch_id: int
) -> list[str]:
    batch = client.get(f"/api/batches/{batch_id}", headers=headers)
    assert batch.status_code == 200  # the demo's payroll batch, with its company account
    answers = [client.get(p, headers=headers).text for p in
               ("/api/me", "/api/runs", "/api/audit/events?limit=1000", "/api/ledger/check",
                "/api/accounts?limit=1000", "/api/segments", SCREEN_PATH,
                "/api/batches")]  # fmt: skip
    answers.append(batch.text)
    for account_id in visit:
        for suffix in ("", "/transactions", "/statements"):
            answers.append(client.get(f"/api/accounts/{account_id}{suffix}", headers=headers).text)
    return answers


def _pages(client: TestClient, role: Role, visit: list[str], batch_id: int) -> list[str]:
    assert sign_in(client, role.value, PASSWORD) == 303
    paths = ("/accounts", "/runs", "/runs/table", "/audit", "/batches", f"/batches/{batch_id}")
    pages = [client.get(p).text for p in paths]
    return pages + [client.get(f"/accounts/{account_id}").text for account_id in visit]


@pytest.mark.parametrize("role", [r for r in Role if not sees_personal_data(r)],
                         ids=lambda r: r.value)  # fmt: skip
def test_no_personal_data_for_a_non_privileged_role(
    client: TestClient, console_demo: ConsoleDemo, json_log: io.StringIO, role: Role
) -> None:
    numbers, names, visit = _personal_values(console_demo.db_url)
    answers = _api_answers(client, bearer(console_demo, role), visit, console_demo.batch_id)
    pages = _pages(client, role, visit, console_demo.batch_id)
    log_lines = json_log.getvalue().splitlines()
    assert len(log_lines) >= len(answers) + len(pages)  # one line per request at least
    assert any(console_demo.deposit_account_id[-4:] in line for line in log_lines)
    for kind, texts in (("API answer", answers), ("page", pages), ("log line", log_lines)):
        for text in texts:
            assert find_personal_numbers(text) == [], f"{kind}: {text[:300]}"
            leaked = [v for v in numbers if v in text] + [n for n in names if n in text]
            assert leaked == [], f"{kind} shows {leaked[:3]}"


def test_admin_may_see_personal_data(client: TestClient, console_demo: ConsoleDemo) -> None:
    numbers, _names, _visit = _personal_values(console_demo.db_url)
    answer = client.get(f"/api/accounts/{console_demo.card_account_id}",
                        headers=bearer(console_demo, Role.ADMIN)).json()  # fmt: skip
    assert answer["masked"] is False and answer["card_number"] in numbers
    masked = client.get(f"/api/accounts/{console_demo.card_account_id}",
                        headers=bearer(console_demo, Role.OPERATOR)).json()  # fmt: skip
    assert masked["masked"] is True
    assert (
        masked["card_number"] == answer["card_number"][:6] + "******" + answer["card_number"][-4:]
    )
    assert masked["phone"] == answer["phone"][:3] + "****" + answer["phone"][-4:]
    assert masked["id_number"] == answer["id_number"][:6] + "********" + answer["id_number"][-4:]
    assert masked["holder_name"][0] == answer["holder_name"][0]
    assert set(masked["holder_name"][1:]) == {"*"}
