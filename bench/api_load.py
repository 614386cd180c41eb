"""Load on the console API: account detail, transaction details and statements at N clients.

Builds (or reuses) a demo database of ``--accounts`` customers, adds a reader,
starts ``cardbatch serve`` on a free loopback port, then ``--clients``
concurrent clients send ``--requests`` requests in total to random accounts,
spread over the three endpoints. Prints one JSON document: latency p50, p90,
p99 and max per endpoint (ms), throughput, errors, the server's CPU time per
request and the machine's load average. Client and server share this machine,
so latencies include the client's own cost and anything else running.

    python -m bench.api_load --accounts 100000 --clients 50 --requests 20000
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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

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


async def load(base_url: str, token: str, accounts: int, clients: int, requests: int,
               seed: int) -> dict[str, Any]:  # fmt: skip
    rng = random.Random(seed)
    plan = [(rng.choice(list(ENDPOINTS)), f"CA{rng.randrange(1, accounts + 1):010d}")
            for _ in range(requests)]  # fmt: skip
    latencies: dict[str, list[float]] = {name: [] for name in ENDPOINTS}
    errors: dict[str, int] = {}
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=REQUEST_TIMEOUT_S) as client:  # fmt: skip

        async def worker() -> None:
            while not queue.empty():
                name, account_id = queue.get_nowait()
                started = time.perf_counter()
                try:
                    answer = await client.get(ENDPOINTS[name].format(id=account_id))
                    outcome = str(answer.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                latencies[name].append((time.perf_counter() - started) * 1000)
                if outcome != "200":
                    errors[outcome] = errors.get(outcome, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed_s = time.perf_counter() - started
    return {"elapsed_s": round(elapsed_s, 2), "requests": requests,
            "requests_per_s": round(requests / elapsed_s, 1), "errors": errors,
            "latency_ms": {name: summarise(v) for name, v in latencies.items()}}  # fmt: skip


def summarise(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": round(cuts[49], 2), "p90": round(cuts[89], 2),
            "p99": round(cuts[98], 2), "max": round(max(values), 2)}  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (Linux /proc), else 0.0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return own + sum(cpu_seconds(int(child)) for child in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=2, help="demo nights when building")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="SQLite file to reuse or build (default: temp)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "bench.db"
    build_s = 0.0 if path.exists() else build_database(path, args.accounts, args.days)
    db_url = f"sqlite:///{path}"
    token = reader_token(db_url)
    port = free_port()
    log_path = path.with_suffix(".server.log")
    server = start_server(db_url, port, log_path, args.workers)
    try:
        cpu_before = cpu_seconds(server.pid)
        result = asyncio.run(load(f"http://127.0.0.1:{port}", token, args.accounts,
                                  args.clients, args.requests, args.seed))  # fmt: skip
        server_cpu_s = cpu_seconds(server.pid) - cpu_before
        result["server_cpu_ms_per_request"] = round(server_cpu_s * 1000 / args.requests, 2)
        result["load_average_1m"] = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps({"accounts": args.accounts, "clients": args.clients, "workers": args.workers,
                      "database": str(path),
                      "server_log": str(log_path),
                      "build_s": round(build_s, 1), **result}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
