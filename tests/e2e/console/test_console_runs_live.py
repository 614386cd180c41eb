"""The runs page refreshes by itself (vendored htmx polling ``/runs/table``) in a real browser.

The batch engine lands separately; until it is wired, this test plugs a feed
into ``services.runs_view`` whose run advances while the page is open, and
serves the app in this process so that the feed is the one the page reads.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cardbatch.api.app import create_app
from cardbatch.api.settings import ConsoleSettings
from cardbatch.services import runs_view
from cardbatch.services.runs_view import RunSummary
from cardbatch.store import Store
from tests.console_support import PASSWORD, build_console_demo

ITEMS_TOTAL = 1_000


class AdvancingRun:
    """One autopay run whose progress the test moves on."""

    def __init__(self) -> None:
        self.done = 0

    def feed(self, _store: Store, _rows_max: int) -> list[RunSummary]:
        status = "completed" if self.done >= ITEMS_TOTAL else "running"
        return [RunSummary("autopay:2026-04-23", "autopay", "2026-04-23", status, ITEMS_TOTAL,
                           self.done, 3, datetime(2026, 4, 23, 20, 0, tzinfo=UTC), None,
                           {"AM04": 3})]  # fmt: skip


@pytest.fixture
def runs_server(tmp_path: Path) -> Iterator[tuple[str, AdvancingRun]]:
    demo = build_console_demo(f"sqlite:///{tmp_path / 'runs.db'}", tmp_path / "demo-files")
    run = AdvancingRun()
    runs_view.plug_runs_feed(run.feed)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(ConsoleSettings(db_url=demo.db_url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", run
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        runs_view.plug_runs_feed(None)


def test_the_runs_page_follows_a_run_to_completion(
    browser: Any, runs_server: tuple[str, AdvancingRun]
) -> None:
    base_url, run = runs_server
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto("/login")
        page.fill("#name", "operator")
        page.fill("#secret", PASSWORD)
        page.click("#sign-in")
        page.wait_for_url("**/accounts")
        page.goto("/runs")
        assert "0/1000" in page.locator("#runs").inner_text()
        assert "running" in page.locator("#runs").inner_text()
        run.done = 400
        page.wait_for_function("document.querySelector('#runs').innerText.includes('400/1000')")
        run.done = ITEMS_TOTAL
        page.wait_for_function("document.querySelector('#runs').innerText.includes('completed')")
        assert "1000/1000" in page.locator("#runs").inner_text()
        assert page.url.endswith("/runs")  # the table changed in place; no reload
    finally:
        context.close()
