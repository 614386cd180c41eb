"""The runs page follows a real engine run to completion by itself (htmx polling ``/runs/table``).

The post-transactions job runs on the engine in a background thread, in small
chunks, against the same database as a live ``cardbatch serve``. The job's
chunk callback holds the run after a few committed chunks until the browser
has shown that partial progress (so the test sees the run mid-way without
depending on timing), then lets it finish.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cardbatch.engine.registry import get_job
from cardbatch.engine.runner import ChunkProgress, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings
from cardbatch.jobs.post_transactions import transaction_file, write_transaction_file
from cardbatch.store import open_store
from tests.console_support import PASSWORD, ConsoleDemo, build_console_demo
from tests.e2e.console.conftest import serve

DAY = date(2026, 1, 5)  # the night after the demo's last
CHUNK_SIZE = 10
LINES_GOOD = 56
LINES_UNKNOWN = 4  # first in the file, so the first chunk already has failures
HOLD_AFTER_CHUNKS = 3
WAIT_S = 60


@dataclass
class HeldRun:
    """The engine's chunk callback: holds the run after ``HOLD_AFTER_CHUNKS`` chunks."""

    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held_at: ChunkProgress | None = None

    def on_chunk(self, progress: ChunkProgress) -> None:
        if progress.step_items_done >= HOLD_AFTER_CHUNKS * CHUNK_SIZE and self.held_at is None:
            self.held_at = progress
            self.held.set()
            self.release.wait(WAIT_S)


def _write_file(demo: ConsoleDemo, inbox: Path) -> None:
    rows = [(f"T{n:05d}", f"CA-NOPE-{n}", "purchase", "1.00", DAY.isoformat(), "unknown card")
            for n in range(LINES_UNKNOWN)]  # fmt: skip
    rows += [(f"T{n:05d}", demo.card_account_id, "purchase", "12.34", DAY.isoformat(), "coffee")
             for n in range(LINES_UNKNOWN, LINES_UNKNOWN + LINES_GOOD)]  # fmt: skip
    write_transaction_file(transaction_file(inbox, DAY), rows)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, ConsoleDemo]]:
    demo = build_console_demo(f"sqlite:///{tmp_path / 'runs.db'}", tmp_path / "demo-files")
    with serve(demo.db_url, tmp_path) as (base_url, _log):
        yield base_url, demo


def _runs_text(page: Any) -> str:
    return str(page.locator("tr[data-run-id^='post-transactions']").inner_text())


def test_the_runs_page_follows_a_real_engine_run(
    browser: Any, console: tuple[str, ConsoleDemo], tmp_path: Path
) -> None:
    base_url, demo = console
    settings = EngineSettings(chunk_size=CHUNK_SIZE, inbox_dir=tmp_path / "inbox",
                              out_dir=tmp_path / "out")  # fmt: skip
    _write_file(demo, settings.inbox_dir)
    hold = HeldRun()
    reports: list[Any] = []
    store = open_store(demo.db_url)
    request = RunRequest(get_job("post-transactions"), DAY, {}, "operator", settings)
    engine = threading.Thread(
        target=lambda: reports.append(run_job(store, request, on_chunk=hold.on_chunk))
    )
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    try:
        page.goto("/login")
        page.fill("#name", "operator")
        page.fill("#secret", PASSWORD)
        page.click("#sign-in")
        page.wait_for_url("**/accounts")
        page.goto("/runs")
        assert page.locator("tr[data-run-id^='post-transactions']").count() == 0
        engine.start()
        assert hold.held.wait(WAIT_S), "the engine never committed its first chunks"
        assert hold.held_at is not None
        done = hold.held_at.step_items_done
        total = LINES_GOOD + LINES_UNKNOWN
        assert 0 < done < total
        row = "document.querySelector(\"tr[data-run-id^='post-transactions']\")"
        page.wait_for_function(f"{row} && {row}.innerText.includes('{done}/{total}')")
        mid = _runs_text(page)
        assert "running" in mid
        assert f"unknown_account: {LINES_UNKNOWN}" in mid  # failures by reason
        assert "/s" in page.locator("tr[data-run-id^='post-transactions'] .run-rate").inner_text()
        assert " s" in page.locator("tr[data-run-id^='post-transactions'] .run-eta").inner_text()
        hold.release.set()
        engine.join(WAIT_S)
        assert reports and reports[0].status == "completed"
        page.wait_for_function(f"{row}.innerText.includes('completed')")
        end = _runs_text(page)
        assert f"{total}/{total}" in end
        assert page.locator("tr[data-run-id^='post-transactions'] .run-eta").inner_text() == ""
        assert page.url.endswith("/runs")  # the table changed in place; no reload
    finally:
        hold.release.set()
        if engine.is_alive():
            engine.join(WAIT_S)
        context.close()
        store.dispose()
