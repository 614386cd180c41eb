"""Malformed input gets a 4xx with a message, never a 500 or a traceback; limits hold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cardbatch.domain.roles import Role
from tests.console_support import ConsoleDemo
from tests.integration.console.conftest import bearer


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("GET", "/api/accounts?limit=abc", None, 422, "query.limit"),
        ("GET", "/api/accounts?limit=0", None, 422, "query.limit"),
        ("GET", "/api/accounts?limit=5000", None, 422, "at most 1000"),
        ("GET", "/api/accounts/" + "9" * 41, None, 422, "account_id"),
        ("GET", "/api/accounts/CA9999999999", None, 404, "no card or deposit account"),
        ("GET", "/api/accounts/GL:suspense/transactions", None, 404, "general-ledger"),
        ("GET", "/api/audit/events?before=-1", None, 422, "query.before"),
        ("POST", "/api/users", b"{not json", 422, "body"),
        ("POST", "/api/users", b'{"name": "x y", "role": "operator"}', 422, "body.name"),
        ("POST", "/api/users", b'{"name": "zed", "role": "king"}', 422, "body.role"),
        ("POST", "/api/users", b'{"name": "admin", "role": "auditor"}', 409, "already exists"),
        ("POST", "/api/users", b"x" * 5000, 413, "over 4096 bytes"),
        ("PUT", "/api/users", b"{}", 405, "Method Not Allowed"),
        ("GET", "/api/nothing-here", None, 404, "Not Found"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient, console_demo: ConsoleDemo, method: str, path: str, body: bytes | None,
    status: int, fragment: str,
) -> None:  # fmt: skip
    headers = {**bearer(console_demo, Role.ADMIN), "Content-Type": "application/json"}
    answer = client.request(method, path, content=body, headers=headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert fragment in error["message"] and error["code"]
    assert "Traceback" not in answer.text


def test_validation_errors_do_not_echo_personal_input(
    client: TestClient, console_demo: ConsoleDemo
) -> None:
    ric = "11010519491231002X"
    answer = client.get(f"/api/accounts/{ric}", headers=bearer(console_demo, Role.OPERATOR))
    assert answer.status_code == 404
    assert ric not in answer.text and "110105********002X" in answer.text


def test_metrics_are_prometheus_text(client: TestClient, console_demo: ConsoleDemo) -> None:
    client.get("/api/me", headers=bearer(console_demo, Role.OPERATOR))
    text = client.get("/metrics").text
    assert "# TYPE cardbatch_http_requests_total counter" in text
    assert 'cardbatch_http_requests_total{method="GET",route="/api/me",status="200"}' in text
    assert "cardbatch_http_request_duration_seconds_bucket" in text
    assert 'cardbatch_runs{job="card-cycle",status="completed"}' in text
