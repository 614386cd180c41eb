"""Helpers shared by the feedback tests: a bank whose card switch sent one purchase twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.engine import EngineSettings, RunRequest, get_job, run_job
from cardbatch.feedback import service
from cardbatch.feedback.model import Category, Channel, CorrectionKind
from cardbatch.jobs.post_transactions import transaction_file, write_transaction_file
from cardbatch.services import ledger
from cardbatch.store import Store
from tests.engine_helpers import ACTOR
from tests.integration.engine.test_night import load_bank

DAY = date(2026, 1, 2)
FIX_DAY = date(2026, 1, 9)
DOUBLE_AMOUNT_FEN = 388_00
FEE_AMOUNT_FEN = 25_00


def seed_double_debit(store: Store, tmp_path: Path) -> tuple[str, list[str]]:
    """Post a day's file in which the switch sent one purchase twice under two ids.

    Returns the card account and the keys of the two entries.
    """
    bank = load_bank(store)
    card = bank.cards[0].account_id
    other = bank.cards[1].account_id
    day = DAY.isoformat()
    rows = [
        ("DUP-A", card, "purchase", "388.00", day, "Mall 1"),
        ("OTHER-1", other, "purchase", "12.00", day, "Cafe"),
        ("DUP-B", card, "purchase", "388.00", day, "Mall 1"),
        ("OTHER-2", card, "purchase", "20.00", day, "Cafe"),
    ]
    inbox = tmp_path / "inbox"
    write_transaction_file(transaction_file(inbox, DAY), rows)
    settings = EngineSettings(chunk_size=2, inbox_dir=inbox, out_dir=tmp_path / "out")
    report = run_job(store, RunRequest(get_job("post-transactions"), DAY, {}, ACTOR, settings))
    assert report.status == "completed"
    return card, ["txn:DUP-A", "txn:DUP-B"]


def post_fee(store: Store, card: str) -> str:
    """An annual fee on the card, posted outside the engine; returns its key."""
    key = f"fee:{DAY.isoformat()}:{card}"
    entry = transfer(key, DAY, EntryKind.FEE, (card, Component.FEE),
                     (GL.FEE_INCOME, Component.BALANCE), FEE_AMOUNT_FEN,
                     description="annual fee", run_id="annual-fee:20260102")  # fmt: skip
    ledger.post(store, [entry], ACTOR)
    return key


def file_double_debit(store: Store, card: str) -> service.FeedbackRecord:
    """A call-centre complaint of a double debit on ``card``, filed on FIX_DAY."""
    return service.add_feedback(
        store, account_id=card, channel=Channel.CALL_CENTRE, category=Category.DOUBLE_DEBIT,
        text="charged twice", business_date=FIX_DAY, actor="agent01",
    )  # fmt: skip


def uphold(
    store: Store, record: service.FeedbackRecord, wanted: list[tuple[CorrectionKind, str]]
) -> None:
    """Resolve the complaint with the ``wanted`` corrections, each approved by a second user."""
    resolved = service.resolve(
        store, record.feedback_id, "upheld: corrections follow", "agent01",
        corrections_wanted=wanted, business_date=FIX_DAY,
    )  # fmt: skip
    for correction in resolved.corrections:
        service.approve_correction(store, correction.correction_id, "super01")
