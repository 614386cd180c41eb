"""The kernels refuse frames that do not follow the documented schema, naming what is wrong."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from cardbatch.domain.product import cmb_like
from cardbatch.jobs import cycle_kernels
from tests.reference.cycle_reference import RefAccount, Txn
from tests.reference.frames import empty_lots, new_accounts_frame, txns_frame

TERMS = cmb_like()


def _accounts() -> pl.DataFrame:
    return new_accounts_frame([RefAccount(1, 5, 10**6, TERMS, opened=date(2024, 3, 6))])


@pytest.mark.parametrize(
    ("txn", "message"),
    [
        (Txn(date(2024, 3, 30), 1, "gift", 100), "unknown kind 'gift' \\(account 1\\)"),
        (Txn(date(2024, 3, 30), 1, "purchase", 0), "amount_fen must be > 0, got 0"),
        (Txn(date(2024, 4, 6), 1, "purchase", 100), "txn_date 2024-04-06 is outside its period"),
    ],
)
def test_bad_transactions_are_refused(txn, message):
    with pytest.raises(cycle_kernels.KernelInputError, match=message):
        cycle_kernels.run_period(_accounts(), empty_lots(), txns_frame([(1, txn)]), TERMS)


def test_transactions_of_unknown_accounts_are_refused():
    txn = Txn(date(2024, 3, 30), 1, "purchase", 100)
    with pytest.raises(cycle_kernels.KernelInputError, match="account 9 is not in the accounts"):
        cycle_kernels.run_period(_accounts(), empty_lots(), txns_frame([(9, txn)]), TERMS)


def test_duplicate_accounts_and_bad_lots_are_refused():
    twice = pl.concat([_accounts(), _accounts()])
    with pytest.raises(cycle_kernels.KernelInputError, match="account 1 appears twice"):
        cycle_kernels.run_period(twice, empty_lots(), txns_frame([]), TERMS)
    lots = pl.DataFrame(
        [{"account_id": 1, "component": "fee", "post_date": date(2024, 3, 1), "seq": 1,
          "remaining_fen": 100}],
        schema=cycle_kernels.LOT_SCHEMA,
    )  # fmt: skip
    with pytest.raises(cycle_kernels.KernelInputError, match="lot 'fee' remaining_fen 100"):
        cycle_kernels.run_period(_accounts(), lots, txns_frame([]), TERMS)


def test_missing_columns_are_named():
    with pytest.raises(cycle_kernels.KernelInputError, match="accounts frame lacks column"):
        cycle_kernels.run_period(
            _accounts().drop("retro_fen_days"), empty_lots(), txns_frame([]), TERMS
        )


def test_an_empty_partition_gives_empty_results():
    result = cycle_kernels.run_period(_accounts().head(0), empty_lots(), txns_frame([]), TERMS)
    assert result.statements.height == 0
    assert result.accounts.schema == pl.Schema(cycle_kernels.ACCOUNT_SCHEMA)


def test_exact_fraction_of_rates_and_percents():
    from decimal import Decimal

    assert cycle_kernels.fraction(Decimal("0.0005")) == (5, 10_000)
    assert cycle_kernels.fraction(Decimal("12.5"), 100) == (125, 1000)
    assert cycle_kernels.fraction(Decimal("10"), 100) == (10, 100)
    half = pl.select(
        cycle_kernels.times_fraction_half_up(pl.lit(35_700_00, pl.Int64), 5, 10_000).alias("x"),
        cycle_kernels.times_fraction_half_up(pl.lit(1, pl.Int64), 1, 2).alias("y"),
    )
    assert half.row(0) == (1785, 1)
