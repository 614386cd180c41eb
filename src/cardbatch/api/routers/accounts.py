"""``/api/accounts``: masked account summaries, balances by component, 交易明细, statements.

The three per-account endpoints are the console's hot path. They run on the event loop
rather than in the thread pool: each is a few indexed single-account queries (well under a
millisecond on a local database), so the hop to a worker thread and back, and the
threads' contention for the interpreter lock at 50 concurrent clients, cost more than the
queries. They answer with JSON written directly from the service's dataclasses
(``api/answers.py``). Everything else keeps FastAPI's thread pool.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from cardbatch.api.answers import json_answer
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
async def account_summary(user: Reader, store: StoreDep, account_id: AccountId) -> Response:
    return json_answer(accounts.summary(store, account_id, unmasked=unmasked_for(user)))


@router.get(
    "/{account_id}/transactions",
    response_model=None,
    summary="Transaction details (交易明细), oldest first",
)
async def account_transactions(
    user: Reader,
    store: StoreDep,
    settings: SettingsDep,
    account_id: AccountId,
    limit: Annotated[int, Query(ge=1, le=HISTORY_ROWS_MAX)] = 200,
) -> Response:
    found = accounts.transactions(store, account_id, _rows(limit, settings.page_rows_max),
                                  unmasked=unmasked_for(user))  # fmt: skip
    return json_answer(found)


@router.get(
    "/{account_id}/statements",
    response_model=None,
    summary="Stored statements; one (default latest) with its lines, as `statement show`",
)
async def account_statements(
    user: Reader,
    store: StoreDep,
    account_id: AccountId,
    on: Annotated[date | None, Query(alias="date", description="Statement date")] = None,
) -> Response:
    try:
        found = accounts.statements(store, account_id, on=on, unmasked=unmasked_for(user))
    except accounts.UnknownStatement as exc:
        raise HTTPException(404, str(exc)) from None
    return json_answer(found)
