"""Instalment plans, auto-repayment decisions (domain == kernel) and explanations."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardbatch.domain.cycle import autopay, explain, instalments, interest, late_fee, minimum
from cardbatch.domain.product import cmb_like
from cardbatch.jobs import cycle_kernels


def test_instalment_plan_splits_principal_and_fee():
    plan = instalments.convert(
        1_000_000, 3, Decimal("0.6"), first_bill_date=date(2024, 5, 31), statement_day=31
    )
    assert [line.principal_fen for line in plan.lines] == [333_334, 333_333, 333_333]
    assert plan.fee_fen == 18_000  # 0.6 % x 10,000.00 x 3 months
    assert [line.fee_fen for line in plan.lines] == [6000, 6000, 6000]
    assert [line.bill_date for line in plan.lines] == [
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    ]
    assert plan.billed_on(date(2024, 6, 30)) == plan.lines[1]
    assert plan.unbilled_principal_fen(date(2024, 5, 31)) == 666_666


@pytest.mark.parametrize(
    ("policy", "fee_fen", "waived_fen"),
    [("charge_remaining_fees", 12_000, 0), ("waive_remaining_fees", 0, 12_000)],
)
def test_early_payoff_bills_the_unbilled_principal(policy, fee_fen, waived_fen):
    plan = instalments.convert(
        1_000_000, 3, Decimal("0.6"), first_bill_date=date(2024, 5, 5), statement_day=5
    )
    payoff = instalments.early_payoff(plan, date(2024, 5, 5), policy)
    assert (payoff.principal_fen, payoff.fee_fen, payoff.waived_fee_fen) == (
        666_666,
        fee_fen,
        waived_fen,
    )


def test_instalment_conversion_refuses_bad_values():
    with pytest.raises(instalments.InstalmentError, match="one of"):
        instalments.convert(
            1000, 5, Decimal("0.6"), first_bill_date=date(2024, 5, 5), statement_day=5
        )
    with pytest.raises(instalments.InstalmentError, match="must be positive"):
        instalments.convert(0, 3, Decimal("0.6"), first_bill_date=date(2024, 5, 5), statement_day=5)


AUTOPAY_TERMS = cmb_like()


@pytest.mark.parametrize(
    ("choice", "available", "status", "terms_changes", "expected"),
    [
        ("full", 200_000, "active", {}, ("debited", 100_000, "full", None)),
        ("full", 50_000, "active", {}, ("debited", 10_000, "minimum", None)),
        (
            "full",
            50_000,
            "active",
            {"autopay_fallback_to_minimum": False},
            ("declined", 0, "none", "AM04"),
        ),
        (
            "full",
            5_000,
            "active",
            {"autopay_allow_partial": True},
            ("debited", 5_000, "partial", None),
        ),
        ("minimum", 5_000, "active", {}, ("declined", 0, "none", "AM04")),
        ("minimum", 999_999, "closed", {}, ("declined", 0, "none", "AC04")),
        ("minimum", 999_999, "frozen", {}, ("declined", 0, "none", "AC06")),
    ],
)
def test_autopay_decisions(choice, available, status, terms_changes, expected):
    terms = cmb_like(**terms_changes)
    decision = autopay.decide(
        choice,
        statement_balance_fen=100_000,
        minimum_fen=10_000,
        paid_fen=0,
        available_fen=available,
        deposit_status=status,
        terms=terms,
    )
    assert (decision.outcome, decision.amount_fen, decision.basis, decision.reason_code) == expected


def test_autopay_is_as_of_what_is_still_unpaid():
    decision = autopay.decide(
        "full",
        statement_balance_fen=100_000,
        minimum_fen=10_000,
        paid_fen=30_000,
        available_fen=10**9,
        deposit_status="active",
        terms=AUTOPAY_TERMS,
    )
    assert decision.amount_fen == 70_000
    nothing = autopay.decide(
        "minimum",
        statement_balance_fen=100_000,
        minimum_fen=10_000,
        paid_fen=30_000,
        available_fen=10**9,
        deposit_status="active",
        terms=AUTOPAY_TERMS,
    )
    assert nothing.outcome == "nothing_due"


def test_autopay_attempt_dates_with_retries():
    due = date(2024, 4, 23)
    assert autopay.attempt_dates(due, cmb_like(autopay_retry_days=2)) == [
        date(2024, 4, 23),
        date(2024, 4, 24),
        date(2024, 4, 25),
    ]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["full", "minimum"]),
            st.integers(-1000, 300_000),
            st.integers(0, 50_000),
            st.integers(0, 300_000),
            st.integers(-100, 400_000),
            st.sampled_from(["active", "active", "closed", "frozen"]),
        ),
        min_size=1,
        max_size=30,
    ),
    fallback=st.booleans(),
    partial=st.booleans(),
)
def test_autopay_kernel_equals_domain(rows, fallback, partial):
    terms = cmb_like(autopay_fallback_to_minimum=fallback, autopay_allow_partial=partial)
    frame = pl.DataFrame(
        [
            {
                "account_id": i,
                "autopay_choice": c,
                "statement_balance_fen": b,
                "minimum_fen": m,
                "paid_fen": p,
                "available_fen": a,
                "deposit_status": s,
            }
            for i, (c, b, m, p, a, s) in enumerate(rows)
        ]
    )
    got = cycle_kernels.autopay_decisions(frame, terms).to_dicts()
    for (c, b, m, p, a, s), row in zip(rows, got, strict=True):
        expected = autopay.decide(
            c,
            statement_balance_fen=b,
            minimum_fen=m,
            paid_fen=p,
            available_fen=a,
            deposit_status=s,
            terms=terms,
        )
        assert {k: row[k] for k in ("outcome", "amount_fen", "basis", "reason_code")} == asdict(
            expected
        )


def test_explain_o1_interest_line_by_line():
    terms = cmb_like()
    history = ((date(2024, 3, 30), 100_000), (date(2024, 4, 23), 90_000))
    item = interest.ItemHistory("purchase", date(2024, 3, 30), 1, history)
    period = interest.Period(
        date(2024, 4, 6), date(2024, 5, 5), date(2024, 3, 6), date(2024, 4, 26)
    )
    lines = interest.period_interest_lines([item], period, True, terms)
    texts = [line.text for line in explain.explain_interest(lines, terms, applies=True)]
    assert texts == [
        "purchase posted 2024-03-30: 1,000.00 x 0.0005 x 24 days (2024-03-30..2024-04-22) = 12.00",
        "purchase posted 2024-03-30: 900.00 x 0.0005 x 13 days (2024-04-23..2024-05-05) = 5.85",
        "interest (full_balance) exact 17.85, rounded half-up once = 17.85",
    ]


def test_explain_late_fee_and_minimum():
    terms = cmb_like()
    fee = late_fee.late_fee(137_520, 857_520, 100_000, terms)
    assert explain.explain_late_fee(fee, terms)[0].text == (
        "late fee: 5% x unpaid minimum 375.20 = 18.76, floor 10.00 -> 18.76"
    )
    breakdown = minimum.minimum_payment(
        minimum.MinimumInputs(
            {"purchase": 800_000, "instalment": 50_000, "fee": 3000, "interest": 4520},
            857_520,
        ),
        terms,
    )
    texts = [line.text for line in explain.explain_minimum(breakdown)]
    assert texts[0] == "10% x general balance 8,000.00 = 800.00"
    assert "100% x instalment 500.00" in texts
    assert "100% x interest 45.20" in texts
    assert texts[-1].startswith("minimum payment 1,375.20")


def test_explain_o1_from_the_kernel_state_item_by_item():
    from cardbatch.domain.cycle.period import run_account_period
    from tests.reference.cycle_reference import RefAccount, Txn
    from tests.reference.frames import empty_lots, new_accounts_frame, txns_frame

    terms = cmb_like()
    accounts = new_accounts_frame([RefAccount(1, 5, 10**7, terms, opened=date(2024, 3, 6))])
    first_txns = txns_frame([(1, Txn(date(2024, 3, 30), 1, "purchase", 100_000))])
    first = cycle_kernels.run_period(accounts, empty_lots(), first_txns, terms)
    pay = txns_frame([(1, Txn(date(2024, 4, 23), 1, "payment", 10_000))])
    inputs = cycle_kernels.account_period_inputs(first.accounts, first.lots, pay, 1)
    outcome = run_account_period(*inputs, terms)
    texts = [line.text for line in explain.explain_period(outcome, terms)]
    assert texts[:4] == [
        "purchases of the last statement, from their posting dates to that statement: "
        "7000.00 yuan-days x 0.0005 = 3.50",
        "purchase posted 2024-03-30: 1,000.00 x 0.0005 x 17 days (2024-04-06..2024-04-22) = 8.50",
        "purchase posted 2024-03-30: 900.00 x 0.0005 x 13 days (2024-04-23..2024-05-05) = 5.85",
        "interest (full_balance) exact 17.85, rounded half-up once = 17.85",
    ]
    assert texts[4] == "minimum covered by due date + grace: no late fee"
    assert outcome.statement.interest_fen == 1785


def test_explain_autopay_fallback_to_minimum():
    terms = cmb_like()
    facts = {
        "statement_balance_fen": 100_000,
        "minimum_fen": 10_000,
        "paid_fen": 0,
        "available_fen": 50_000,
    }
    decision = autopay.decide("full", deposit_status="active", terms=terms, **facts)
    (line,) = explain.explain_autopay(decision, choice="full", terms=terms, **facts)
    assert line.text == (
        "autopay (full): still unpaid 1,000.00 of the statement, 100.00 of the minimum; "
        "available 500.00; fallback to minimum on, partial debits off -> debited 100.00 (minimum)"
    )


def test_product_terms_field_names_match_the_rule_set_mapping():
    import dataclasses

    from cardbatch.domain.product import ProductTerms

    assert {f.name for f in dataclasses.fields(ProductTerms)} == {
        "product_code", "due_days", "grace_days", "daily_rate", "interest_mode",
        "cash_from_transaction_date", "waiver_threshold_fen", "charge_interest_on_fees",
        "min_payment_percent", "min_payment_floor_fen", "min_payment_full_components",
        "late_fee_percent", "late_fee_floor_fen", "late_fee_cap_fen",
        "allocation_order_current", "allocation_order_delinquent", "delinquent_from_dpd",
        "autopay_attempt_offset_days", "autopay_retry_days", "autopay_fallback_to_minimum",
        "autopay_allow_partial", "bucket_edges", "five_category_edges",
    }  # fmt: skip
