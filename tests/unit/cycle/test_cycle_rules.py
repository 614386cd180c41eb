"""Grace, paid in full, waiver threshold, fees, cash advances and the allocation switch,
each checked through the reference and the columnar kernels (run_both asserts they agree)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cardbatch.domain.cycle.allocation import Item, allocate, order_for
from cardbatch.domain.cycle.statement import Statement, StatementIdentityError
from cardbatch.domain.product import cmb_like
from tests.reference.cycle_reference import Txn
from tests.reference.scenario import run_both

DUE = date(2024, 4, 23)  # statement 2024-04-05 + 18 days; grace end 04-26
PURCHASE = Txn(date(2024, 3, 30), 1, "purchase", 100_000)


def _pay(day: date, amount_fen: int) -> Txn:
    return Txn(day, 1, "payment", amount_fen)


@pytest.mark.parametrize("mode", ["full_balance", "unpaid_only"])
@pytest.mark.parametrize(("days_after_due", "charged"), [(0, False), (3, False), (4, True)])
def test_full_payment_within_grace_carries_no_interest(mode, days_after_due, charged):
    day = DUE + timedelta(days=days_after_due)
    run = run_both(cmb_like(interest_mode=mode), [[PURCHASE], [_pay(day, 100_000)]])
    assert (run.kernel[1]["interest_fen"] > 0) is charged


@pytest.mark.parametrize(("days_after_due", "fee_fen", "dpd"), [(3, 0, 0), (4, 1000, 0)])
def test_minimum_paid_within_grace_is_on_time(days_after_due, fee_fen, dpd):
    day = DUE + timedelta(days=days_after_due)
    run = run_both(cmb_like(), [[PURCHASE], [_pay(day, 10_000)]])
    assert run.kernel[1]["late_fee_fen"] == fee_fen
    assert run.kernel[1]["dpd"] == dpd  # paid before the next statement: current again


def test_dpd_counts_during_grace_and_cures_on_payment():
    run = run_both(cmb_like(), [[PURCHASE], []])
    assert run.kernel[1]["dpd"] == (date(2024, 5, 5) - DUE).days
    assert run.kernel[1]["bucket"] == "M1"


SMALL = Txn(date(2024, 3, 30), 1, "purchase", 1500)  # minimum = floor 10.00


@pytest.mark.parametrize("mode", ["full_balance", "unpaid_only"])
@pytest.mark.parametrize(("paid_fen", "unpaid_fen"), [(600, 900), (500, 1000)])
def test_unpaid_at_or_under_the_threshold_has_no_interest_and_no_late_fee(
    mode, paid_fen, unpaid_fen
):
    run = run_both(cmb_like(interest_mode=mode), [[SMALL], [_pay(DUE, paid_fen)]])
    assert run.kernel[0]["minimum_payment_fen"] == 1000
    assert run.kernel[1]["opening_balance_fen"] - paid_fen == unpaid_fen
    assert run.kernel[1]["interest_fen"] == 0
    assert run.kernel[1]["late_fee_fen"] == 0
    assert run.kernel[1]["dpd"] == 0


@pytest.mark.parametrize("mode", ["full_balance", "unpaid_only"])
def test_unpaid_just_over_the_threshold_has_interest_and_late_fee(mode):
    run = run_both(cmb_like(interest_mode=mode), [[SMALL], [_pay(DUE, 499)]])
    assert run.kernel[1]["interest_fen"] > 0
    assert run.kernel[1]["late_fee_fen"] == 1000


@pytest.mark.parametrize(("on_fees", "charged"), [(False, False), (True, True)])
def test_no_interest_on_fees_unless_the_product_says_so(on_fees, charged):
    annual_fee = Txn(date(2024, 3, 30), 1, "fee", 30_000)
    run = run_both(cmb_like(charge_interest_on_fees=on_fees), [[annual_fee], []])
    assert run.kernel[1]["late_fee_fen"] > 0
    assert (run.kernel[1]["interest_fen"] > 0) is charged


@pytest.mark.parametrize(("from_txn_date", "interest_fen"), [(True, 350), (False, 0)])
def test_cash_advance_interest_from_the_transaction_date(from_txn_date, interest_fen):
    cash = Txn(date(2024, 3, 30), 1, "cash_advance", 100_000)
    run = run_both(cmb_like(cash_from_transaction_date=from_txn_date), [[cash]])
    assert run.kernel[0]["interest_fen"] == interest_fen  # 1000 x 0.0005 x 7 days


def test_allocation_order_switches_at_the_configured_dpd():
    terms = cmb_like(delinquent_from_dpd=10)
    first = [PURCHASE, Txn(date(2024, 3, 30), 2, "cash_advance", 50_000)]
    before = run_both(terms, [first, [_pay(DUE + timedelta(days=9), 1000)]])
    after = run_both(terms, [first, [_pay(DUE + timedelta(days=10), 1000)]])
    state_before = before.states[1].row(0, named=True)
    state_after = after.states[1].row(0, named=True)
    # DPD 9: current order, interest first; the cash advance is untouched
    assert state_before["balance_cash_fen"] == 50_000
    # DPD 10: delinquent order, principal first: the cash advance is paid down
    assert state_after["balance_cash_fen"] == 49_000
    assert state_after["balance_interest_fen"] > state_before["balance_interest_fen"]


def test_allocation_oldest_first_within_a_component():
    items = [
        Item("purchase", date(2024, 4, 10), 1, 5000),
        Item("purchase", date(2024, 3, 30), 1, 5000),
        Item("interest", date(2024, 4, 5), 0, 700),
    ]
    result = allocate(6000, items, cmb_like().allocation_order(0))
    assert result.paid_fen == (300, 5000, 700)
    late = allocate(6000, items, cmb_like().allocation_order(91))
    assert late.paid_fen == (1000, 5000, 0)
    assert cmb_like().allocation_order(90) == cmb_like().allocation_order_current


def test_overpayment_is_held_and_nets_later_charges():
    run = run_both(
        cmb_like(),
        [[PURCHASE], [_pay(DUE, 150_000), Txn(date(2024, 4, 30), 2, "purchase", 20_000)]],
    )
    assert run.kernel[1]["closing_balance_fen"] == -30_000
    assert run.kernel[1]["minimum_payment_fen"] == 0


def test_statement_identity_is_checked():
    good = Statement(
        1,
        date(2024, 5, 5),
        date(2024, 5, 23),
        100_000,
        5000,
        0,
        0,
        10_000,
        0,
        1785,
        0,
        0,
        96_785,
        10_000,
        0,
    )
    assert good.check_identity() is good
    broken = Statement(
        1,
        date(2024, 5, 5),
        date(2024, 5, 23),
        100_000,
        5000,
        0,
        0,
        10_000,
        0,
        1785,
        0,
        0,
        96_786,
        10_000,
        0,
    )
    with pytest.raises(StatementIdentityError, match="closing 96786 fen != lines 96785 fen"):
        broken.check_identity()


def test_instalments_billed_each_cycle_appear_on_the_statement():
    run = run_both(
        cmb_like(), [[PURCHASE], [_pay(DUE, 100_000)]], instalments=[(50_000, 360), (50_000, 360)]
    )
    assert run.kernel[0]["instalment_fen"] == 50_000
    assert run.kernel[0]["fees_fen"] == 360
    assert run.kernel[0]["minimum_payment_fen"] == 10_000 + 50_000 + 360


def test_minimum_never_exceeds_the_balance():
    run = run_both(cmb_like(), [[Txn(date(2024, 3, 30), 1, "purchase", 500)]])
    assert run.kernel[0]["minimum_payment_fen"] == 500  # the floor 10.00 is above the balance


def test_a_refund_lowers_purchases_only():
    first = [PURCHASE, Txn(date(2024, 3, 30), 2, "cash_advance", 50_000)]
    refund = Txn(date(2024, 4, 10), 1, "credit", 10_000)
    run = run_both(cmb_like(), [first, [refund]])
    state = run.states[1].row(0, named=True)
    assert state["balance_purchase_fen"] == 90_000
    assert state["balance_cash_fen"] == 50_000
    assert run.kernel[1]["credits_fen"] == 10_000
    items = [
        Item("interest", date(2024, 4, 5), 0, 700),
        Item("purchase", date(2024, 3, 30), 1, 5000),
    ]
    assert allocate(6000, items, order_for("credit", 0, cmb_like())).paid_fen == (0, 5000)
