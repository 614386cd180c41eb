"""Build the kernels' input frames from reference accounts and transactions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from cardbatch.jobs.cycle_kernels import ACCOUNT_SCHEMA, LOT_SCHEMA, TXN_SCHEMA
from tests.reference.cycle_reference import RefAccount, Txn, period_bounds


def new_accounts_frame(
    accounts: Sequence[RefAccount], instalments: dict[int, tuple[int, int]] | None = None
) -> pl.DataFrame:
    """Accounts that have had no statement yet (as the reference starts them)."""
    rows = []
    for account in accounts:
        start, end = period_bounds(account)
        principal_fen, fee_fen = (instalments or {}).get(account.account_id, (0, 0))
        row: dict[str, object] = dict.fromkeys(ACCOUNT_SCHEMA, 0)
        row.update(
            account_id=account.account_id,
            statement_day=account.statement_day,
            credit_limit_fen=account.credit_limit_fen,
            period_start=start,
            period_end=end,
            due_date=None,
            arrears_since=None,
            unbilled_instalment_fen=account.unbilled_instalment_fen,
            instalment_principal_fen=principal_fen,
            instalment_fee_fen=fee_fen,
        )
        rows.append(row)
    return pl.DataFrame(rows, schema=ACCOUNT_SCHEMA)


def with_instalments(accounts: pl.DataFrame, billed: dict[int, tuple[int, int]]) -> pl.DataFrame:
    """Set the instalment principal and fee billed this period, per account id."""
    ids = accounts["account_id"].to_list()
    return accounts.with_columns(
        pl.Series("instalment_principal_fen", [billed.get(i, (0, 0))[0] for i in ids]),
        pl.Series("instalment_fee_fen", [billed.get(i, (0, 0))[1] for i in ids]),
    )


def txns_frame(txns: Iterable[tuple[int, Txn]]) -> pl.DataFrame:
    rows = [
        {
            "account_id": account_id,
            "txn_date": t.txn_date,
            "seq": t.seq,
            "kind": t.kind,
            "amount_fen": t.amount_fen,
        }
        for account_id, t in txns
    ]
    return pl.DataFrame(rows, schema=TXN_SCHEMA)


def empty_lots() -> pl.DataFrame:
    return pl.DataFrame(schema=LOT_SCHEMA)
