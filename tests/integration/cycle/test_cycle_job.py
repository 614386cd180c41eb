"""The card-cycle job over real dates on SQLite and PostgreSQL: DOMAIN.md O3, O4, grace,
waiver, allocation switch, two rule versions, auto-repayment and dry run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from cardbatch.engine import RunRequest, get_job, run_job
from cardbatch.engine.settings import load_settings
from cardbatch.jobs.cycle_instalments import convert_to_instalments
from cardbatch.services import ledger
from cardbatch.services.actor import utc_now
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade
from cardbatch.store.tables import balances, journal_entries, postings
from tests.e2e.cycle.bank import (
    EXAMPLE,
    cycle_through,
    fee,
    fund,
    load_rules,
    open_cards,
    post,
    set_autopay,
    statement,
    status,
)
from tests.engine_helpers import dump

STANDARD = EXAMPLE.read_text(encoding="utf-8")
D = date


def _store(url: str, rules_text: str = STANDARD) -> Store:
    bare = open_store(url, require_schema=False)
    upgrade(bare)
    bare.dispose()
    store = open_store(url)
    load_rules(store, rules_text, D(2024, 1, 1))
    return store


def _o3_card(store: Store) -> str:
    """General 8,000.00 (cash 4,520.00 bearing 45.20 of interest), instalment 500.00 of a
    1,500.00 purchase converted into 3 months, fees 30.00."""
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 10))
    post(store, "buy0", card, "purchase", 150_000, D(2024, 3, 12))
    with store.write() as conn:
        plan = convert_to_instalments(conn, card, 150_000, 3, Decimal("0"), D(2024, 3, 12),
                                      "tester", utc_now())  # fmt: skip
    assert plan.first_bill_date == D(2024, 4, 5)
    post(store, "cash1", card, "cash_advance", 452_000, D(2024, 3, 17))
    post(store, "buy1", card, "purchase", 348_000, D(2024, 3, 30))
    fee(store, "f1", card, 3_000, D(2024, 3, 30))
    return card


@pytest.mark.parametrize(("paid_fen", "late_fee_fen"), [(100_000, 1876), (130_000, 1000)])
def test_o3_minimum_and_late_fee(db_url: str, paid_fen: int, late_fee_fen: int) -> None:
    store = _store(db_url)
    card = _o3_card(store)
    cycle_through(store, D(2024, 4, 5))
    april = statement(store, card, D(2024, 4, 5))
    assert (april["interest_fen"], april["instalment_fen"], april["fees_fen"]) == (
        4520,
        50_000,
        3_000,
    )
    assert (april["purchases_fen"], april["cash_fen"], april["credits_fen"]) == (
        498_000,
        452_000,
        150_000,
    )
    assert april["minimum_payment_fen"] == 137_520
    assert april["unbilled_instalment_fen"] == 100_000
    post(store, "pay1", card, "payment", paid_fen, D(2024, 4, 20))
    cycle_through(store, D(2024, 5, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert may["late_fee_fen"] == late_fee_fen
    assert (may["instalment_fen"], may["unbilled_instalment_fen"]) == (50_000, 50_000)
    store.dispose()


def test_o4_delinquency_buckets_and_classes(db_url: str) -> None:
    store = _store(db_url)
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20))
    post(store, "p1", card, "purchase", 100_000, D(2024, 3, 30))
    expected = [
        (D(2024, 4, 23), 0, "M0", "normal"),
        (D(2024, 4, 24), 1, "M1", "special_mention"),
        (D(2024, 7, 22), 90, "M3", "special_mention"),
        (D(2024, 7, 23), 91, "M4", "substandard"),
        (D(2024, 8, 22), 121, "M5", "doubtful"),
        (D(2024, 10, 21), 181, "M7", "loss"),
    ]
    for day, dpd, bucket, category in expected:
        cycle_through(store, day)
        found = status(store, card)
        assert (found["dpd"], found["bucket"], found["five_category"]) == (dpd, bucket, category)
    history = [
        (h["business_date"], h["bucket"]) for h in status(store, card)["delinquency_history"]
    ]
    assert history[0] == (D(2024, 4, 24), "M1")
    assert (D(2024, 7, 23), "M4") in history
    assert history[-1] == (D(2024, 10, 21), "M7")
    store.dispose()


def _one_purchase(store: Store) -> str:
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20))
    post(store, "p1", card, "purchase", 100_000, D(2024, 3, 30))
    return card


def test_paid_in_full_within_grace_is_on_time(db_url: str) -> None:
    store = _store(db_url)
    card = _one_purchase(store)
    post(store, "pay", card, "payment", 100_000, D(2024, 4, 26))  # due 04-23 + 3 days grace
    cycle_through(store, D(2024, 5, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert (may["interest_fen"], may["late_fee_fen"], may["closing_balance_fen"]) == (0, 0, 0)
    assert status(store, card)["delinquency_history"][-1]["bucket"] == "M0"
    store.dispose()


def test_paid_the_day_after_grace_is_late(db_url: str) -> None:
    store = _store(db_url)
    card = _one_purchase(store)
    post(store, "pay", card, "payment", 100_000, D(2024, 4, 27))
    cycle_through(store, D(2024, 5, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert may["late_fee_fen"] == 1000  # charged on 04-27 before the payment
    # 1,000.00 x 0.0005 x 28 days (03-30..04-26) = 14.00; the payment pays the late fee
    # first, so 10.00 of purchases stays for 9 days (04-27..05-05): 0.045; 14.045 -> 14.05
    assert may["interest_fen"] == 1405
    store.dispose()


def test_unpaid_at_waiver_threshold_has_no_interest_nor_late_fee(db_url: str) -> None:
    store = _store(db_url)
    card = _one_purchase(store)
    post(store, "pay", card, "payment", 99_000, D(2024, 4, 23))  # leaves 10.00 = threshold
    cycle_through(store, D(2024, 5, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert (may["interest_fen"], may["late_fee_fen"]) == (0, 0)
    assert status(store, card)["dpd"] == 0
    store.dispose()


def test_two_rule_versions_each_on_its_own_dates(db_url: str) -> None:
    store = _store(db_url)
    second = STANDARD.replace('daily_rate = "0.0005"', 'daily_rate = "0.0004"').replace(
        "floor_fen = 1000                  # at least RMB 10.00\n# cap",
        "floor_fen = 2000\n# cap",
    )
    assert second.count("floor_fen = 2000") == 1
    load_rules(store, second, D(2024, 4, 6))
    card = _one_purchase(store)
    cycle_through(store, D(2024, 5, 5))
    april = statement(store, card, D(2024, 4, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert (april["rule_version"], april["minimum_payment_fen"]) == ("STD@1", 10_000)
    assert may["rule_version"] == "STD@2"
    assert may["late_fee_fen"] == 2000  # 04-27: the second version's floor
    assert may["interest_fen"] == 1480  # 1,000.00 x 0.0004 x 37 days
    store.dispose()


def _autopay_credits(store: Store, card: str) -> list[tuple[str, int]]:
    je, p = journal_entries.c, postings.c
    with store.read() as conn:
        rows = conn.execute(
            select(p.component, p.amount_fen)
            .join(journal_entries, je.entry_id == p.entry_id)
            .where(je.kind == "autopay", p.account_id == card)
            .order_by(p.component)
        ).all()
    return [(c, int(a)) for c, a in rows]


def test_autopay_allocation_switches_at_configured_dpd(db_url: str) -> None:
    rules = STANDARD.replace("delinquent_from_dpd = 91", "delinquent_from_dpd = 2")
    store = _store(db_url, rules)
    cards = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20), count=2)
    for n, card in enumerate(cards):
        set_autopay(store, card, "minimum")
        post(store, f"p{n}", card, "purchase", 100_000, D(2024, 3, 30))
        fee(store, f"f{n}", card, 3_000, D(2024, 3, 30))
    fund(store, "d0", "D000000000", 500_000, D(2024, 4, 1))
    cycle_through(store, D(2024, 4, 24))
    fund(store, "d1", "D000000001", 500_000, D(2024, 4, 25))
    cycle_through(store, D(2024, 4, 26))
    # paid on the due date (DPD 0): current order, the fee first
    assert _autopay_credits(store, cards[0]) == [("fee", -3_000), ("purchase", -10_000)]
    # retried on 04-25 (DPD 2): delinquent order, principal first
    assert _autopay_credits(store, cards[1]) == [("purchase", -13_000)]
    attempts = status(store, cards[1])["autopay_attempts"]
    assert [(a["attempt_date"], a["status"], a["reason_code"]) for a in attempts] == [
        (D(2024, 4, 23), "declined", "AM04"),
        (D(2024, 4, 24), "declined", "AM04"),
        (D(2024, 4, 25), "debited", None),
    ]
    store.dispose()


def test_autopay_closed_and_frozen_deposits_are_declined(db_url: str) -> None:
    from sqlalchemy import update

    from cardbatch.store.tables import deposit_accounts

    store = _store(db_url)
    cards = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20), count=2)
    for n, card in enumerate(cards):
        set_autopay(store, card, "full")
        post(store, f"p{n}", card, "purchase", 100_000, D(2024, 3, 30))
    with store.write() as conn:
        for deposit, state in (("D000000000", "closed"), ("D000000001", "frozen")):
            conn.execute(
                update(deposit_accounts)
                .where(deposit_accounts.c.account_id == deposit)
                .values(status=state)
            )
    cycle_through(store, D(2024, 4, 23))
    codes = [status(store, c)["autopay_attempts"][0]["reason_code"] for c in cards]
    assert codes == ["AC04", "AC06"]
    store.dispose()


def test_dry_run_reports_and_writes_nothing(db_url: str) -> None:
    store = _store(db_url)
    card = _one_purchase(store)
    cycle_through(store, D(2024, 4, 4))
    before = dump(store)
    rehearsal = cycle_through(store, D(2024, 4, 5), dry_run=True)[-1]
    assert dump(store) == before
    assert rehearsal.report is not None
    steps = {s.name: s for s in rehearsal.report.steps}
    assert steps["statement"].items_succeeded == 1
    real = cycle_through(store, D(2024, 4, 5))[-1]
    assert real.status == "completed"
    assert statement(store, card, D(2024, 4, 5))["closing_balance_fen"] == 100_000
    store.dispose()


def test_rerun_posts_nothing_twice_and_statement_matches_ledger(db_url: str) -> None:
    store = _store(db_url)
    card = _one_purchase(store)
    post(store, "cash", card, "cash_advance", 20_000, D(2024, 3, 25))
    cycle_through(store, D(2024, 4, 5))
    closing = statement(store, card, D(2024, 4, 5))["closing_balance_fen"]
    with store.read() as conn:
        owed = conn.execute(
            select(func.sum(balances.c.balance_fen)).where(balances.c.account_id == card)
        ).scalar_one()
    assert closing == owed == 120_000 + 20_000 * 12 * 5 // 10_000  # cash interest 12 days
    entries_before = dump(store)["journal_entries"]
    request = RunRequest(get_job("card-cycle"), D(2024, 4, 5), {}, "tester", load_settings(),
                         rerun=True)  # fmt: skip
    again = run_job(store, request)
    assert again.status == "completed"
    assert dump(store)["journal_entries"] == entries_before
    assert ledger.check(store).balanced
    store.dispose()


def test_status_actions_by_bucket(db_url: str) -> None:
    rules = STANDARD.replace(
        "five_category_edges = [1, 91, 121, 181]",
        'five_category_edges = [1, 91, 121, 181]\nblock_from_bucket = "M1"\n'
        'freeze_from_bucket = "M2"\ncharge_off_dpd = 40',
    )
    assert "charge_off_dpd = 40" in rules
    store = _store(db_url, rules)
    late, cured = open_cards(store, statement_day=5, opened_on=D(2024, 3, 20), count=2)
    for n, card in enumerate((late, cured)):
        post(store, f"p{n}", card, "purchase", 100_000, D(2024, 3, 30))
    post(store, "pay", cured, "payment", 100_000, D(2024, 4, 25))
    cycle_through(store, D(2024, 6, 2))
    changes = [(c["business_date"], c["to_status"]) for c in status(store, late)["status_actions"]]
    assert changes == [
        (D(2024, 4, 24), "blocked"),
        (D(2024, 5, 24), "frozen"),
        (D(2024, 6, 2), "charged_off"),
    ]
    assert "charge_off_dpd 40" in status(store, late)["status_actions"][-1]["reason"]
    back = [(c["business_date"], c["to_status"]) for c in status(store, cured)["status_actions"]]
    assert back == [(D(2024, 4, 24), "blocked"), (D(2024, 4, 25), "active")]
    store.dispose()
