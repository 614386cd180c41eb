"""Property: however the rows are chunked and wherever a run dies after a commit, running
again finishes the batch (resuming its engine run) with one result and at most one entry per
row, and the employer pays exactly the sum of the successful rows."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cardbatch.engine.runner import ChunkProgress
from cardbatch.paybatch import SubmitRequest, approve, run_batch, submit
from cardbatch.services import ledger
from cardbatch.store import open_store
from cardbatch.store.migrate import upgrade
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_paybatch import paybatch_results
from tests.integration.paybatch.worlds import (
    DAY,
    available_fen,
    build_world,
    numbered_success_fen,
    numbered_world,
    write_numbered_payroll,
)


class Crash(Exception):
    """Stands in for the process dying right after a chunk committed."""


@settings(max_examples=8, deadline=None)
@given(rows=st.integers(1, 40), chunk_rows=st.integers(1, 15), crash_after=st.integers(1, 4))
def test_resume_after_any_chunk(
    tmp_path_factory: pytest.TempPathFactory, rows: int, chunk_rows: int, crash_after: int
) -> None:
    folder = tmp_path_factory.mktemp(f"resume-{uuid.uuid4().hex[:6]}")
    bare = open_store(f"sqlite:///{folder / 'db.sqlite'}", require_schema=False)
    upgrade(bare)
    bare.dispose()
    store = open_store(f"sqlite:///{folder / 'db.sqlite'}")
    try:
        world = numbered_world(rows)
        build_world(store, world)
        path = folder / "payroll.txt"
        write_numbered_payroll(path, rows)
        batch_id = submit(
            store, SubmitRequest(path, "payroll", world.party_account, DAY), "m"
        ).batch_id
        approve(store, batch_id, "c")
        before = available_fen(store, world.party_account)

        def die(progress: ChunkProgress) -> None:
            if progress.chunk_no + 1 == crash_after:
                raise Crash

        try:
            run_batch(store, batch_id, "op", chunk_rows=chunk_rows, on_chunk=die)
        except Crash:
            run_batch(store, batch_id, "op", chunk_rows=chunk_rows + 1)
        with store.read() as conn:
            results = conn.execute(select(paybatch_results.c.row_no)).scalars().all()
            keys = conn.execute(select(journal_entries.c.idempotency_key)).scalars().all()
        assert sorted(results) == list(range(1, rows + 1))
        row_keys = [k for k in keys if k.startswith(f"paybatch:{batch_id}:")]
        assert len(row_keys) == len(set(row_keys))
        assert before - available_fen(store, world.party_account) == numbered_success_fen(rows)
        assert ledger.check(store).balanced
    finally:
        store.dispose()
