"""Import settings: declared once here, with default, unit and help; docs/ingest.md lists them.

Each can be overridden by an environment variable ``CARDBATCH_IMPORT_<NAME>``
(upper case), and the service takes an explicit :class:`IngestSettings` too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

FILE_BYTES_MAX_DEFAULT = 2 * 1024**3
CHUNK_ROWS_DEFAULT = 50_000
ERRORS_LISTED_MAX_DEFAULT = 100
SQLITE_CACHE_MB_DEFAULT = 256


@dataclass(frozen=True)
class IngestSettings:
    """Limits of one import. Every loop over a file is bounded by these."""

    file_bytes_max: int = FILE_BYTES_MAX_DEFAULT
    chunk_rows: int = CHUNK_ROWS_DEFAULT
    errors_listed_max: int = ERRORS_LISTED_MAX_DEFAULT
    sqlite_cache_mb: int = SQLITE_CACHE_MB_DEFAULT


# name -> (unit, help); docs/ingest.md has the same table and a test keeps them in step.
SETTINGS_HELP: dict[str, tuple[str, str]] = {
    "file_bytes_max": ("bytes", "largest input file accepted; larger files are refused whole"),
    "chunk_rows": ("rows", "rows read, validated and written per chunk (bounds memory)"),
    "errors_listed_max": ("rows", "rejects and warnings listed in the JSON result"),
    "sqlite_cache_mb": ("MB", "SQLite page cache while an import runs (restored after)"),
}


def settings_from_env(environ: dict[str, str] | None = None) -> IngestSettings:
    """Defaults, overridden by ``CARDBATCH_IMPORT_FILE_BYTES_MAX`` and friends."""
    env = dict(os.environ) if environ is None else environ
    settings = IngestSettings()
    for item in fields(IngestSettings):
        raw = env.get(f"CARDBATCH_IMPORT_{item.name.upper()}")
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"CARDBATCH_IMPORT_{item.name.upper()} must be an integer") from None
        if value <= 0:
            raise ValueError(f"CARDBATCH_IMPORT_{item.name.upper()} must be positive")
        settings = replace(settings, **{item.name: value})
    return settings
