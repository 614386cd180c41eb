"""Serving the console with several worker processes, each with its own listening socket.

uvicorn's own ``--workers`` binds one socket in the parent and lets the workers race to
accept on it. The event loop that wakes first accepts a whole burst of connections, so
with keep-alive clients one worker can end up holding most of them (measured: 45 of 55)
while the other idles, and the busy worker's queue sets the latency. Here every worker
binds its own socket to the same address with ``SO_REUSEPORT`` and the kernel spreads new
connections over the listening sockets by a hash of the client's address and port.

The parent holds one more socket on the address, bound but never listening, so that the
port stays taken while a worker restarts and a second server cannot start on it by
mistake (a process without ``SO_REUSEPORT`` gets "address in use"). It restarts a worker
that dies and stops all of them on SIGINT or SIGTERM; a worker whose parent is gone
(killed outright) stops itself within a second. Workers that keep dying (more than
``RESTARTS_MAX`` restarts within ``RESTART_WINDOW_S``: the database gone, a broken install)
stop the server with :class:`WorkersKeepDying` rather than restarting forever.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

log = logging.getLogger("cardbatch.serve")
BACKLOG = 2048
STOP_TIMEOUT_S = 10.0
WATCH_INTERVAL_S = 1.0
RESTARTS_MAX = 10
RESTART_WINDOW_S = 60.0
PARENT_POLL_S = 1.0
APP_FACTORY = "cardbatch.api.app:app_from_env"


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that shares the port with its siblings."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(host: str, port: int, db_url: str, parent_pid: int) -> None:  # in the worker
    import uvicorn

    from cardbatch.logs import configure_json_logging

    configure_json_logging()
    exit_with_parent(parent_pid)
    os.environ["CARDBATCH_DB"] = db_url  # the app factory opens the store from it
    sock = reuseport_socket(host, port)
    sock.listen(BACKLOG)
    config = uvicorn.Config(APP_FACTORY, factory=True, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def exit_with_parent(parent_pid: int, poll_s: float = PARENT_POLL_S) -> None:
    """Stop this worker when the supervisor ``parent_pid`` is gone.

    A supervisor killed outright (SIGKILL, the out-of-memory killer) cannot stop its
    workers; they would go on serving the shared port unsupervised, and with the code of
    before a restart. A daemon thread checks the parent every ``poll_s`` and then sends
    this process SIGTERM: uvicorn finishes the requests in hand and exits.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class WorkersKeepDying(RuntimeError):
    """Workers died more than ``RESTARTS_MAX`` times within ``RESTART_WINDOW_S``."""


class Workers:
    """``count`` worker processes serving ``host:port``, kept alive until stopped."""

    def __init__(
        self,
        host: str,
        port: int,
        count: int,
        db_url: str,
        target: Callable[[str, int, str, int], None] = _worker,
    ) -> None:
        self.args = (host, port, db_url, os.getpid())
        self.count = count
        self.target = target
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.restarts: deque[float] = deque()
        self.stopping = False

    def _start_one(self) -> BaseProcess:
        process = self.context.Process(target=self.target, args=self.args, daemon=False)
        process.start()
        return process

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("stopping the workers", extra={"signal": signal.Signals(signum).name})
        self.stopping = True

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM; a worker that dies is started again."""
        holder = reuseport_socket(*self.args[:2])  # raises "address in use" at once
        kept = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.processes = [self._start_one() for _ in range(self.count)]
            while not self.stopping:
                wait([p.sentinel for p in self.processes], timeout=WATCH_INTERVAL_S)
                self._restart_dead()
        finally:
            self._stop_all()
            holder.close()
            for sig, handler in kept.items():
                signal.signal(sig, handler)

    def _restart_dead(self) -> None:
        for n, process in enumerate(self.processes):
            if not self.stopping and not process.is_alive():
                log.warning("worker died; starting another",
                            extra={"pid": process.pid, "exit_code": process.exitcode})  # fmt: skip
                self._count_restart()
                self.processes[n] = self._start_one()

    def _count_restart(self) -> None:
        now = time.monotonic()
        self.restarts.append(now)
        while self.restarts and self.restarts[0] < now - RESTART_WINDOW_S:
            self.restarts.popleft()
        if len(self.restarts) > RESTARTS_MAX:
            raise WorkersKeepDying(
                f"workers died {len(self.restarts)} times within {RESTART_WINDOW_S:.0f} s; "
                "stopping (the worker's own log lines above say why)"
            )

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in hand
        for process in self.processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
