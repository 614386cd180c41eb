"""DOMAIN.md worked examples O1, O3 and O4, through the domain functions, the reference
implementation and the columnar kernels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from cardbatch.domain.cycle import delinquency, interest, late_fee, minimum
from cardbatch.domain.cycle.dates import days_past_due
from cardbatch.domain.product import cmb_like
from cardbatch.jobs import cycle_kernels
from tests.reference.cycle_reference import Txn
from tests.reference.scenario import run_both

PURCHASE_0330 = Txn(date(2024, 3, 30), 1, "purchase", 100_000)
PAY_100_ON_DUE = Txn(date(2024, 4, 23), 1, "payment", 10_000)


def test_o1_first_statement_shows_minimum_100_due_04_23():
    run = run_both(cmb_like(), [[PURCHASE_0330]])
    first = run.kernel[0]
    assert first["statement_date"] == date(2024, 4, 5)
    assert first["due_date"] == date(2024, 4, 23)
    assert first["closing_balance_fen"] == 100_000
    assert first["minimum_payment_fen"] == 10_000


@pytest.mark.parametrize(
    ("mode", "interest_fen", "fen_days"),
    [("full_balance", 1785, 1000 * 24 + 900 * 13), ("unpaid_only", 1665, 900 * 37)],
)
def test_o1_interest_after_paying_the_minimum_on_the_due_date(mode, interest_fen, fen_days):
    run = run_both(cmb_like(interest_mode=mode), [[PURCHASE_0330], [PAY_100_ON_DUE]])
    second = run.kernel[1]
    assert second["statement_date"] == date(2024, 5, 5)
    assert second["interest_fen"] == interest_fen
    assert second["interest_fen_days"] == fen_days * 100
    assert run.reference[1].interest_exact_fen == Decimal(interest_fen)
    assert second["late_fee_fen"] == 0


@pytest.mark.parametrize("mode", ["full_balance", "unpaid_only"])
def test_o1_no_payment_interest_18_50_and_late_fee_10_00(mode):
    run = run_both(cmb_like(interest_mode=mode), [[PURCHASE_0330], []])
    second = run.kernel[1]
    assert second["interest_fen"] == 1850
    assert second["late_fee_fen"] == 1000
    assert second["closing_balance_fen"] == 100_000 + 1850 + 1000


def test_o1_mode_a_segments_from_the_domain_function():
    history = ((date(2024, 3, 30), 100_000), (date(2024, 4, 23), 90_000))
    segments = interest.base_segments(history, date(2024, 3, 30), date(2024, 5, 5), None)
    assert [(s.base_fen, s.days) for s in segments] == [(100_000, 24), (90_000, 13)]
    assert interest.exact_interest(segments, Decimal("0.0005")) == Decimal(1785)
    held = interest.base_segments(
        history, date(2024, 3, 30), date(2024, 5, 5), hold_until=date(2024, 4, 26)
    )
    assert [(s.base_fen, s.days) for s in held] == [(90_000, 27), (90_000, 10)]
    assert interest.exact_interest(held, Decimal("0.0005")) == Decimal(1665)


O3_BALANCES = {"purchase": 800_000, "instalment": 50_000, "fee": 3000, "interest": 4520}


def test_o3_minimum_payment_1375_20():
    terms = cmb_like()
    inputs = minimum.MinimumInputs(O3_BALANCES, closing_balance_fen=857_520)
    assert minimum.minimum_payment(inputs, terms).minimum_fen == 137_520


@pytest.mark.parametrize(("paid_fen", "fee_fen"), [(100_000, 1876), (130_000, 1000)])
def test_o3_late_fee_domain(paid_fen, fee_fen):
    result = late_fee.late_fee(137_520, 857_520, paid_fen, cmb_like())
    assert result.fee_fen == fee_fen
    assert result.reason == "charged"


def _o3_accounts() -> pl.DataFrame:
    """An account whose first statement carries the O3 balances (no earlier statement)."""
    row = dict.fromkeys(cycle_kernels.ACCOUNT_SCHEMA, 0)
    row.update(
        account_id=7,
        statement_day=5,
        credit_limit_fen=5_000_000,
        period_start=date(2024, 3, 6),
        period_end=date(2024, 4, 5),
        due_date=None,
        arrears_since=None,
        statement_balance_fen=807_520,
        balance_purchase_fen=800_000,
        balance_fee_fen=3000,
        balance_interest_fen=4520,
        unbilled_instalment_fen=100_000,
        instalment_principal_fen=50_000,
    )
    return pl.DataFrame([row], schema=cycle_kernels.ACCOUNT_SCHEMA)


@pytest.mark.parametrize(("paid_fen", "fee_fen"), [(100_000, 1876), (130_000, 1000)])
def test_o3_through_the_kernels(paid_fen, fee_fen):
    terms = cmb_like()
    empty_txns = pl.DataFrame(schema=cycle_kernels.TXN_SCHEMA)
    empty_lots = pl.DataFrame(schema=cycle_kernels.LOT_SCHEMA)
    first = cycle_kernels.run_period(_o3_accounts(), empty_lots, empty_txns, terms)
    statement = first.statements.row(0, named=True)
    assert statement["minimum_payment_fen"] == 137_520
    assert statement["unbilled_instalment_fen"] == 50_000
    payment = pl.DataFrame(
        [
            {
                "account_id": 7,
                "txn_date": date(2024, 4, 23),
                "seq": 1,
                "kind": "payment",
                "amount_fen": paid_fen,
            }
        ],
        schema=cycle_kernels.TXN_SCHEMA,
    )
    second = cycle_kernels.run_period(first.accounts, first.lots, payment, terms)
    assert second.statements.row(0, named=True)["late_fee_fen"] == fee_fen


O4_EXPECTED = [
    (date(2024, 4, 23), 0, "M0", "normal"),
    (date(2024, 4, 24), 1, "M1", "special_mention"),
    (date(2024, 7, 22), 90, "M3", "special_mention"),
    (date(2024, 7, 23), 91, "M4", "substandard"),
    (date(2024, 8, 22), 121, "M5", "doubtful"),
    (date(2024, 10, 21), 181, "M7", "loss"),
]


def test_o4_buckets_and_classes_from_dpd():
    edges = cmb_like()
    for day, dpd, bucket, category in O4_EXPECTED:
        assert days_past_due(day, date(2024, 4, 23)) == dpd
        assert delinquency.bucket(dpd, edges.bucket_edges) == bucket
        assert delinquency.five_category(dpd, edges.five_category_edges) == category
        assert delinquency.FIVE_CATEGORY_LABELS_ZH[category] in (
            "正常",
            "关注",
            "次级",
            "可疑",
            "损失",
        )


def test_o4_missed_due_date_through_seven_months_of_cycles():
    """Due 2024-04-23 missed and nothing paid after: the DPD on each O4 date, both ways."""
    terms = cmb_like()
    run = run_both(terms, [[PURCHASE_0330]] + [[] for _ in range(6)])
    # states[k] is the state after statement k (04-05, 05-05, ..., 10-05)
    for day, dpd, bucket, category in O4_EXPECTED:
        k = max(i for i, row in enumerate(run.kernel) if row["statement_date"] < day)
        state = run.states[k].with_columns(pl.lit(0, pl.Int64).alias("paid_fen"))
        got = cycle_kernels.delinquency_as_of(state, day, terms).row(0, named=True)
        assert (got["dpd"], got["bucket"], got["five_category"]) == (dpd, bucket, category)
        due_state = _due_state(run.states[k].row(0, named=True))
        assert delinquency.dpd_on(day, due_state, 0, terms) == dpd


def _due_state(row: dict[str, object]) -> delinquency.DueState:
    arrears = delinquency.Arrears(row["arrears_fen"], row["arrears_since"])  # type: ignore[arg-type]
    return delinquency.DueState(
        row["due_date"],  # type: ignore[arg-type]
        row["minimum_fen"],  # type: ignore[arg-type]
        row["statement_balance_fen"],  # type: ignore[arg-type]
        arrears,
    )
