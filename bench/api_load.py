"""Load on the console API: account detail, transaction details and statements at N clients.

Builds (or reuses) a database of ``--accounts`` card accounts, adds a reader, starts
``cardbatch serve`` on a free loopback port, then ``--clients`` closed-loop clients, each
on its own keep-alive HTTP/1.1 connection, send ``--requests`` requests in total (after
``--warmup`` unrecorded ones) to random accounts, spread evenly over ``--endpoints``.

``--portfolio demo`` (the default, for small sizes) runs the full demo bank;
``--portfolio cycle`` takes the cycle benchmark's portfolio (``bench.cycle``) after one
card-cycle night, so that every account has a statement and the period's transactions,
built once per size and seed and cached under ``out/bench/cache`` (1,000,000 accounts:
about 11 minutes and 5.4 GB the first time).

Before the server starts, the database file is read once through the operating system's
page cache (``page_cache_warm_s``), as continuous traffic keeps it: the run measures the
server serving, not the disk. ``--cold`` skips that and shows the tail of a server whose
file pages are not in memory (after a restart on a machine that reclaimed them).

Prints one JSON document: latency p50, p90, p99 and max per endpoint (ms), requests/s,
errors, the server's and this client's CPU time per request, and the machine's load
average. The client is a minimal stream client (a GET written, the Content-Length body
read) so that its own CPU stays small next to the server's; both share this machine, so
latencies include anything else running on it.

    python -m bench.api_load --accounts 100000 --clients 50 --requests 20000
    python -m bench.api_load --portfolio cycle --accounts 1000000 --clients 50 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import remove_sqlite
from bench.cycle import CACHE, fresh_copy
from cardbatch.engine.settings import load_settings
from cardbatch.jobs.cycle_partitions import run_partitioned
from cardbatch.jobs.cycle_portfolio import BUSINESS_DATE, card_id
from cardbatch.services import synthetic, users
from cardbatch.services.demo import DemoConfig, run_demo
from cardbatch.store import open_store
from cardbatch.store.migrate import upgrade

ENDPOINTS = {
    "account_detail": "/api/accounts/{id}",
    "transactions": "/api/accounts/{id}/transactions?limit=50",
    "statements": "/api/accounts/{id}/statements",
}
SERVER_START_S = 120
REQUEST_TIMEOUT_S = 30.0


def unique_resident_ids() -> None:
    """Make the synthetic bank's resident IDs unique at large sizes.

    The synthetic generator keeps 3 sequence digits, so above ~10,000 customers two
    customers of one region and birth date can collide; on a collision this moves
    the ID's birth date on by a day. Only the benchmark's data is affected.
    """
    seen: set[str] = set()
    original = synthetic.resident_id

    def unique(rng: random.Random, region: str, birth: date, seq: int) -> str:
        while (ric := original(rng, region, birth, seq)) in seen:
            birth += timedelta(days=1)
        seen.add(ric)
        return ric

    synthetic.resident_id = unique


def build_database(path: Path, accounts: int, days: int) -> float:
    """A demo bank at ``path`` unless one is there; seconds spent building."""
    workdir = path.with_suffix(".files")
    unique_resident_ids()
    started = time.perf_counter()
    store = open_store(f"sqlite:///{path}", require_schema=False)
    try:
        upgrade(store)
        run_demo(store, DemoConfig(customers=accounts, days=days), "bench", workdir=workdir)
    finally:
        store.dispose()
    return time.perf_counter() - started


def build_cycle_database(accounts: int, seed: int) -> tuple[Path, float]:
    """The cycle benchmark's portfolio after one card-cycle night, cached; (file, seconds).

    Every account then has a statement and the period's transactions. The file is
    built once per size and seed under ``out/bench/cache`` and reused after.
    """
    cached = CACHE / f"api-cycle-{accounts}-{seed}.db"
    if cached.exists():
        return cached, 0.0
    started = time.perf_counter()
    partial = cached.with_suffix(".partial")
    remove_sqlite(partial)
    with fresh_copy("sqlite", accounts, seed, f"sqlite:///{partial}") as url:
        store = open_store(url)
        try:
            outcomes = run_partitioned(store, url, BUSINESS_DATE, "bench", load_settings())
        finally:
            store.dispose()
    not_done = [o for o in outcomes if o.status != "completed"]
    if not_done:
        raise SystemExit(f"cycle partitions not completed: {not_done}")
    partial.replace(cached)
    return cached, time.perf_counter() - started


def account_ids(portfolio: str, accounts: int) -> list[str]:
    """The card account ids of the database the portfolio builds (demo: from 1, cycle: from 0)."""
    if portfolio == "cycle":
        return [card_id(i) for i in range(accounts)]
    return [f"CA{i:010d}" for i in range(1, accounts + 1)]


WARM_BLOCK_BYTES = 8 << 20


def warm_page_cache(path: Path) -> float:
    """Read the database file (and its WAL) once, so its pages sit in the page cache; seconds."""
    started = time.perf_counter()
    for part in (path, Path(f"{path}-wal")):
        if part.exists():
            with part.open("rb", buffering=0) as handle:
                while handle.read(WARM_BLOCK_BYTES):
                    pass
    return time.perf_counter() - started


def reader_token(db_url: str) -> str:
    store = open_store(db_url)
    try:
        name = f"bench{random.randrange(10**9)}"
        return users.add_user(store, name, "operator", "bench").token
    finally:
        store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, port: int, log_path: Path, workers: int) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "cardbatch", "--db", db_url, "serve", "--port", str(port),
             "--workers", str(workers)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a GET and reads a Content-Length body.

    Kept minimal so the client's own CPU per request stays small next to the server's.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """The status code of ``GET path``; the body is read and dropped."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.head)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
            elif line.lower() == b"connection: close":
                self.close()
        if length and self.reader is not None:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def load(port: int, token: str, ids: list[str], clients: int, requests: int,
               warmup: int, seed: int, server_pid: int,
               names: list[str]) -> dict[str, Any]:  # fmt: skip
    """``clients`` closed-loop clients, one keep-alive connection each, share the plan."""
    rng = random.Random(seed)
    plan = [(rng.choice(names), rng.choice(ids)) for _ in range(warmup + requests)]
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, int] = {}
    connections = [Connection("127.0.0.1", port, token) for _ in range(clients)]

    async def worker(
        connection: Connection, items: Iterator[tuple[str, str]], record: bool
    ) -> None:
        for name, account_id in items:
            started = time.perf_counter()
            try:
                outcome = str(await connection.get(ENDPOINTS[name].format(id=account_id)))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                outcome = type(exc).__name__
            if record:
                latencies[name].append((time.perf_counter() - started) * 1000)
                if outcome != "200":
                    errors[outcome] = errors.get(outcome, 0) + 1

    async def run(items: list[tuple[str, str]], record: bool) -> None:
        shared = iter(items)  # each client takes the next request when its last one is answered
        await asyncio.gather(*(worker(c, shared, record) for c in connections))

    await run(plan[:warmup], record=False)
    started, cpu_started = time.perf_counter(), time.process_time()
    server_cpu_started = cpu_by_process(server_pid)
    machine_started = machine_ticks()
    await run(plan[warmup:], record=True)
    elapsed_s = time.perf_counter() - started
    client_cpu_s = time.process_time() - cpu_started
    server_cpu = {pid: s - server_cpu_started.get(pid, 0.0)
                  for pid, s in cpu_by_process(server_pid).items()}  # fmt: skip
    server_cpu_s = sum(server_cpu.values())
    ended = machine_ticks()
    machine = [b - a for a, b in zip(machine_started, ended, strict=True)] if ended else []
    for connection in connections:
        connection.close()
    return {"elapsed_s": round(elapsed_s, 2), "requests": requests,
            "requests_per_s": round(requests / elapsed_s, 1), "errors": errors,
            "server_cpu_ms_per_request": round(server_cpu_s * 1000 / requests, 3),
            "server_cpu_s_by_process": [round(s, 2) for s in server_cpu.values()],
            "client_cpu_ms_per_request": round(client_cpu_s * 1000 / requests, 3),
            "latency_ms": {name: summarise(v) for name, v in latencies.items()},
            **machine_shares(machine, server_cpu_s + client_cpu_s)}  # fmt: skip


