"""Card transactions from the card switch and how each becomes a journal entry.

A purchase or cash advance raises a card component against the settlement
account; a refund lowers purchases; a payment is spread over the components in
the product's allocation order (current order by default: interest, fees,
late fee, cash, instalments, purchases), and what is left after every
component is paid becomes a credit balance on purchases.

A card the delinquency status actions have ``blocked`` or ``frozen`` takes no new
spending (purchases, cash advances); refunds and payments still post
(:func:`spending_refusal`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum

from cardbatch.domain.ledger import GL, Component, EntryKind, JournalEntry, Posting

DEFAULT_PAYMENT_ORDER: tuple[Component, ...] = (
    Component.INTEREST,
    Component.FEE,
    Component.LATE_FEE,
    Component.CASH,
    Component.INSTALMENT,
    Component.PURCHASE,
)


class TxnKind(StrEnum):
    PURCHASE = "purchase"
    CASH_ADVANCE = "cash_advance"
    REFUND = "refund"
    PAYMENT = "payment"


SPENDING_KINDS: frozenset[TxnKind] = frozenset({TxnKind.PURCHASE, TxnKind.CASH_ADVANCE})
# card status -> the reason code a new purchase or cash advance is refused with
SPENDING_REFUSED: dict[str, str] = {"blocked": "card_blocked", "frozen": "card_frozen"}


def spending_refusal(kind: TxnKind, card_status: str) -> str | None:
    """The reason code refusing ``kind`` on a card in ``card_status``; None: it may post.

    ``blocked`` (from the product's ``block_from_bucket``) and ``frozen`` (from
    ``freeze_from_bucket``) stop new spending only: refunds and payments lower what
    the holder owes and always post.
    """
    if kind not in SPENDING_KINDS:
        return None
    return SPENDING_REFUSED.get(card_status)


def transaction_key(txn_id: str) -> str:
    """The idempotency key of a switch transaction: its id, which the switch keeps unique."""
    return f"txn:{txn_id}"


def allocate_payment(
    amount_fen: int, balances_fen: Mapping[str, int], order: Sequence[str] = DEFAULT_PAYMENT_ORDER
) -> list[tuple[str, int]]:
    """Split a payment over components in ``order``; any excess lands on the last component."""
    assert amount_fen > 0, "payments are positive"
    left_fen = amount_fen
    parts: list[tuple[str, int]] = []
    for component in order:
        owed_fen = max(0, balances_fen.get(component, 0))
        paid_fen = min(owed_fen, left_fen)
        if paid_fen:
            parts.append((component, paid_fen))
            left_fen -= paid_fen
    if left_fen:
        last = order[-1]
        merged = dict(parts)
        merged[last] = merged.get(last, 0) + left_fen
        parts = list(merged.items())
    return parts


def transaction_entry(
    txn_id: str,
    account_id: str,
    kind: TxnKind,
    amount_fen: int,
    business_date: date,
    description: str = "",
    card_balances_fen: Mapping[str, int] | None = None,
    run_id: str | None = None,
) -> JournalEntry:
    """The journal entry that posts one switch transaction to a card account."""
    if amount_fen <= 0:
        raise ValueError(f"transaction {txn_id}: amount must be positive, got {amount_fen} fen")
    card_postings: list[Posting]
    if kind is TxnKind.PAYMENT:
        parts = allocate_payment(amount_fen, card_balances_fen or {})
        card_postings = [Posting(account_id, c, -fen) for c, fen in parts]
        other = Posting(GL.COUNTER_CASH, Component.BALANCE, amount_fen)
    else:
        component, sign = _CHARGE[kind]
        card_postings = [Posting(account_id, component, sign * amount_fen)]
        other = Posting(GL.CARD_SETTLEMENT, Component.BALANCE, -sign * amount_fen)
    return JournalEntry(
        idempotency_key=transaction_key(txn_id),
        business_date=business_date,
        kind=_ENTRY_KIND[kind],
        postings=(*card_postings, other),
        description=description,
        run_id=run_id,
        source=f"{account_id}|{kind}|{amount_fen}",
    )


_CHARGE = {
    TxnKind.PURCHASE: (Component.PURCHASE, 1),
    TxnKind.CASH_ADVANCE: (Component.CASH, 1),
    TxnKind.REFUND: (Component.PURCHASE, -1),
}
_ENTRY_KIND = {
    TxnKind.PURCHASE: EntryKind.PURCHASE,
    TxnKind.CASH_ADVANCE: EntryKind.CASH_ADVANCE,
    TxnKind.REFUND: EntryKind.REFUND,
    TxnKind.PAYMENT: EntryKind.PAYMENT,
}
