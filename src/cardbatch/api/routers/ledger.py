"""``/api/ledger/check``: debits = credits, every entry balanced, balances = postings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cardbatch.api.deps import StoreDep, require
from cardbatch.domain.roles import Action
from cardbatch.services import ledger
from cardbatch.services.users import User

router = APIRouter(prefix="/api/ledger", tags=["ledger"])


@router.get("/check", response_model=None, summary="Check the whole ledger")
def ledger_check(
    _user: Annotated[User, Depends(require(Action.LEDGER_CHECK))], store: StoreDep
) -> dict[str, Any]:
    result = ledger.check(store)
    return {"balanced": result.balanced, "journal_entries": result.journal_entries,
            "postings": result.postings, "debits_fen": result.debits_fen,
            "credits_fen": result.credits_fen, "mismatches": result.mismatches}  # fmt: skip
