"""Early payoff of an instalment plan (提前还款): the next statement bills the principal left,
the fees of the unbilled instalments waived or billed as the product says (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cardbatch.jobs.cycle_instalments import (
    InstalmentRefused,
    convert_to_instalments,
    pay_off_instalments,
)
from cardbatch.services.actor import utc_now
from tests.e2e.cycle.bank import cycle_through, open_cards, post, statement
from tests.integration.cycle.test_cycle_job import STANDARD, _store

D = date
CHARGE = '\n[instalment]\nearly_payoff_fee = "charge_remaining_fees"\n'


@pytest.mark.parametrize(("rules_tail", "fee_fen", "waived_fen"), [("", 0, 1_500),
                                                                   (CHARGE, 1_500, 0)])  # fmt: skip
def test_payoff_bills_the_principal_left_on_the_next_statement(
    db_url: str, rules_tail: str, fee_fen: int, waived_fen: int
) -> None:
    store = _store(db_url, STANDARD + rules_tail)
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 10))
    post(store, "buy", card, "purchase", 150_000, D(2024, 3, 12))
    with store.write() as conn:  # 3 x 500.00, fee 0.5 % a month: 7.50 each month
        plan = convert_to_instalments(conn, card, 150_000, 3, Decimal("0.5"), D(2024, 3, 12),
                                      "tester", utc_now())  # fmt: skip
    cycle_through(store, D(2024, 4, 5))
    april = statement(store, card, D(2024, 4, 5))
    assert (april["instalment_fen"], april["fees_fen"]) == (50_000, 750)
    assert april["unbilled_instalment_fen"] == 100_000
    post(store, "pay", card, "payment", april["closing_balance_fen"], D(2024, 4, 20))
    with store.write() as conn:
        done = pay_off_instalments(conn, plan.plan_id, D(2024, 4, 20))
    assert (done.bill_date, done.principal_fen) == (D(2024, 5, 5), 100_000)
    assert (done.fee_fen, done.waived_fee_fen) == (fee_fen, waived_fen)
    with store.write() as conn, pytest.raises(InstalmentRefused, match="was paid off on"):
        pay_off_instalments(conn, plan.plan_id, D(2024, 4, 21))
    cycle_through(store, D(2024, 6, 5))
    may = statement(store, card, D(2024, 5, 5))
    assert (may["instalment_fen"], may["fees_fen"], may["unbilled_instalment_fen"]) == (
        100_000,
        fee_fen,
        0,
    )
    assert may["minimum_payment_fen"] >= 100_000  # billed instalments count in full
    assert may["closing_balance_fen"] == 100_000 + fee_fen
    june = statement(store, card, D(2024, 6, 5))
    assert (june["instalment_fen"], june["unbilled_instalment_fen"]) == (0, 0)
    store.dispose()


def test_payoff_refusals(db_url: str) -> None:
    store = _store(db_url)
    (card,) = open_cards(store, statement_day=5, opened_on=D(2024, 3, 10))
    post(store, "buy", card, "purchase", 150_000, D(2024, 3, 12))
    with store.write() as conn:
        plan = convert_to_instalments(conn, card, 150_000, 3, Decimal("0"), D(2024, 3, 12),
                                      "tester", utc_now())  # fmt: skip
    with store.write() as conn, pytest.raises(InstalmentRefused, match="no instalment plan"):
        pay_off_instalments(conn, f"{card}:9", D(2024, 3, 20))
    with store.write() as conn, pytest.raises(InstalmentRefused, match="every instalment"):
        pay_off_instalments(conn, plan.plan_id, D(2024, 6, 5))
    cycle_through(store, D(2024, 4, 5))
    with store.write() as conn, pytest.raises(InstalmentRefused, match="statement of 2024-04-05"):
        pay_off_instalments(conn, plan.plan_id, D(2024, 4, 1))
    store.dispose()
