"""The direct route for the two hot account reads answers byte for byte as the FastAPI endpoints
do, for every role; logs and counts the request the same way; and leaves every other case
(query string, unknown token, unknown account, a role that may not read) to FastAPI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardbatch.api import hot_reads
from cardbatch.api.hot_reads import HotReads, bearer_token, match
from cardbatch.domain.masking import mask_card
from cardbatch.domain.roles import ROLE_MATRIX, Action, Role
from tests.console_support import ConsoleDemo
from tests.integration.console.conftest import bearer


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """One entry per request that reached the direct route: True when it answered it."""
    seen: list[bool] = []
    original = HotReads._answer

    def spy(self: HotReads, scope: dict[str, object]) -> bytes | None:
        body = original(self, scope)
        seen.append(body is not None)
        return body

    monkeypatch.setattr(HotReads, "_answer", spy)
    yield seen


def _get(client: TestClient, path: str, headers: dict[str, str]) -> Answer:
    found = client.get(path, headers=headers)
    return Answer(found.status_code, found.headers.get("content-type", ""), found.content)


def _by_fastapi(client: TestClient, app: FastAPI, path: str, headers: dict[str, str]) -> Answer:
    """The answer with an empty token cache: the direct route passes, FastAPI answers."""
    app.state.token_cache.clear()
    return _get(client, path, headers)


def _hot_paths(demo: ConsoleDemo) -> list[str]:
    return [f"/api/accounts/{account}{tail}"
            for account in (demo.card_account_id, demo.deposit_account_id)
            for tail in ("", "/statements")]  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_direct_answers_equal_fastapi_answers_for_every_role(
    client: TestClient, console_app: FastAPI, console_demo: ConsoleDemo, served: list[bool],
    role: Role,
) -> None:  # fmt: skip
    headers = bearer(console_demo, role)
    for path in _hot_paths(console_demo):
        expected = _by_fastapi(client, console_app, path, headers)
        direct = _get(client, path, headers)  # the token is cached now
        assert served[-2:] == [False, True], path
        assert expected.status == 200, (path, expected)
        assert direct == expected, path


def test_a_role_without_personal_data_gets_the_masked_answer(
    client: TestClient, console_demo: ConsoleDemo, served: list[bool]
) -> None:
    headers = bearer(console_demo, Role.OPERATOR)
    path = f"/api/accounts/{console_demo.card_account_id}"
    _get(client, path, headers)
    operator = client.get(path, headers=headers).json()
    assert served[-1] is True
    admin_headers = bearer(console_demo, Role.ADMIN)
    _get(client, path, admin_headers)
    admin = client.get(path, headers=admin_headers).json()
    assert admin["masked"] is False and operator["masked"] is True
    assert operator["card_number"] == mask_card(admin["card_number"])
    assert admin["card_number"] not in client.get(path, headers=headers).text


def test_the_direct_route_is_logged_and_counted_under_the_route_template(
    client: TestClient, console_demo: ConsoleDemo, served: list[bool], json_log: object
) -> None:
    headers = bearer(console_demo, Role.OPERATOR)
    path = f"/api/accounts/{console_demo.card_account_id}/statements"
    _get(client, path, headers)
    before = client.get("/metrics").text
    _get(client, path, headers)
    assert served[-1] is True
    after = client.get("/metrics").text
    label = 'method="GET",route="/api/accounts/{account_id}/statements",status="200"'
    assert _count(after, label) == _count(before, label) + 1
    last = [line for line in json_log.getvalue().splitlines()  # type: ignore[attr-defined]
            if '"route": "/api/accounts/{account_id}/statements"' in line][-1]  # fmt: skip
    assert '"user": "operator"' in last and '"status": 200' in last


def _count(metrics: str, label: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("cardbatch_http_requests_total{") and label in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_other_requests_pass_to_fastapi(
    client: TestClient, console_app: FastAPI, console_demo: ConsoleDemo, served: list[bool]
) -> None:
    headers = bearer(console_demo, Role.OPERATOR)
    card = console_demo.card_account_id
    _get(client, f"/api/accounts/{card}", headers)  # the token is cached from here on
    cases = {
        f"/api/accounts/{card}/statements?date=1999-01-01": 404,  # a query string
        f"/api/accounts/{card}/statements?date=not-a-date": 422,
        "/api/accounts/NO-SUCH-ACCOUNT": 404,
        "/api/accounts/NO-SUCH-ACCOUNT/statements": 404,
        f"/api/accounts/{'9' * 41}": 422,  # longer than an account id may be
        f"/api/accounts/{card}/transactions": 200,
        "/api/accounts": 200,
    }
    for path, status in cases.items():
        before = len(served)
        found = _get(client, path, headers)
        assert found.status == status, (path, found)
        assert True not in served[before:], path
        assert found == _by_fastapi(client, console_app, path, headers), path
    missing = client.get(f"/api/accounts/{card}")
    assert missing.status_code == 401 and served[-1] is False
    unknown = client.get(f"/api/accounts/{card}", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401 and served[-1] is False


def test_a_role_that_may_not_read_accounts_gets_fastapis_403(
    client: TestClient, console_demo: ConsoleDemo, served: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    headers = bearer(console_demo, Role.OPERATOR)
    path = f"/api/accounts/{console_demo.card_account_id}"
    assert _get(client, path, headers).status == 200  # cached
    monkeypatch.setitem(ROLE_MATRIX, Action.ACCOUNTS_READ, frozenset({Role.ADMIN}))
    refused = client.get(path, headers=headers)
    assert refused.status_code == 403 and served[-1] is False
    assert refused.json()["error"]["code"] == "forbidden"


def test_match_takes_exactly_the_two_paths() -> None:
    assert match("/api/accounts/C1") == (hot_reads.SUMMARY_ROUTE, "C1")
    assert match("/api/accounts/C1/statements") == (hot_reads.STATEMENTS_ROUTE, "C1")
    refused = [
        "/api/accounts/",
        "/api/accounts",
        "/api/accounts/C1/",
        "/api/accountsC1",
        "/api/accounts//statements",
        "/api/accounts/C1/transactions",
        "/api/accounts/a/b/statements",
        f"/api/accounts/{'x' * 41}",
        "/web/accounts/C1",
    ]
    for path in refused:
        assert match(path) is None, path


def test_bearer_token_reads_the_header_as_fastapi_does() -> None:
    assert bearer_token([(b"authorization", b"Bearer abc")]) == "abc"
    assert bearer_token([(b"host", b"x"), (b"authorization", b"bearer abc")]) == "abc"
    for value in (b"Basic abc", b"Bearer", b"Bearer ", b"abc"):
        assert bearer_token([(b"authorization", value)]) is None, value
    assert bearer_token([(b"host", b"x")]) is None
