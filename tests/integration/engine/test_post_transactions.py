"""The post-transactions job on real sample files: every reason code, whole-file errors."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cardbatch.engine import EngineSettings, RunReport, RunRequest, get_job, run_job
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_engine import item_results
from tests.engine_helpers import ACTOR
from tests.integration.engine.test_night import load_bank

DAY = date(2026, 1, 2)
DATA = Path(__file__).resolve().parents[2] / "data"


def _run(store: Store, tmp_path: Path, sample: Path, chunk_size: int = 4) -> RunReport:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    shutil.copy(sample, inbox / "transactions_20260102.csv")
    settings = EngineSettings(chunk_size=chunk_size, inbox_dir=inbox, out_dir=tmp_path / "out")
    return run_job(store, RunRequest(get_job("post-transactions"), DAY, {}, ACTOR, settings))


def test_every_line_ends_posted_or_failed_with_its_reason(store: Store, tmp_path: Path) -> None:
    load_bank(store)
    with store.write() as conn:
        conn.execute(update(card_accounts).where(card_accounts.c.account_id == "CA0000000003")
                     .values(status="closed"))  # fmt: skip
    sample = DATA / "valid" / "engine" / "post_transactions_every_reason_code.csv"
    report = _run(store, tmp_path, sample)
    assert report.status == "completed"
    with store.read() as conn:
        rows = conn.execute(
            select(item_results.c.item_key, item_results.c.status, item_results.c.reason_code)
            .order_by(item_results.c.seq)
        ).all()  # fmt: skip
    assert [(r.status, r.reason_code) for r in rows] == [
        ("succeeded", None), ("succeeded", None), ("succeeded", None), ("succeeded", None),
        ("failed", "bad_txn_id"), ("failed", "bad_kind"), ("failed", "bad_amount"),
        ("failed", "bad_amount"), ("failed", "date_mismatch"), ("failed", "unknown_account"),
        ("failed", "account_closed"), ("failed", "duplicate_txn"), ("succeeded", None),
    ]  # fmt: skip
    history = ledger.history(store, "CA0000000001")
    assert [line.kind for line in history.lines] == ["purchase", "cash_advance", "payment"]
    assert history.balance_fen == 120_50 + 500_00 - 200_00
    rejects = (tmp_path / "out" / "post-transactions" / "2026-01-02" / "rejects.csv").read_text()
    assert rejects.splitlines()[1].startswith("6,bad_txn_id,")
    assert len(rejects.splitlines()) == 1 + 8


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ("post_transactions_wrong_header.csv", "line 1: header must be txn_id,account_id"),
        ("post_transactions_gbk_encoded.csv", "not UTF-8 text"),
    ],
)
def test_an_unusable_file_fails_the_run_with_one_message(
    store: Store, tmp_path: Path, sample: str, message: str
) -> None:
    report = _run(store, tmp_path, DATA / "invalid" / "engine" / sample)
    assert report.status == "failed"
    reason = report.reason or ""
    assert "transactions_20260102.csv" in reason and message in reason
    assert report.items_read == 0
