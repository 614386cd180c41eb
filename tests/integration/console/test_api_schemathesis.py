"""Schemathesis generates requests from the OpenAPI schema: no answer is ever a 5xx.

Each operation gets generated cases (bounded by the hypothesis profile, 30 in
CI) sent as the admin (every endpoint open) and as an operator (403 paths).
The operations are driven through hypothesis directly, because schemathesis's
pytest plugin does not work with the pytest this project uses.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbatch.domain.roles import Role
from tests.console_support import ConsoleDemo
from tests.integration.console.conftest import bearer
from tests.integration.console.test_api_roles import API_ENDPOINTS


@pytest.fixture(scope="module")
def api_schema(console_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", console_app)


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in API_ENDPOINTS],
                         ids=[f"{m} {p}" for m, p, _ in API_ENDPOINTS])  # fmt: skip
def test_no_server_errors(
    api_schema: schemathesis.BaseSchema, console_demo: ConsoleDemo, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    roles = st.sampled_from([Role.ADMIN, Role.OPERATOR])

    @given(case=operation.as_strategy(), role=roles)
    @settings(suppress_health_check=list(HealthCheck), deadline=None)
    def check(case: schemathesis.Case, role: Role) -> None:
        response = case.call(headers=bearer(console_demo, role))
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"

    check()
