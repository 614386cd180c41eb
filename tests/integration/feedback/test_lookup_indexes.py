"""Explain and feedback links find items and corrections by index, not by scanning (both stores).

The statements ``feedback explain`` and ``add_feedback`` run against ``item_results`` and
``journal_entries.reference_key`` are captured as they run and planned again: each must be
able to use the partial index of migration 0016. Without those indexes they scanned every
item result the store keeps and the whole journal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from cardbatch.engine import EngineSettings
from cardbatch.feedback import explain
from cardbatch.feedback.job import run_corrections
from cardbatch.feedback.model import CorrectionKind
from cardbatch.store import Store
from tests.feedback_helpers import FIX_DAY, file_double_debit, seed_double_debit, uphold

Captured = list[tuple[str, Any]]
_LOOKUPS = ("FROM item_results", "reference_key =")


@contextmanager
def captured_lookups(store: Store) -> Iterator[Captured]:
    """The item-result and reference-key reads the store's engine runs meanwhile."""
    seen: Captured = []

    def keep(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if any(marker in " ".join(statement.split()) for marker in _LOOKUPS):
            seen.append((statement, params))

    engines = {id(e): e for e in (store.engine, store.writer)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", keep)


def reads(seen: Captured, marker: str) -> Captured:
    """The captured statements that contain ``marker`` (whitespace folded)."""
    return [s for s in seen if marker in " ".join(s[0].split())]


def plan(conn: Connection, statement: str, params: Any) -> str:
    """The plan of ``statement``: on PostgreSQL with sequential scans priced out, so a
    usable index shows on the small tables of a test."""
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    if conn.dialect.name == "sqlite":
        cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute(f"EXPLAIN {statement}", params)
    return "\n".join(str(row[0]) for row in cursor.fetchall())


def test_explain_and_links_read_items_and_corrections_by_index(
    store: Store, tmp_path: Path
) -> None:
    card, (_first, second) = seed_double_debit(store, tmp_path)
    with captured_lookups(store) as linking:
        record = file_double_debit(store, card)
    uphold(store, record, [(CorrectionKind.REVERSAL, second)])
    settings = EngineSettings(chunk_size=1, inbox_dir=tmp_path / "in", out_dir=tmp_path / "out")
    run_corrections(store, FIX_DAY, "super01", settings)
    with captured_lookups(store) as explaining:
        story = explain.explain(store, record.feedback_id)
    assert story.entries[1].item is not None and story.entries[1].corrected_by  # found, by index
    item_reads = reads(linking, "FROM item_results") + reads(explaining, "FROM item_results")
    reference_reads = reads(explaining, "reference_key =")
    assert reads(linking, "FROM item_results") and len(item_reads) >= 3 and reference_reads
    with store.read() as conn:
        for statement, params in item_reads:
            text = plan(conn, statement, params)
            assert "ix_item_results_entry_id" in text, text
        for statement, params in reference_reads:
            text = plan(conn, statement, params)
            assert "ix_journal_entries_reference_key" in text, text
