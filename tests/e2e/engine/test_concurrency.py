"""Two processes start the same job and date at once: exactly one runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardbatch.services import ledger
from cardbatch.store.tables_engine import item_results, job_runs, run_locks
from tests.engine_helpers import REPO_ROOT, cli_command, cli_env, migrated

DAY = date(2026, 5, 2)
ITEMS = 600
ARGS = ("run", "start", "synthetic-items", "--date", DAY.isoformat(), "--param",
        f"items={ITEMS}", "--param", "accounts=40", "--chunk-size", "50")  # fmt: skip


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_two_processes_starting_the_same_run_at_once_exactly_one_runs(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: str = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    store = migrated(url)
    try:
        hold = tmp_path / "hold"
        hold.touch()  # the winner waits, holding the run, until the loser has been refused
        env = cli_env(url, CARDBATCH_TEST_HOLD_FILE=str(hold))
        procs = [
            subprocess.Popen(cli_command(*ARGS), env=env, cwd=REPO_ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]  # fmt: skip
        deadline = time.monotonic() + 120
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        hold.unlink()
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        refused = next(err for code, _, err in results if code == 2)
        assert "synthetic-items for 2026-05-02 is already running" in refused
        assert "held by pid" in refused
        with store.read() as conn:
            runs = conn.execute(select(job_runs)).all()
            results_n = conn.execute(select(func.count()).select_from(item_results)).scalar_one()
            locks_n = conn.execute(select(func.count()).select_from(run_locks)).scalar_one()
        assert len(runs) == 1 and runs[0].status == "completed" and runs[0].attempts == 1
        assert results_n == ITEMS + 40 and locks_n == 0
        assert ledger.check(store).balanced
    finally:
        store.dispose()
