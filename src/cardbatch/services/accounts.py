"""What the console shows about an account: summary, balances by component, transaction details.

Views come out masked (``110105********002X``, ``622202******1234``,
``138****5678``, ``张*``) unless the caller says the viewer may see personal
data (``unmasked=True``, decided by the role matrix). Statements are the ones the
card cycle stored, with the ledger lines of their period (as ``cardbatch statement show``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from cardbatch.domain.masking import mask_card, mask_name, mask_phone, mask_ric
from cardbatch.domain.redact import redact_text
from cardbatch.services import ledger
from cardbatch.services.ledger import AccountHistory, UnknownAccount
from cardbatch.store import Store
from cardbatch.store.accounts_read import (
    card_holder_balances,
    card_page,
    deposit_with_holder,
    statement_lines,
    statement_rows,
)
from cardbatch.store.ledger_repo import account_balances

__all__ = ["UnknownAccount"]
ACCOUNT_ID_LEN_MAX = 40
STATEMENTS_LISTED_MAX = 24  # two years of monthly statements


@dataclass(frozen=True)
class AccountSummary:
    account_id: str
    account_kind: str  # card | deposit
    holder_name: str
    id_number: str | None
    phone: str | None
    city: str | None
    card_number: str | None
    product_code: str | None
    credit_limit_fen: int | None
    statement_day: int | None
    repayment_account_id: str | None
    autopay_mode: str | None
    status: str
    opened_on: date | None
    balances_fen: dict[str, int]  # by component, in the account's own sign
    balance_fen: int
    masked: bool


def _check_id(account_id: str) -> None:
    if not account_id or len(account_id) > ACCOUNT_ID_LEN_MAX:
        raise UnknownAccount(f"account id must be 1..{ACCOUNT_ID_LEN_MAX} characters")


def summary(store: Store, account_id: str, *, unmasked: bool = False) -> AccountSummary:
    """One card or deposit account with its holder and its balances."""
    _check_id(account_id)
    with store.read() as conn:
        card, raw = card_holder_balances(conn, account_id)
        deposit = None if card is not None else deposit_with_holder(conn, account_id)
        if deposit is not None:
            raw = dict(sorted(account_balances(conn, account_id).items()))
    if card is not None:
        view = AccountSummary(card.account_id, "card", card.name, card.id_number, card.phone,
                              card.city, card.card_number, card.product_code,
                              card.credit_limit_fen, card.statement_day,
                              card.repayment_account_id, card.autopay_mode, card.status,
                              card.opened_on, raw, sum(raw.values()), masked=False)  # fmt: skip
    elif deposit is not None:
        owed = {c: -v for c, v in raw.items()}  # a deposit is what the bank owes
        view = AccountSummary(deposit.account_id, "deposit", deposit.holder_name,
                              deposit.id_number, deposit.phone, deposit.city, None, None, None,
                              None, None, None, deposit.status, deposit.opened_on, owed,
                              sum(owed.values()), masked=False)  # fmt: skip
    else:
        raise UnknownAccount(f"no card or deposit account {redact_text(account_id)!r}")
    return view if unmasked else mask_summary(view)


def mask_summary(view: AccountSummary) -> AccountSummary:
    def opt(value: str | None, mask: object) -> str | None:
        return None if value is None else mask(value)  # type: ignore[operator]

    return replace(
        view,
        account_id=redact_text(view.account_id),
        holder_name=mask_name(view.holder_name),
        id_number=opt(view.id_number, mask_ric),
        phone=opt(view.phone, mask_phone),
        card_number=opt(view.card_number, mask_card),
        repayment_account_id=opt(view.repayment_account_id, mask_card),
        masked=True,
    )


def transactions(
    store: Store, account_id: str, rows_max: int, *, unmasked: bool = False
) -> AccountHistory:
    """The transaction details (交易明细) of a card or deposit account, oldest first."""
    _check_id(account_id)
    found = ledger.history(store, account_id, rows_max=rows_max)
    if found.account_kind == "gl":
        raise UnknownAccount(f"{account_id!r} is a general-ledger account, not a customer's")
    if unmasked:
        return found
    lines = [replace(line, description=redact_text(line.description)) for line in found.lines]
    return replace(found, account_id=redact_text(found.account_id), lines=lines)


@dataclass(frozen=True)
class Statements:
    """An account's billing statements as the card cycle stored them.

    ``statements``: the newest first, their stored fields (no lines); ``statement``: the one
    asked for (default the latest) with the ledger lines of its period, the same fields and
    lines as ``cardbatch statement show``; None when the account has no statement yet.
    """

    account_id: str
    statements: list[dict[str, Any]]
    statement: dict[str, Any] | None


class UnknownStatement(LookupError):
    """The account has no statement on the date asked for."""


def statements(
    store: Store,
    account_id: str,
    *,
    on: date | None = None,
    rows_max: int = STATEMENTS_LISTED_MAX,
    unmasked: bool = False,
) -> Statements:
    _check_id(account_id)
    with store.read() as conn:
        listed = statement_rows(conn, account_id, rows_max)
        chosen = listed[:1] if on is None else statement_rows(conn, account_id, 1, on)
        statement = None
        if chosen:
            first, last = chosen[0]["period_start"], chosen[0]["statement_date"]
            lines = statement_lines(conn, account_id, first, last)
            statement = {**chosen[0], "lines": lines}
    if not listed:  # no statement yet, or no such account (UnknownAccount: 404)
        summary(store, account_id, unmasked=unmasked)
    shown_id = account_id if unmasked else redact_text(account_id)
    if on is not None and statement is None:
        raise UnknownStatement(f"account {shown_id} has no statement on {on}")
    if not unmasked:
        listed = [{**row, "account_id": shown_id} for row in listed]
        if statement is not None:
            lines = [{**ln, "description": redact_text(ln["description"] or "")}
                     for ln in statement["lines"]]  # fmt: skip
            statement = {**statement, "account_id": shown_id, "lines": lines}
    return Statements(shown_id, listed, statement)


@dataclass(frozen=True)
class AccountLine:
    account_id: str
    card_number: str
    product_code: str
    status: str
    holder_name: str


def card_accounts_page(
    store: Store, after_id: str, rows_max: int, *, unmasked: bool = False
) -> list[AccountLine]:
    with store.read() as conn:
        rows = card_page(conn, after_id, rows_max)
    lines = [AccountLine(r.account_id, r.card_number, r.product_code, r.status, r.name)
             for r in rows]  # fmt: skip
    if unmasked:
        return lines
    return [replace(x, card_number=mask_card(x.card_number), holder_name=mask_name(x.holder_name))
            for x in lines]  # fmt: skip
