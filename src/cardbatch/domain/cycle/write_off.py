"""Write-off (核销) of a card's balance at charge-off: one journal entry.

When the product's ``charge_off_dpd`` is reached the card is charged off and what
the holder owes leaves the card's components for the bank's write-off account
(``GL:write_off``; the loss provision draws on it). Every card component goes to
zero: a positive component is credited, a negative one (an overpayment held on
purchases) debited, and ``GL:write_off`` takes the net. Nothing owed, no entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from cardbatch.domain.ledger import (
    CARD_COMPONENTS,
    GL,
    Component,
    EntryKind,
    JournalEntry,
    Posting,
)


def write_off_entry(
    key: str,
    on: date,
    account_id: str,
    balances_fen: Mapping[str, int],
    reason: str,
    run_id: str | None = None,
) -> JournalEntry | None:
    """The entry moving ``account_id``'s card balance to ``GL:write_off`` (None: nothing owed)."""
    parts = [(c, balances_fen.get(c, 0)) for c in CARD_COMPONENTS]
    owed_fen = sum(amount_fen for _, amount_fen in parts)
    if owed_fen <= 0:
        return None
    card = [Posting(account_id, c, -amount_fen) for c, amount_fen in parts if amount_fen]
    gl = Posting(GL.WRITE_OFF, Component.BALANCE, owed_fen)
    return JournalEntry(key, on, EntryKind.WRITE_OFF, (gl, *card),
                        f"written off at charge-off: {reason}", run_id=run_id)  # fmt: skip
