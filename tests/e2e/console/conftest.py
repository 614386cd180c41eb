"""A live console (``cardbatch serve`` on a free port over a demo database) and a real
headless Chromium driven by Playwright. Without chromium the browser tests skip locally;
with CI=true they fail instead, since CI installs it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.console_support import ConsoleDemo, build_console_demo

CHROMIUM = os.environ.get("CARDBATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
SERVER_START_S = 60


@dataclass(frozen=True)
class LiveConsole:
    base_url: str
    demo: ConsoleDemo
    log_path: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"cardbatch serve exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"cardbatch serve did not answer within {SERVER_START_S} s")


@contextlib.contextmanager
def serve(db_url: str, folder: Path) -> Iterator[tuple[str, Path]]:
    """``cardbatch serve`` over ``db_url`` on a free port: (base URL, log path)."""
    port = _free_port()
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "cardbatch", "--db", db_url, "serve", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_healthy(base_url, server, log_path)
            yield base_url, log_path
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture(scope="session")
def live_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    folder = tmp_path_factory.mktemp("live")
    demo = build_console_demo(f"sqlite:///{folder / 'demo.db'}", folder / "demo-files")
    with serve(demo.db_url, folder) as (base_url, log_path):
        yield LiveConsole(base_url, demo, log_path)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"headless Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI=true requires the browser tests to run: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()
