"""The combined deposit-credit card (存贷合一卡): the cycle sweeps the linked deposit against
the card every night, partially when the deposit is short, never overdrawing it, declined
for closed and frozen deposits (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.tables import deposit_accounts, journal_entries, postings
from cardbatch.store.tables_engine import item_results
from tests.e2e.cycle.bank import (
    cycle_through,
    fund,
    open_cards,
    post,
    set_autopay,
    statement,
    status,
)
from tests.integration.cycle.test_cycle_job import STANDARD, _store

D = date
SWEEP = STANDARD.replace("[autopay]\n", '[autopay]\nmode = "sweep"\n')


def _sweeps(store: Store, run_id: str | None) -> dict[str, tuple[str, str | None]]:
    r = item_results.c
    with store.read() as conn:
        rows = conn.execute(
            select(r.item_key, r.status, r.reason_code).where(
                r.run_id == run_id, r.item_key.like("%:sweep")
            )
        ).all()
    return {key.removesuffix(":sweep"): (status, reason) for key, status, reason in rows}


def _swept(store: Store, card: str) -> list[tuple[date, str, int]]:
    je, p = journal_entries.c, postings.c
    with store.read() as conn:
        rows = conn.execute(
            select(je.business_date, p.component, p.amount_fen)
            .join(journal_entries, je.entry_id == p.entry_id)
            .where(je.kind == "sweep", p.account_id == card)
            .order_by(je.business_date, p.component)
        ).all()
    return [(d, c, int(a)) for d, c, a in rows]


def _set_deposit(store: Store, deposit_id: str, deposit_status: str) -> None:
    with store.write() as conn:
        conn.execute(
            update(deposit_accounts)
            .where(deposit_accounts.c.account_id == deposit_id)
            .values(status=deposit_status)
        )


def test_nightly_sweep_full_partial_and_declined(db_url: str) -> None:
    assert 'mode = "sweep"' in SWEEP
    store = _store(db_url, SWEEP)
    rich, poor = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20), count=2)
    set_autopay(store, rich, "full")  # a sweep product sweeps instead: no autopay attempts
    cycle_through(store, D(2024, 3, 24))  # the cycle reads balances as they stand each night
    fund(store, "r", "D000000000", 300_000, D(2024, 3, 25))
    fund(store, "p", "D000000001", 50_000, D(2024, 3, 25))
    post(store, "r1", rich, "purchase", 100_000, D(2024, 3, 25))
    post(store, "r2", rich, "cash_advance", 20_000, D(2024, 3, 25))
    post(store, "p1", poor, "purchase", 100_000, D(2024, 3, 25))
    night = cycle_through(store, D(2024, 3, 25))[-1]
    assert _sweeps(store, night.run_id) == {rich: ("succeeded", None), poor: ("succeeded", None)}
    # the current allocation order: cash before purchases
    assert _swept(store, rich) == [(D(2024, 3, 25), "cash", -20_000),
                                   (D(2024, 3, 25), "purchase", -100_000)]  # fmt: skip
    assert _swept(store, poor) == [(D(2024, 3, 25), "purchase", -50_000)]  # what was there
    assert ledger.history(store, "D000000000").balance_fen == 180_000
    assert ledger.history(store, "D000000001").balance_fen == 0  # never overdrawn
    last = ledger.history(store, rich).lines[-1]
    assert last.kind == "sweep" and "sweep" in last.description
    night = cycle_through(store, D(2024, 3, 26))[-1]
    assert _sweeps(store, night.run_id) == {rich: ("succeeded", None), poor: ("skipped", "AM04")}
    _set_deposit(store, "D000000000", "closed")
    _set_deposit(store, "D000000001", "frozen")
    post(store, "r3", rich, "purchase", 10_000, D(2024, 3, 27))
    night = cycle_through(store, D(2024, 3, 27))[-1]
    assert _sweeps(store, night.run_id) == {rich: ("skipped", "AC04"), poor: ("skipped", "AC06")}
    cycle_through(store, D(2024, 4, 5))
    april = statement(store, rich, D(2024, 4, 5))
    assert (april["payments_fen"], april["closing_balance_fen"]) == (120_000, 10_000)
    assert statement(store, poor, D(2024, 4, 5))["payments_fen"] == 50_000
    cycle_through(store, D(2024, 4, 24))  # due date 04-23 passes
    assert status(store, rich)["autopay_attempts"] == []
    assert ledger.check(store).balanced
    store.dispose()
