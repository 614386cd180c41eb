"""Prometheus metrics at ``/metrics``: HTTP traffic by route, and batch runs from the engine's runs.

Each app has its own registry (tests build many apps). Route labels are path
templates (``/api/accounts/{account_id}``), never concrete paths, so no account
number reaches a label.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cardbatch.services import runs_view
from cardbatch.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RUNS_SCRAPED_MAX = 200


class ConsoleMetrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cardbatch_http_requests", "HTTP requests answered.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "cardbatch_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.registry.register(_RunsCollector(store))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _RunsCollector(Collector):
    """Recent runs by status and their items by status, read from the engine at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = runs_view.list_runs(self.store, RUNS_SCRAPED_MAX)
        runs = GaugeMetricFamily("cardbatch_runs", "Recent runs by job and status.",
                                 labels=["job", "status"])  # fmt: skip
        items = GaugeMetricFamily("cardbatch_run_items", "Items of recent runs by status.",
                                  labels=["job", "status"])  # fmt: skip
        by_run: dict[tuple[str, str], int] = {}
        by_item: dict[tuple[str, str], int] = {}
        for run in found.runs:
            by_run[(run.job, run.status)] = by_run.get((run.job, run.status), 0) + 1
            counts = (("done", run.items_done), ("failed", run.items_failed),
                      ("skipped", run.items_skipped))  # fmt: skip
            for status, n in counts:
                by_item[(run.job, status)] = by_item.get((run.job, status), 0) + n
        for labels, n in sorted(by_run.items()):
            runs.add_metric(list(labels), n)
        for labels, n in sorted(by_item.items()):
            items.add_metric(list(labels), n)
        yield runs
        yield items
