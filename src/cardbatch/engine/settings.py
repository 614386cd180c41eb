"""The engine's settings, declared once: name, default, unit, help; read from the environment.

Each setting ``name`` may be set by the environment variable
``CARDBATCH_<NAME>`` (upper case); command options override both. A test
checks that docs/engine.md lists every setting in :data:`SETTINGS`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    unit: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("chunk_size", "500", "items", "Items per chunk; a chunk commits in one transaction."),
    Setting("lease_s", "60", "seconds", "How long a run lock stays valid without a heartbeat."),
    Setting("failure_rate_max_pct", "5", "percent",
            "Stop the run when failed items exceed this share of items read."),
    Setting("failure_min_items", "200", "items",
            "Items a step must have read before the failure rate is judged."),
    Setting("retention_days", "400", "days",
            "Item results of runs older than this (by business date) may be purged."),
    Setting("purge_batch_rows", "5000", "rows", "Rows deleted per purge transaction."),
    Setting("sample_items_max", "20", "items", "Items shown as a sample in a run report."),
    Setting("inbox_dir", "inbox", "path", "Folder the night reads input files from."),
    Setting("out_dir", "out", "path", "Folder runs and the night write their files to."),
)  # fmt: skip

# Bounded so a chunk's key lookups stay within SQLite's limit on bound parameters.
CHUNK_SIZE_MAX = 10_000
PURGE_BATCH_ROWS_MAX = 10_000
LEASE_S_MIN = 1
RETENTION_DAYS_MIN = 1


class SettingError(ValueError):
    """A setting with a value the engine cannot use."""


@dataclass(frozen=True)
class EngineSettings:
    chunk_size: int = 500
    lease_s: int = 60
    failure_rate_max_pct: Decimal = Decimal("5")
    failure_min_items: int = 200
    retention_days: int = 400
    purge_batch_rows: int = 5000
    sample_items_max: int = 20
    inbox_dir: Path = Path("inbox")
    out_dir: Path = Path("out")

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_size <= CHUNK_SIZE_MAX:
            raise SettingError(f"chunk_size must be 1..{CHUNK_SIZE_MAX}, got {self.chunk_size}")
        if self.lease_s < LEASE_S_MIN:
            raise SettingError(f"lease_s must be at least {LEASE_S_MIN}, got {self.lease_s}")
        if not Decimal(0) <= self.failure_rate_max_pct <= Decimal(100):
            raise SettingError(f"failure_rate_max_pct must be 0..100: {self.failure_rate_max_pct}")
        if self.retention_days < RETENTION_DAYS_MIN:
            raise SettingError(f"retention_days must be at least {RETENTION_DAYS_MIN}")
        if not 1 <= self.purge_batch_rows <= PURGE_BATCH_ROWS_MAX:
            raise SettingError(f"purge_batch_rows must be 1..{PURGE_BATCH_ROWS_MAX}")

    def with_overrides(self, **values: Any) -> EngineSettings:
        """A copy with the given values, ignoring those that are None."""
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **given) if given else self


def load_settings(environ: Mapping[str, str] | None = None) -> EngineSettings:
    """Defaults, overridden by ``CARDBATCH_<NAME>`` environment variables."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(EngineSettings):
        raw = env.get(f"CARDBATCH_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        values[f.name] = _parse(f.name, raw)
    return EngineSettings(**values)


def _parse(name: str, raw: str) -> Any:
    default = getattr(EngineSettings(), name)
    try:
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, Decimal):
            return Decimal(raw)
        return int(raw)
    except (ValueError, InvalidOperation):
        raise SettingError(f"setting {name}: not a valid value: {raw!r}") from None
