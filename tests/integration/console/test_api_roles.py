"""Every endpoint x every role: allowed, or 403; never 500. The table must cover the schema."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardbatch.domain.roles import Action, Role, allowed
from tests.console_support import DEMO_RUN_ID, PASSWORD, SCREEN_DATE, SEGMENT, ConsoleDemo
from tests.integration.console.conftest import bearer

# (method, path template, the action it performs; None = public)
API_ENDPOINTS: list[tuple[str, str, Action | None]] = [
    ("GET", "/api/health", None),
    ("GET", "/api/me", Action.ME_READ),
    ("GET", "/api/accounts", Action.ACCOUNTS_READ),
    ("GET", "/api/accounts/{account_id}", Action.ACCOUNTS_READ),
    ("GET", "/api/accounts/{account_id}/transactions", Action.ACCOUNTS_READ),
    ("GET", "/api/accounts/{account_id}/statements", Action.ACCOUNTS_READ),
    ("GET", "/api/ledger/check", Action.LEDGER_CHECK),
    ("GET", "/api/audit/events", Action.AUDIT_READ),
    ("GET", "/api/audit/verify", Action.AUDIT_READ),
    ("GET", "/api/users", Action.USERS_MANAGE),
    ("POST", "/api/users", Action.USERS_MANAGE),
    ("GET", "/api/runs", Action.RUNS_READ),
    ("GET", "/api/runs/{run_id}", Action.RUNS_READ),
    ("GET", "/api/batches", Action.BATCHES_READ),
    ("POST", "/api/batches/upload", Action.BATCHES_SUBMIT),
    ("GET", "/api/batches/{batch_id}", Action.BATCHES_READ),
    ("POST", "/api/batches/{batch_id}/approve", Action.BATCHES_APPROVE),
    ("POST", "/api/batches/{batch_id}/run", Action.BATCHES_RUN),
    ("GET", "/api/batches/{batch_id}/returns", Action.BATCHES_DOWNLOAD),
    ("GET", "/api/rules/versions", Action.RULES_READ),
    ("GET", "/api/rules/versions/{code}/{number}", Action.RULES_READ),
    ("GET", "/api/rules/diff", Action.RULES_READ),
    ("POST", "/api/rules/versions/{code}/{number}/approve", Action.RULES_APPROVE),
    ("GET", "/api/segments", Action.SEGMENTS_READ),
    ("GET", "/api/segments/{name}/screen", Action.SEGMENTS_READ),
]
# Concrete values for path templates, and queries the endpoints need.
PATH_VALUES = {"code": "STD", "number": "1", "name": SEGMENT, "run_id": DEMO_RUN_ID}
QUERIES = {"/api/rules/diff": "?left=STD@1&right=STD@2",
           "/api/segments/{name}/screen": f"?business_date={SCREEN_DATE}"}  # fmt: skip


def concrete(template: str, demo: ConsoleDemo) -> str:
    path = template.format(account_id=demo.card_account_id, batch_id=demo.batch_id,
                           **PATH_VALUES)  # fmt: skip
    return path + QUERIES.get(template, "")


PAGES: list[tuple[str, Action]] = [
    ("/accounts", Action.ACCOUNTS_READ),
    ("/accounts/{account_id}", Action.ACCOUNTS_READ),
    ("/runs", Action.RUNS_READ),
    ("/runs/table", Action.RUNS_READ),
    ("/batches", Action.BATCHES_READ),
    ("/batches/{batch_id}", Action.BATCHES_READ),
    ("/audit", Action.AUDIT_READ),
]


def test_the_table_covers_every_operation_in_the_schema(console_app: FastAPI) -> None:
    schema = console_app.openapi()
    operations = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
    assert operations == {(m, p) for m, p, _ in API_ENDPOINTS}


# Answers an allowed role may get besides 200/201: an approval or run the state refuses
# (already approved, not approved yet), return files of a batch not yet run.
STATE_REFUSALS = ("/approve", "/run", "/returns")


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    if path.endswith(("/approve", "/run")):
        return client.post(path, headers=headers).status_code
    if path.endswith("/upload"):  # a file that does not parse: recorded as rejected
        form = {"kind": "payroll", "party_account": "DA0000000001", "business_date": "2026-01-05"}
        files = {"file": ("payroll.txt", f"not a payroll file {uuid.uuid4()}\n".encode())}
        return client.post(path, data=form, files=files, headers=headers).status_code
    if method == "POST":
        body = {"name": f"u-{uuid.uuid4().hex[:10]}", "role": "operator"}
        return client.post(path, json=body, headers=headers).status_code
    return client.get(path, headers=headers).status_code


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(("method", "template", "action"), API_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in API_ENDPOINTS])  # fmt: skip
def test_endpoint_by_role(
    client: TestClient, console_demo: ConsoleDemo, role: Role, method: str, template: str,
    action: Action | None,
) -> None:  # fmt: skip
    path = concrete(template, console_demo)
    status = _call(client, method, path, bearer(console_demo, role))
    if action is None or allowed(role, action):
        # approving: the first allowed role approves, the next finds it already approved
        ok = (200, 409) if path.endswith(STATE_REFUSALS) else (200, 201)
        assert status in ok, f"{role} {method} {path} -> {status}"
    else:
        assert status == 403, f"{role} {method} {path} -> {status}"


@pytest.mark.parametrize(("method", "template", "action"), API_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in API_ENDPOINTS])  # fmt: skip
def test_endpoint_without_or_with_a_bad_token(
    client: TestClient, console_demo: ConsoleDemo, method: str, template: str,
    action: Action | None,
) -> None:  # fmt: skip
    path = concrete(template, console_demo)
    for headers in ({}, {"Authorization": "Bearer cb_0123456789abcdef_nope"},
                    {"Authorization": "Basic YTpi"}):  # fmt: skip
        status = _call(client, method, path, headers)
        assert status == (200 if action is None else 401), f"{headers} {method} {path}"


def sign_in(client: TestClient, name: str, secret: str) -> int:
    page = client.get("/login")
    csrf = page.cookies.get("cb_csrf") or client.cookies.get("cb_csrf")
    done = client.post("/login", data={"name": name, "secret": secret, "csrf_token": csrf,
                                       "next": "/accounts"}, follow_redirects=False)  # fmt: skip
    return done.status_code


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_pages_by_role(client: TestClient, console_demo: ConsoleDemo, role: Role) -> None:
    assert sign_in(client, role.value, PASSWORD) == 303
    for template, action in PAGES:
        path = template.format(account_id=console_demo.card_account_id,
                               batch_id=console_demo.batch_id)  # fmt: skip
        status = client.get(path, follow_redirects=False).status_code
        assert status == (200 if allowed(role, action) else 403), f"{role} {path}"


def test_pages_need_sign_in_and_token_sign_in_works(
    client: TestClient, console_demo: ConsoleDemo
) -> None:
    for template, _ in PAGES:
        path = template.format(account_id=console_demo.card_account_id,
                               batch_id=console_demo.batch_id)  # fmt: skip
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert sign_in(client, "operator", "wrong password here") == 401
    assert sign_in(client, "auditor", console_demo.tokens[Role.OPERATOR]) == 401  # not theirs
    assert sign_in(client, "operator", console_demo.tokens[Role.OPERATOR]) == 303
    assert client.get("/accounts", follow_redirects=False).status_code == 200
