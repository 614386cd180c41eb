"""A card the cycle blocked or froze takes no new purchases or cash advances in the
post-transactions job; refunds and payments still post (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from cardbatch.domain.transactions import TxnKind, spending_refusal
from cardbatch.engine import EngineSettings, RunRequest, get_job, run_job
from cardbatch.jobs.post_transactions import transaction_file, write_transaction_file
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables_engine import item_results
from tests.e2e.cycle.bank import cycle_through, open_cards, post, status
from tests.integration.cycle.test_cycle_job import STANDARD, _store

D = date
EDGES = "five_category_edges = [1, 91, 121, 181]"


def _post_file(store: Store, tmp_path: Path, day: date, rows: list[tuple[str, ...]]) -> list:
    inbox = tmp_path / "inbox"
    write_transaction_file(transaction_file(inbox, day), rows)
    settings = EngineSettings(chunk_size=2, inbox_dir=inbox, out_dir=tmp_path / "out")
    report = run_job(store, RunRequest(get_job("post-transactions"), day, {}, "tester", settings))
    assert report.status == "completed"
    r = item_results.c
    with store.read() as conn:
        return list(
            conn.execute(
                select(r.status, r.reason_code, r.message)
                .where(r.run_id == report.run_id)
                .order_by(r.seq)
            ).all()
        )


@pytest.mark.parametrize(("setting", "card_status"), [("block", "blocked"), ("freeze", "frozen")])
def test_blocked_or_frozen_card_refuses_spending_but_takes_refunds_and_payments(
    db_url: str, tmp_path: Path, setting: str, card_status: str
) -> None:
    rules = STANDARD.replace(EDGES, f'{EDGES}\n{setting}_from_bucket = "M1"')
    store = _store(db_url, rules)
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20))
    post(store, "p1", card, "purchase", 100_000, D(2024, 3, 30))
    cycle_through(store, D(2024, 4, 24))  # due 04-23 missed: M1 on 04-24
    assert status(store, card)["status_actions"][-1]["to_status"] == card_status
    day = D(2024, 4, 25)
    rows = [
        ("t1", card, "purchase", "50.00", day.isoformat(), "shop"),
        ("t2", card, "cash_advance", "20.00", day.isoformat(), "atm"),
        ("t3", card, "refund", "30.00", day.isoformat(), "return"),
        ("t4", card, "payment", "970.00", day.isoformat(), "counter"),
    ]
    results = _post_file(store, tmp_path, day, rows)
    reason = f"card_{card_status}"
    assert [(r.status, r.reason_code) for r in results] == [
        ("failed", reason),
        ("failed", reason),
        ("succeeded", None),
        ("succeeded", None),
    ]
    assert f"is {card_status}: no new purchase" in results[0].message
    history = ledger.history(store, card)
    assert [line.kind for line in history.lines][-2:] == ["refund", "payment"]
    assert history.balance_fen == 0
    cycle_through(store, day)  # paid in full: the cycle restores the status it set
    assert status(store, card)["status_actions"][-1]["to_status"] == "active"
    later = D(2024, 4, 26)
    again = _post_file(store, tmp_path, later, [("t5", card, "purchase", "50.00",
                                                 later.isoformat(), "shop")])  # fmt: skip
    assert [(r.status, r.reason_code) for r in again] == [("succeeded", None)]
    assert ledger.check(store).balanced
    store.dispose()


def test_only_new_spending_is_refused() -> None:
    for card_status, reason in (("blocked", "card_blocked"), ("frozen", "card_frozen")):
        assert spending_refusal(TxnKind.PURCHASE, card_status) == reason
        assert spending_refusal(TxnKind.CASH_ADVANCE, card_status) == reason
        assert spending_refusal(TxnKind.REFUND, card_status) is None
        assert spending_refusal(TxnKind.PAYMENT, card_status) is None
    assert spending_refusal(TxnKind.PURCHASE, "active") is None
