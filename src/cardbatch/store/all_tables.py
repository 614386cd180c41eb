"""Every table of cardbatch on one metadata: the foundation's and each area's.

Import this (not ``tables``) where the whole schema matters: migrations and
the test that compares the migrations with the code.
"""

import cardbatch.store.tables_ingest  # noqa: F401  (ingest: the imports table)
from cardbatch.store import tables, tables_engine, tables_feedback, tables_paybatch, tables_rules
from cardbatch.store.tables import metadata

__all__ = [
    "metadata",
    "tables",
    "tables_engine",
    "tables_feedback",
    "tables_paybatch",
    "tables_rules",
]
