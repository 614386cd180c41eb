"""Batch runs as the console shows them, read through a feed the engine plugs in.

The engine (job repository, runs, steps) lands separately. It provides a
function ``(store, rows_max) -> list[RunSummary]`` and wires it once with
:func:`plug_runs_feed`; until then :func:`list_runs` answers
``available=False`` and an empty list, and the pages say the engine is not
installed (never invented runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cardbatch.store import Store


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    job: str
    business_date: str
    status: str  # e.g. running | completed | failed
    items_total: int
    items_done: int
    items_failed: int
    started_at: datetime | None
    finished_at: datetime | None
    failures_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunList:
    available: bool
    runs: list[RunSummary]


RunsFeed = Callable[[Store, int], list[RunSummary]]
_feed: RunsFeed | None = None


def plug_runs_feed(feed: RunsFeed | None) -> None:
    """Wire the engine's run listing into the console (``None`` unplugs it)."""
    global _feed
    _feed = feed


def list_runs(store: Store, rows_max: int) -> RunList:
    if _feed is None:
        return RunList(available=False, runs=[])
    return RunList(available=True, runs=_feed(store, rows_max))
