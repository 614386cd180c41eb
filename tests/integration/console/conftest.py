"""Fixtures for the console's API tests: a demo bank, its app, a client per role."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardbatch.api.app import create_app
from cardbatch.api.settings import ConsoleSettings
from cardbatch.domain.roles import Role
from cardbatch.logs import JsonFormatter
from tests.console_support import ConsoleDemo, build_console_demo


@pytest.fixture(scope="session")
def console_demo(tmp_path_factory: pytest.TempPathFactory) -> ConsoleDemo:
    path: Path = tmp_path_factory.mktemp("console") / "demo.db"
    return build_console_demo(f"sqlite:///{path}", path.parent / "demo-files")


@pytest.fixture(scope="session")
def console_app(console_demo: ConsoleDemo) -> Iterator[FastAPI]:
    app = create_app(ConsoleSettings(db_url=console_demo.db_url, request_bytes_max=4096))
    yield app
    app.state.store.dispose()


@pytest.fixture
def client(console_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(console_app, raise_server_exceptions=False) as c:
        yield c


def bearer(demo: ConsoleDemo, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo.tokens[role]}"}


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged during the test, as the JSON lines the server writes."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
