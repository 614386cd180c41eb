"""Rule versions through the API: list, text, diff, and approval by a second user only."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from cardbatch.domain.roles import Role
from cardbatch.rules import versions
from cardbatch.store import open_store
from tests.console_support import RULE_FILES, ConsoleDemo
from tests.integration.console.conftest import bearer


def test_list_show_and_diff(client: TestClient, console_demo: ConsoleDemo) -> None:
    headers = bearer(console_demo, Role.AUDITOR)
    listed = client.get("/api/rules/versions?product=STD", headers=headers).json()["versions"]
    assert [v["label"] for v in listed][:2] == ["STD@1", "STD@2"]
    shown = client.get("/api/rules/versions/STD/1", headers=headers).json()
    assert shown["loaded_by"] == "operator" and 'code = "STD"' in shown["toml_text"]
    diff = client.get("/api/rules/diff?left=STD@1&right=STD@2", headers=headers).json()
    assert {"key": "interest.daily_rate", "left": '"0.0005"', "right": '"0.0004"'} in diff[
        "changes"
    ]
    assert client.get("/api/rules/versions/STD/99", headers=headers).status_code == 404
    assert client.get("/api/rules/diff?left=STD&right=x", headers=headers).status_code == 422


def test_nobody_approves_their_own_version(client: TestClient, console_demo: ConsoleDemo) -> None:
    store = open_store(console_demo.db_url)
    try:
        with store.write() as conn:
            text = RULE_FILES[0].read_text(encoding="utf-8")
            version, _ = versions.load_version(conn, text, date(2026, 6, 1), "approver", "x.toml")
    finally:
        store.dispose()
    path = f"/api/rules/versions/STD/{version.version_no}/approve"
    own = client.post(path, headers=bearer(console_demo, Role.APPROVER))
    assert own.status_code == 409 and "second user" in own.json()["error"]["message"]
    assert client.post(path, headers=bearer(console_demo, Role.OPERATOR)).status_code == 403
    done = client.post(path, headers=bearer(console_demo, Role.ADMIN))
    assert done.status_code == 200 and done.json()["approved_by"] == "admin"
    again = client.post(path, headers=bearer(console_demo, Role.ADMIN))
    assert again.status_code == 409 and "already approved" in again.json()["error"]["message"]
