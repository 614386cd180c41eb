"""The console's statements are the card cycle's stored statements: the service gives the same
statement and lines as ``cardbatch statement show``, the API and the page show them, masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from cardbatch.cli.app import app as cli_app
from cardbatch.domain.roles import Role
from cardbatch.jobs.cycle_service import statement_of
from cardbatch.services import accounts
from cardbatch.store import Store, open_store
from cardbatch.store.tables_cycle import statements
from tests.console_support import PASSWORD, ConsoleDemo, build_console_demo
from tests.integration.console.conftest import bearer
from tests.integration.console.test_api_roles import sign_in


def _account_with_statements(store: Store) -> str:
    s = statements.c
    with store.read() as conn:
        found = conn.execute(
            select(s.account_id).group_by(s.account_id).order_by(func.count().desc(), s.account_id)
        ).first()
    assert found is not None, "the demo's cycle stored no statement"
    return str(found[0])


@pytest.fixture
def demo_store(db_url: str, tmp_path: Path) -> Store:
    build_console_demo(db_url, tmp_path / "demo-files")
    return open_store(db_url)


def test_the_service_returns_what_statement_show_returns(demo_store: Store) -> None:
    store = demo_store
    try:
        account = _account_with_statements(store)
        found = accounts.statements(store, account, unmasked=True)
        with store.read() as conn:
            assert found.statement == statement_of(conn, account)
            for row in found.statements:
                one = accounts.statements(store, account, on=row["statement_date"], unmasked=True)
                assert one.statement == statement_of(conn, account, row["statement_date"])
        dates = [row["statement_date"] for row in found.statements]
        assert dates == sorted(dates, reverse=True) and found.statement is not None
        assert found.statement["statement_date"] == dates[0] and found.statement["lines"]
    finally:
        store.dispose()


def test_api_and_cli_agree_and_the_page_lists_them(
    client: TestClient, console_demo: ConsoleDemo
) -> None:
    store = open_store(console_demo.db_url)
    try:
        account = _account_with_statements(store)
    finally:
        store.dispose()
    shown = CliRunner().invoke(
        cli_app, ["statement", "show", account, "--db", console_demo.db_url, "--json"]
    )
    assert shown.exit_code == 0, shown.output
    answer = client.get(f"/api/accounts/{account}/statements",
                        headers=bearer(console_demo, Role.ADMIN))  # fmt: skip
    assert answer.status_code == 200
    assert answer.json()["statement"] == json.loads(shown.stdout)
    day = answer.json()["statements"][-1]["statement_date"]
    older = client.get(f"/api/accounts/{account}/statements?date={day}",
                       headers=bearer(console_demo, Role.OPERATOR))  # fmt: skip
    assert older.status_code == 200 and older.json()["statement"]["statement_date"] == day
    missing = client.get(f"/api/accounts/{account}/statements?date=2099-01-01",
                         headers=bearer(console_demo, Role.OPERATOR))  # fmt: skip
    assert missing.status_code == 404
    assert sign_in(client, "operator", PASSWORD) == 303
    page = client.get(f"/accounts/{account}").text
    assert 'id="statements"' in page and 'id="statement-lines"' in page
    assert 'id="no-statements"' not in page
