"""The correction batch killed with SIGKILL mid-run, then run again: each correction posts once."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardbatch.feedback import service
from cardbatch.feedback.model import CorrectionKind
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries
from tests.engine_helpers import REPO_ROOT, cli_command, cli_env
from tests.feedback_helpers import (
    DOUBLE_AMOUNT_FEN,
    FIX_DAY,
    file_double_debit,
    post_fee,
    seed_double_debit,
    uphold,
)

KILL_POINTS = ["post:0:after_post", "post:0:in_commit", "post:1:before_commit",
               "post:0:after_commit"]  # fmt: skip
RUN_ARGS = ("feedback", "run-corrections", "--date", FIX_DAY.isoformat(), "--chunk-size", "1")


def _prepare(store: Store, tmp_path: Path) -> tuple[str, str, str]:
    card, (_first, second) = seed_double_debit(store, tmp_path)
    fee_key = post_fee(store, card)
    uphold(store, file_double_debit(store, card),
           [(CorrectionKind.REVERSAL, second), (CorrectionKind.WAIVER, fee_key)])  # fmt: skip
    return card, second, fee_key


def _run(db_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*RUN_ARGS, "--json"), env=cli_env(db_url, **env),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


def _count(store: Store, key: str) -> int:
    with store.read() as conn:
        query = select(func.count()).where(journal_entries.c.idempotency_key == key)
        return int(conn.execute(query).scalar_one())


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_killed_correction_batch_reruns_to_exactly_one_reversal(
    store: Store, db_url: str, tmp_path: Path, kill_at: str
) -> None:
    card, second, fee_key = _prepare(store, tmp_path)
    before_fen = ledger.history(store, card).balance_fen
    killed = _run(db_url, CARDBATCH_FAULT=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = _run(db_url)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    again = _run(db_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "already_completed"

    assert _count(store, f"reversal:{second}") == 1
    assert _count(store, f"waiver:{fee_key}") == 1
    assert _count(store, second) == 1
    assert ledger.check(store).balanced
    history = ledger.history(store, card)
    assert [line.kind for line in history.lines].count("reversal") == 1
    assert history.balance_fen == before_fen - DOUBLE_AMOUNT_FEN - 25_00
    assert all(c.status == "posted" for c in service.list_corrections(store, FIX_DAY))
