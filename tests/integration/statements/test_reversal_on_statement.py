"""Issue 10: an upheld double-debit dispute shows on the next statement (SQLite and PostgreSQL).

A purchase the switch sent twice is disputed through feedback, upheld with a
reversal (maker proposes, checker approves), posted by the corrections job, and
the nightly cycle then bills the next statement: the reversal is a credit of
that period (``credits_fen``), it is among the period's lines, and the
statement identity holds.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cardbatch.engine import EngineSettings
from cardbatch.feedback import service
from cardbatch.feedback.job import run_corrections
from cardbatch.feedback.model import Category, Channel, CorrectionKind
from cardbatch.services import ledger
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade
from tests.e2e.cycle.bank import EXAMPLE, cycle_through, load_rules, open_cards, post, statement

MAKER, CHECKER = "agent01", "super01"
D = date


def test_next_statement_shows_the_reversal(store: Store, tmp_path: Path) -> None:
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), D(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20))
    post(store, "dup-a", card, "purchase", 38_800, D(2024, 3, 30))
    post(store, "dup-b", card, "purchase", 38_800, D(2024, 3, 30))
    post(store, "cafe", card, "purchase", 2_000, D(2024, 4, 2))
    cycle_through(store, D(2024, 4, 5))
    april = statement(store, card, D(2024, 4, 5))
    assert (april["purchases_fen"], april["closing_balance_fen"]) == (79_600, 79_600)

    fix_day = D(2024, 4, 9)
    cycle_through(store, fix_day)
    record = service.add_feedback(
        store, account_id=card, channel=Channel.CALL_CENTRE, category=Category.DOUBLE_DEBIT,
        text="扣款不对: charged twice", business_date=fix_day, actor=MAKER,
    )  # fmt: skip
    assert [link.entry_key for link in record.links] == ["txn:dup-a", "txn:dup-b"]
    resolved = service.resolve(
        store, record.feedback_id, "duplicate from the switch; reversed", MAKER,
        corrections_wanted=[(CorrectionKind.REVERSAL, "txn:dup-b")], business_date=fix_day,
    )  # fmt: skip
    service.approve_correction(store, resolved.corrections[0].correction_id, CHECKER)
    settings = EngineSettings(chunk_size=5, inbox_dir=tmp_path / "in", out_dir=tmp_path / "out")
    assert run_corrections(store, fix_day, CHECKER, settings).items_succeeded == 1
    assert ledger.check(store).balanced

    cycle_through(store, D(2024, 5, 5))
    may = statement(store, card, D(2024, 5, 5))  # asserts the identity
    assert may["opening_balance_fen"] == 79_600
    assert may["credits_fen"] == 38_800
    assert may["payments_fen"] == 0
    assert may["purchases_fen"] == 0
    reversals = [line for line in may["lines"] if line["kind"] == "reversal"]
    assert [(r["date"], r["component"], r["amount_fen"]) for r in reversals] == [
        (fix_day, "purchase", -38_800)
    ]
    assert ledger.history(store, card).balance_fen == may["closing_balance_fen"]


def test_a_reversed_payment_is_billed_again(sqlite_url: str, tmp_path: Path) -> None:
    """A counter payment posted twice: its reversal debits the card, a charge of the period."""
    bare = open_store(sqlite_url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    store = open_store(sqlite_url)
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), D(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20))
    post(store, "buy", card, "purchase", 100_000, D(2024, 3, 30))
    cycle_through(store, D(2024, 4, 27))  # after due date + grace: interest and fee are set
    post(store, "pay-a", card, "payment", 30_000, D(2024, 4, 28))
    post(store, "pay-b", card, "payment", 30_000, D(2024, 4, 28))
    fix_day = D(2024, 4, 30)
    record = service.add_feedback(
        store, account_id=card, channel=Channel.BRANCH, category=Category.OTHER,
        text="one payment keyed twice", business_date=fix_day, actor=MAKER,
        entry_keys=["txn:pay-b"],
    )  # fmt: skip
    resolved = service.resolve(
        store, record.feedback_id, "keyed twice; reversed", MAKER,
        corrections_wanted=[(CorrectionKind.REVERSAL, "txn:pay-b")], business_date=fix_day,
    )  # fmt: skip
    service.approve_correction(store, resolved.corrections[0].correction_id, CHECKER)
    settings = EngineSettings(chunk_size=5, inbox_dir=tmp_path / "in", out_dir=tmp_path / "out")
    assert run_corrections(store, fix_day, CHECKER, settings).items_succeeded == 1

    cycle_through(store, D(2024, 5, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert (may["payments_fen"], may["purchases_fen"], may["credits_fen"]) == (60_000, 30_000, 0)
    assert may["late_fee_fen"] == 1000  # O1: nothing paid by due date + grace
    charges = may["interest_fen"] + may["late_fee_fen"]
    assert may["closing_balance_fen"] == 100_000 - 60_000 + 30_000 + charges
    reversals = [line for line in may["lines"] if line["kind"] == "reversal"]
    assert [(r["date"], r["amount_fen"]) for r in reversals] == [(fix_day, 30_000)]
    assert ledger.history(store, card).balance_fen == may["closing_balance_fen"]
    store.dispose()
