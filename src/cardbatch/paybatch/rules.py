"""Pure per-row rules of a run and the pre-checks made at submission (no I/O).

:func:`row_reason` decides one row from what the store knows about its account, in a
fixed order: pre-check (amount, duplicate) -> account exists (AC01) -> closed (AC04) ->
frozen (AC06) -> holder name (BE01) -> for collections, mandate (MD01) and the payer's
funds (AM04); it is :func:`cardbatch.payfiles.checks.check_account` plus the funds rule,
with an exact-name fast path (a test keeps the two in agreement).
:func:`chunk_reasons` decides a whole chunk of rows column-wise with the same rules and
order (a property test holds it to :func:`row_reason` applied row by row); only names
that differ byte-wise and payers with more than one row in the chunk are looked at one
by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import polars as pl

from cardbatch.domain.records import DepositStatus
from cardbatch.payfiles.checks import check_amount, duplicates, names_match
from cardbatch.payfiles.model import BatchRow, Kind
from cardbatch.payfiles.reasons import (
    ACCOUNT_CLOSED,
    ACCOUNT_FROZEN,
    ACCOUNT_NOT_FOUND,
    DUPLICATE,
    INSUFFICIENT_FUNDS,
    NAME_MISMATCH,
    NO_MANDATE,
    SUCCESS,
    Reason,
    reason_by_key,
)

MANDATE_ACTIVE = "active"


def pre_reasons(rows: Sequence[BatchRow], amount_fen_max: int) -> list[str | None]:
    """Per row, the key of the pure pre-check that fails it (amount first, then a later
    duplicate of an earlier row), or None: :func:`cardbatch.payfiles.pre_check_rows` as
    reason keys, without building a result per row.

    Column-wise: only rows whose account, amount and memo occur more than once can be
    duplicates, and only those go through :func:`duplicates` (which compares their names);
    only rows that fail a check are looked at one by one."""
    keys: list[str | None] = [None] * len(rows)
    if not rows:
        return keys
    frame = pl.DataFrame(
        {
            "account": [row.account for row in rows],
            "amount_fen": [row.amount_fen for row in rows],
            "memo": [row.memo for row in rows],
        },
        schema={"account": pl.String, "amount_fen": pl.Int64, "memo": pl.String},
    ).with_row_index("_index")
    repeated = _repeated_indexes(rows, frame)
    amount = pl.col("amount_fen")
    failing = frame.filter(
        (amount <= 0) | (amount > amount_fen_max) | pl.col("_index").is_in(repeated)
    )["_index"]
    for index in failing.to_list():
        keys[index] = (check_amount(rows[index], amount_fen_max) or DUPLICATE).key
    return keys


def _repeated_indexes(rows: Sequence[BatchRow], frame: pl.DataFrame) -> list[int]:
    """Indexes of the rows :func:`duplicates` finds repeated, looking only at rows whose
    (account, amount, memo) is shared with another row (all of them, in file order)."""
    shared = frame.filter(pl.struct("account", "amount_fen", "memo").is_duplicated())
    candidates: list[int] = shared["_index"].to_list()
    repeated = duplicates([rows[index] for index in candidates])
    return [candidates[position] for position in repeated]


def row_reason(
    kind: Kind,
    name: str,
    amount_fen: int,
    pre_reason: str | None,
    holder_name: str | None,
    account_status: str | None,
    available_fen: int,
    mandate_status: str | None,
) -> Reason:
    """The outcome of one row (``SUCCESS`` or the first failing rule).

    ``holder_name``/``account_status`` are None when the account does not exist;
    ``available_fen`` is what the payer holds (collections only); ``mandate_status`` is the
    biller's mandate on this account (collections only, None when there is none).
    """
    if pre_reason is not None:
        return reason_by_key(pre_reason)
    if holder_name is None or account_status is None:
        return ACCOUNT_NOT_FOUND
    if account_status == DepositStatus.CLOSED:
        return ACCOUNT_CLOSED
    if account_status != DepositStatus.ACTIVE:
        return ACCOUNT_FROZEN
    if name != holder_name and not names_match(name, holder_name):
        return NAME_MISMATCH
    if kind == "collection":
        if mandate_status != MANDATE_ACTIVE:
            return NO_MANDATE
        if available_fen < amount_fen:
            return INSUFFICIENT_FUNDS
    return SUCCESS


# The columns :func:`chunk_reasons` reads, as the store gives them for a run's chunk.
CHUNK_SCHEMA: dict[str, pl.DataType] = {
    "row_no": pl.Int64(),
    "name": pl.String(),
    "account": pl.String(),
    "amount_fen": pl.Int64(),
    "pre_reason": pl.String(),
    "holder_name": pl.String(),
    "account_status": pl.String(),
    "balance_fen": pl.Int64(),
    "mandate_status": pl.String(),
}


def chunk_reasons(kind: Kind, rows: pl.DataFrame) -> pl.Series:
    """The reason key of every row of a chunk (in row order), as :func:`row_reason` decides
    them one after the other: a collection's payer pays a row only from what the rows
    before it in the chunk left on the account."""
    status = pl.col("account_status")
    names_ok = (pl.col("name") == pl.col("holder_name")) | pl.col("_index").is_in(
        _loose_name_matches(rows)
    )
    decided = (
        pl.when(pl.col("pre_reason").is_not_null())
        .then(pl.col("pre_reason"))
        .when(pl.col("holder_name").is_null() | status.is_null())
        .then(pl.lit(ACCOUNT_NOT_FOUND.key))
        .when(status == DepositStatus.CLOSED.value)
        .then(pl.lit(ACCOUNT_CLOSED.key))
        .when(status != DepositStatus.ACTIVE.value)
        .then(pl.lit(ACCOUNT_FROZEN.key))
        .when(names_ok.not_())
        .then(pl.lit(NAME_MISMATCH.key))
    )
    if kind == "collection":
        decided = decided.when(pl.col("mandate_status").fill_null("") != MANDATE_ACTIVE).then(
            pl.lit(NO_MANDATE.key)
        )
    indexed = rows.with_row_index("_index")
    keys = indexed.select(decided.otherwise(pl.lit(SUCCESS.key)).alias("reason_key"))
    reasons = keys.to_series()
    if kind == "collection":
        reasons = _apply_funds(indexed.with_columns(reason_key=reasons))
    return reasons


def _loose_name_matches(rows: pl.DataFrame) -> list[int]:
    """Indexes of rows whose name differs from the holder's but matches once normalised."""
    differ = (
        rows.with_row_index("_index")
        .filter(pl.col("name") != pl.col("holder_name"))
        .select("_index", "name", "holder_name")
    )
    return [i for i, name, holder in differ.iter_rows() if names_match(name, holder)]


def _apply_funds(rows: pl.DataFrame) -> pl.Series:
    """Fail the collection rows the payer cannot cover (余额不足), in row order."""
    candidates = rows.filter(pl.col("reason_key") == SUCCESS.key).with_columns(
        available_fen=-pl.col("balance_fen").fill_null(0),
        payer_rows=pl.len().over("account"),
    )
    short = candidates.filter(
        (pl.col("payer_rows") == 1) & (pl.col("available_fen") < pl.col("amount_fen"))
    )["_index"].to_list()
    spent_fen: dict[str, int] = defaultdict(int)
    shared = candidates.filter(pl.col("payer_rows") > 1)
    for index, account, amount_fen, available_fen in shared.select(
        "_index", "account", "amount_fen", "available_fen"
    ).iter_rows():
        if available_fen - spent_fen[account] < amount_fen:
            short.append(index)
        else:
            spent_fen[account] += amount_fen
    return rows.select(
        pl.when(pl.col("_index").is_in(short))
        .then(pl.lit(INSUFFICIENT_FUNDS.key))
        .otherwise(pl.col("reason_key"))
        .alias("reason_key")
    ).to_series()
