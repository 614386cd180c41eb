"""``cardbatch serve --workers N``: every worker listens on its own socket, so the kernel spreads
keep-alive connections over all of them; a worker that dies is replaced; SIGTERM stops them
all; a port already taken is one clear line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cardbatch.api import serving
from tests.e2e.cli import cli_json, run_cli

START_TIMEOUT_S = 60.0
CONNECTIONS = 40


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    token: str
    log_path: Path

    def workers(self) -> list[int]:
        """The pids of the worker processes (the parent's spawned children)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return sorted(int(c) for c in children if b"spawn_main" in _cmdline(int(c)))

    def get(self, client: httpx.Client, path: str = "/api/me") -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return client.get(f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=10)

    def access_pids(self) -> list[int]:
        lines = [json.loads(line) for line in self.log_path.read_text().splitlines()
                 if line.startswith("{")]  # fmt: skip
        return [doc["pid"] for doc in lines if doc.get("logger") == "cardbatch.http"]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until(check: object, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} within {START_TIMEOUT_S} s")


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    assert run_cli("--db", sqlite_url, "db", "upgrade").returncode == 0
    token = cli_json("--db", sqlite_url, "users", "add", "w1", "--role", "operator")["token"]
    port, log_path = _free_port(), tmp_path / "server.log"
    with log_path.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "cardbatch", "--db", sqlite_url, "serve", "--port", str(port),
             "--workers", "2"], stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    found = Server(process, port, token, log_path)
    try:
        with httpx.Client() as client:
            _wait_until(lambda: found.get(client).status_code == 200, "the server answers")
        _wait_until(lambda: len(found.workers()) == 2, "two workers run")
        yield found
    finally:
        workers = found.workers() if process.poll() is None else []
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        for pid in workers:  # never leave a worker behind, whatever the test did
            if _cmdline(pid):
                os.kill(pid, signal.SIGKILL)


def test_connections_are_spread_over_the_workers(server: Server) -> None:
    before = len(server.access_pids())
    clients = [httpx.Client() for _ in range(CONNECTIONS)]  # one keep-alive connection each
    try:
        for client in clients:
            assert server.get(client).status_code == 200
    finally:
        for client in clients:
            client.close()
    _wait_until(lambda: len(server.access_pids()) >= before + CONNECTIONS, "every request logged")
    by_worker = Counter(server.access_pids()[before:])
    assert set(by_worker) == set(server.workers())
    # 40 connections hashed over two sockets: fewer than 5 on one has odds of about 1e-7
    assert min(by_worker.values()) >= 5, by_worker


def test_a_worker_that_dies_is_replaced(server: Server) -> None:
    first, second = server.workers()
    os.kill(first, signal.SIGKILL)
    _wait_until(lambda: len(server.workers()) == 2 and first not in server.workers(),
                "a new worker replaces the killed one")  # fmt: skip
    assert second in server.workers()
    for _ in range(10):  # fresh connections reach the workers alive
        with httpx.Client() as client:
            assert server.get(client).status_code == 200


def test_sigterm_stops_every_worker_and_frees_the_port(server: Server) -> None:
    workers = server.workers()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert all(not _cmdline(pid) for pid in workers)
    with socket.socket() as s:
        s.bind(("127.0.0.1", server.port))  # nobody holds it any more


def test_workers_stop_themselves_when_the_supervisor_is_killed(server: Server) -> None:
    workers = server.workers()
    server.process.kill()  # SIGKILL: the supervisor cannot stop anything
    server.process.wait(timeout=30)
    _wait_until(lambda: all(not _cmdline(pid) for pid in workers), "the orphaned workers exit")
    with socket.socket() as s:
        s.bind(("127.0.0.1", server.port))  # nobody holds it any more


def test_a_port_in_use_is_one_clear_line(sqlite_url: str) -> None:
    assert run_cli("--db", sqlite_url, "db", "upgrade").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = run_cli("--db", sqlite_url, "serve", "--port", port, "--workers", "2")
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
    assert "Traceback" not in done.stderr


def _die_at_once(_host: str, _port: int, _db_url: str, _parent_pid: int) -> None:
    raise SystemExit(3)


def test_workers_that_keep_dying_stop_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving, "WATCH_INTERVAL_S", 0.05)
    monkeypatch.setattr(serving, "RESTARTS_MAX", 3)
    workers = serving.Workers("127.0.0.1", _free_port(), 2, "sqlite:///unused.db",
                              target=_die_at_once)  # fmt: skip
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(serving.WorkersKeepDying, match="died 4 times"):
        workers.run()
    assert all(not process.is_alive() for process in workers.processes)
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handlers are back
