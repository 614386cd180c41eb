"""``/api/accounts``: masked account summaries, balances by component, 交易明细, statements."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder

from cardbatch.api.deps import SettingsDep, StoreDep, require, unmasked_for
from cardbatch.domain.roles import Action
from cardbatch.services import accounts
from cardbatch.services.accounts import ACCOUNT_ID_LEN_MAX
from cardbatch.services.ledger import HISTORY_ROWS_MAX
from cardbatch.services.users import User

router = APIRouter(prefix="/api/accounts", tags=["accounts"])
Reader = Annotated[User, Depends(require(Action.ACCOUNTS_READ))]
AccountId = Annotated[
    str, Path(min_length=1, max_length=ACCOUNT_ID_LEN_MAX, description="Card or deposit account.")
]


def _rows(limit: int, rows_max: int) -> int:
    if limit > rows_max:
        raise HTTPException(422, f"query.limit: at most {rows_max}")
    return limit


@router.get(
    "", response_model=None, summary="Card accounts, in id order (keyset paging with `after`)"
)
def list_accounts(
    user: Reader,
    store: StoreDep,
    settings: SettingsDep,
    after: Annotated[str, Query(max_length=ACCOUNT_ID_LEN_MAX)] = "",
    limit: Annotated[int, Query(ge=1, le=HISTORY_ROWS_MAX)] = 50,
) -> dict[str, Any]:
    page = accounts.card_accounts_page(store, after, _rows(limit, settings.page_rows_max),
                                       unmasked=unmasked_for(user))  # fmt: skip
    return {"accounts": jsonable_encoder(page), "next_after": page[-1].account_id if page else None}


@router.get(
    "/{account_id}",
    response_model=None,
    summary="One account: holder (masked), balances by component",
)
def account_summary(user: Reader, store: StoreDep, account_id: AccountId) -> dict[str, Any]:
    view = accounts.summary(store, account_id, unmasked=unmasked_for(user))
    result: dict[str, Any] = jsonable_encoder(view)
    return result


@router.get(
    "/{account_id}/transactions",
    response_model=None,
    summary="Transaction details (交易明细), oldest first",
)
def account_transactions(
    user: Reader,
    store: StoreDep,
    settings: SettingsDep,
    account_id: AccountId,
    limit: Annotated[int, Query(ge=1, le=HISTORY_ROWS_MAX)] = 200,
) -> dict[str, Any]:
    found = accounts.transactions(store, account_id, _rows(limit, settings.page_rows_max),
                                  unmasked=unmasked_for(user))  # fmt: skip
    result: dict[str, Any] = jsonable_encoder(found)
    return result


@router.get(
    "/{account_id}/statements",
    response_model=None,
    summary="Stored statements; one (default latest) with its lines, as `statement show`",
)
def account_statements(
    user: Reader,
    store: StoreDep,
    account_id: AccountId,
    on: Annotated[date | None, Query(alias="date", description="Statement date")] = None,
) -> dict[str, Any]:
    try:
        found = accounts.statements(store, account_id, on=on, unmasked=unmasked_for(user))
    except accounts.UnknownStatement as exc:
        raise HTTPException(404, str(exc)) from None
    result: dict[str, Any] = jsonable_encoder(found)
    return result
