"""Every table of cardbatch on one metadata: the foundation's and each area's.

Import this (not ``tables``) where the whole schema matters: migrations and
the test that compares the migrations with the code.
"""

from cardbatch.store import (
    tables,
    tables_apps,
    tables_console,
    tables_cycle,
    tables_engine,
    tables_feedback,
    tables_ingest,
    tables_paybatch,
    tables_rules,
)
from cardbatch.store.tables import metadata

__all__ = [
    "metadata",
    "tables",
    "tables_apps",
    "tables_console",
    "tables_cycle",
    "tables_engine",
    "tables_feedback",
    "tables_ingest",
    "tables_paybatch",
    "tables_rules",
]