def summarise(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": round(cuts[49], 2), "p90": round(cuts[89], 2),
            "p99": round(cuts[98], 2), "max": round(max(values), 2)}  # fmt: skip


def machine_ticks() -> list[int]:
    """The machine's CPU time counters (user, nice, system, idle, iowait, irq, softirq, steal)."""
    try:
        return [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except OSError:
        return []


def machine_shares(ticks: list[int], ours_s: float) -> dict[str, float]:
    """Over the run: the share of the machine's CPU that was busy, that the server and
    client used, and that the hypervisor took (steal), in percent; {} without /proc."""
    if len(ticks) < 8 or not sum(ticks):
        return {}
    total, idle = sum(ticks), ticks[3] + ticks[4]
    ours = ours_s * os.sysconf("SC_CLK_TCK")
    return {"machine_busy_pct": round(100 * (total - idle - ticks[7]) / total, 1),
            "this_benchmark_pct": round(100 * ours / total, 1),
            "steal_pct": round(100 * ticks[7] / total, 1)}  # fmt: skip


def cpu_by_process(pid: int) -> dict[int, float]:
    """User + system CPU seconds of a process and each of its live descendants (Linux /proc).

    Per process, so that a skew between server workers (each keeps the keep-alive
    connections it accepted) shows; empty where /proc is not there.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return {}
    found = {pid: (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        found.update(cpu_by_process(int(child)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument(
        "--portfolio", choices=("demo", "cycle"), default="demo",
        help="demo: the full demo bank (small sizes); cycle: the cycle benchmark's portfolio "
        "after one card-cycle night, cached under out/bench/cache (large sizes)",
    )  # fmt: skip
    parser.add_argument("--days", type=int, default=2, help="demo nights when building")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS),
        help=f"comma-separated, from {', '.join(ENDPOINTS)} (default: all, in equal shares)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int, default=1_000, help="unrecorded requests first")
    parser.add_argument(
        "--cold", action="store_true",
        help="do not read the database file into the page cache before the run",
    )  # fmt: skip
    parser.add_argument("--db", type=Path, help="SQLite file to reuse or build (default: temp)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--portfolio-seed", type=int, default=1, help="seed of the cycle portfolio")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    names = [name for name in args.endpoints.split(",") if name]
    if not names or set(names) - set(ENDPOINTS):
        parser.error(f"--endpoints: choose from {', '.join(ENDPOINTS)}")
    if args.portfolio == "cycle" and args.db is None:
        path, build_s = build_cycle_database(args.accounts, args.portfolio_seed)
    else:
        path = args.db or Path(tempfile.mkdtemp()) / "bench.db"
        build_s = 0.0 if path.exists() else build_database(path, args.accounts, args.days)
    db_url = f"sqlite:///{path}"
    warm_s = None if args.cold else round(warm_page_cache(path), 1)
    token = reader_token(db_url)
    port = free_port()
    log_path = path.with_suffix(".server.log")
    server = start_server(db_url, port, log_path, args.workers)
    ids = account_ids(args.portfolio, args.accounts)
    try:
        result = asyncio.run(load(port, token, ids, args.clients, args.requests, args.warmup,
                                  args.seed, server.pid, names))  # fmt: skip
        result["load_average_1m"] = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps({"accounts": args.accounts, "portfolio": args.portfolio,
                      "clients": args.clients, "workers": args.workers,
                      "database": str(path), "server_log": str(log_path),
                      "build_s": round(build_s, 1), "page_cache_warm_s": warm_s,
                      **result}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
