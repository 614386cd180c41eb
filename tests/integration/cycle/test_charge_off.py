"""Charge-off writes the card's balance off to GL:write_off in one entry, once, with the
reason in the history and the status action (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from cardbatch.domain.cycle.write_off import write_off_entry
from cardbatch.domain.ledger import GL
from cardbatch.money import format_fen
from cardbatch.services import ledger
from cardbatch.store.tables import balances, journal_entries
from tests.e2e.cycle.bank import cycle_through, fee, open_cards, post, statement, status
from tests.integration.cycle.test_cycle_job import STANDARD, _store

D = date
EDGES = "five_category_edges = [1, 91, 121, 181]"


def test_charge_off_moves_every_component_to_write_off(db_url: str) -> None:
    store = _store(db_url, STANDARD.replace(EDGES, f"{EDGES}\ncharge_off_dpd = 5"))
    late, paid = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20), count=2)
    for n, card in enumerate((late, paid)):
        post(store, f"p{n}", card, "purchase", 100_000, D(2024, 3, 30))
        post(store, f"c{n}", card, "cash_advance", 20_000, D(2024, 3, 31))
    fee(store, "annual", late, 3_000, D(2024, 4, 1))
    post(store, "pay", paid, "payment", 120_000, D(2024, 4, 20))
    cycle_through(store, D(2024, 5, 6))  # DPD 5 on 04-28; the May statement is not made
    with store.read() as conn:
        owed = dict(
            conn.execute(
                select(balances.c.component, balances.c.balance_fen).where(
                    balances.c.account_id == late
                )
            ).all()
        )
        written = conn.execute(
            select(journal_entries.c.business_date, journal_entries.c.idempotency_key).where(
                journal_entries.c.kind == "write_off"
            )
        ).all()
    assert set(owed.values()) == {0}
    assert written == [(D(2024, 4, 28), f"card-cycle:2024-04-28:{late}:write_off")]
    april = statement(store, late, D(2024, 4, 5))
    assert april["interest_fen"] == 60  # cash 200.00 x 0.0005 x 6 days (03-31..04-05)
    total_fen = april["closing_balance_fen"] + 1_000  # and the late fee of 04-27
    assert total_fen == 100_000 + 20_000 + 60 + 3_000 + 1_000
    assert ledger.history(store, GL.WRITE_OFF).balance_fen == total_fen
    last = ledger.history(store, late).lines[-1]
    assert (last.kind, last.amount_fen, last.balance_after_fen) == ("write_off", -total_fen, 0)
    assert "charge_off_dpd 5" in last.description
    action = status(store, late)["status_actions"][-1]
    assert action["to_status"] == "charged_off"
    assert f"written off {format_fen(total_fen)} to GL:write_off" in action["reason"]
    assert status(store, paid)["status_actions"] == []
    assert ledger.check(store).balanced
    store.dispose()


def test_nothing_owed_no_entry_and_an_overpayment_is_netted() -> None:
    day = D(2024, 4, 28)
    assert write_off_entry("k", day, "CA1", {"purchase": 0}, "DPD 5") is None
    assert write_off_entry("k", day, "CA1", {"purchase": -500, "fee": 500}, "DPD 5") is None
    entry = write_off_entry("k", day, "CA1", {"purchase": -500, "cash": 2_000}, "DPD 5")
    assert entry is not None
    assert [(p.account_id, p.component, p.amount_fen) for p in entry.postings] == [
        (GL.WRITE_OFF, "balance", 1_500),
        ("CA1", "purchase", 500),
        ("CA1", "cash", -2_000),
    ]
