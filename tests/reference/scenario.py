"""Run one account through several periods with the reference and with the kernels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from cardbatch.domain.product import ProductTerms
from cardbatch.jobs import cycle_kernels
from tests.reference.cycle_reference import RefAccount, RefResult, Txn, run_period
from tests.reference.frames import empty_lots, new_accounts_frame, txns_frame, with_instalments

ACCOUNT_ID = 1


@dataclass
class Run:
    """Per period: the reference result, the kernel's statement row and next account state."""

    reference: list[RefResult]
    kernel: list[dict[str, object]]
    states: list[pl.DataFrame]
    account: RefAccount


def run_both(
    terms: ProductTerms,
    periods: Sequence[Sequence[Txn]],
    *,
    statement_day: int = 5,
    opened: date = date(2024, 3, 6),
    credit_limit_fen: int = 5_000_000,
    instalments: Sequence[tuple[int, int]] = (),
) -> Run:
    """Run ``periods`` (the transactions of each period) through both implementations."""
    account = RefAccount(ACCOUNT_ID, statement_day, credit_limit_fen, terms, opened)
    frame = new_accounts_frame([account])
    lots = empty_lots()
    run = Run([], [], [], account)
    for number, txns in enumerate(periods):
        billed = instalments[number] if number < len(instalments) else (0, 0)
        run.reference.append(run_period(account, list(txns), *billed))
        frame = with_instalments(frame, {ACCOUNT_ID: billed})
        result = cycle_kernels.run_period(
            frame, lots, txns_frame((ACCOUNT_ID, t) for t in txns), terms
        )
        run.kernel.append(result.statements.row(0, named=True))
        frame, lots = result.accounts, result.lots
        run.states.append(frame)
    for ref, row in zip(run.reference, run.kernel, strict=True):
        for name, value in ref.statement.as_dict().items():
            got = row[name]
            assert (got.isoformat() if isinstance(got, date) else got) == value, name
        assert (row["dpd"], row["bucket"], row["five_category"]) == (
            ref.dpd,
            ref.bucket,
            ref.five_category,
        )
    return run
