"""Pure per-row rules of a run and the pre-checks made at submission (no I/O).

:func:`row_reason` decides one row from what the store knows about its account, in a
fixed order: pre-check (amount, duplicate) -> account exists (AC01) -> closed (AC04) ->
frozen (AC06) -> holder name (BE01) -> for collections, mandate (MD01) and the payer's
funds (AM04); it is :func:`cardbatch.payfiles.checks.check_account` plus the funds rule,
with an exact-name fast path (a test keeps the two in agreement).
"""

from __future__ import annotations

from collections.abc import Sequence

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
    reason keys, without building a result per row."""
    repeated = duplicates(rows)
    keys: list[str | None] = []
    for index, row in enumerate(rows):
        if 0 < row.amount_fen <= amount_fen_max and index not in repeated:
            keys.append(None)
            continue
        reason = check_amount(row, amount_fen_max) or DUPLICATE
        keys.append(reason.key)
    return keys


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
