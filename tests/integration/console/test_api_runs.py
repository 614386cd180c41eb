"""``/api/runs`` reads the engine's runs: the demo nights' card cycle, with progress and steps."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cardbatch.domain.roles import Role
from tests.console_support import DEMO_RUN_ID, ConsoleDemo
from tests.integration.console.conftest import bearer


def test_runs_list_the_engine_runs_newest_first(
    client: TestClient, console_demo: ConsoleDemo
) -> None:
    answer = client.get("/api/runs?limit=10", headers=bearer(console_demo, Role.AUDITOR))
    assert answer.status_code == 200
    runs = answer.json()["runs"]
    assert [r["business_date"] for r in runs if r["job"] == "card-cycle"] == [
        "2026-01-04", "2026-01-03", "2026-01-02", "2026-01-01"
    ]  # fmt: skip
    first = next(r for r in runs if r["run_id"] == DEMO_RUN_ID)
    assert first["status"] == "completed" and first["eta_s"] is None
    assert first["items_done"] == first["items_total"] > 0 and first["progress_pct"] == 100.0
    assert first["items_failed"] == sum(first["failures_by_reason"].values())


def test_one_run_in_detail_and_an_unknown_one(
    client: TestClient, console_demo: ConsoleDemo
) -> None:
    headers = bearer(console_demo, Role.OPERATOR)
    answer = client.get(f"/api/runs/{DEMO_RUN_ID}", headers=headers)
    assert answer.status_code == 200
    run = answer.json()
    assert run["run_id"] == DEMO_RUN_ID and run["job_name"] == "card-cycle"
    assert run["steps"] and all(s["status"] == "completed" for s in run["steps"])
    assert sum(s["items_read"] for s in run["steps"]) == run["items_read"]
    missing = client.get("/api/runs/card-cycle:20990101:0:1", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
