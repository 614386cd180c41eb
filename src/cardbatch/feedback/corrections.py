"""Correction entries built from the entry they correct (pure).

A **reversal** undoes an entry: key ``reversal:<original key>``,
``reference_key`` = the original's key, every posting negated, kind
``reversal``. A **waiver** gives back an interest, fee or late-fee charge the
same way with kind ``waiver`` and key ``waiver:<original key>``. The original
is never changed or deleted; the ledger's unique idempotency key makes a second
posting of the same correction a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cardbatch.domain.ledger import IDEMPOTENCY_KEY_LEN_MAX, JournalEntry, Posting
from cardbatch.feedback.model import CorrectionKind, FeedbackError

WAIVABLE_KINDS = frozenset({"interest", "fee", "late_fee"})
UNCORRECTABLE_KINDS = frozenset({"reversal", "waiver", "opening"})


@dataclass(frozen=True)
class Original:
    """The entry to correct, as read from the ledger."""

    key: str
    kind: str
    description: str
    postings: tuple[Posting, ...]


def correction_key(kind: CorrectionKind, original_key: str) -> str:
    key = f"{kind.value}:{original_key}"
    if len(key) > IDEMPOTENCY_KEY_LEN_MAX:
        raise FeedbackError(f"correction key longer than {IDEMPOTENCY_KEY_LEN_MAX}: {key!r}")
    return key


def check_correctable(kind: CorrectionKind, original: Original) -> None:
    """Refuse corrections of corrections, and waivers of anything but interest and fees."""
    if original.kind in UNCORRECTABLE_KINDS:
        raise FeedbackError(f"entry {original.key} is a {original.kind}; it cannot be corrected")
    if kind is CorrectionKind.WAIVER and original.kind not in WAIVABLE_KINDS:
        allowed = ", ".join(sorted(WAIVABLE_KINDS))
        raise FeedbackError(
            f"only {allowed} entries can be waived; {original.key} is {original.kind}"
        )


def correction_entry(
    kind: CorrectionKind, original: Original, business_date: date, run_id: str | None
) -> JournalEntry:
    """The journal entry that corrects ``original``: its postings negated."""
    check_correctable(kind, original)
    negated = tuple(Posting(p.account_id, p.component, -p.amount_fen) for p in original.postings)
    return JournalEntry(
        idempotency_key=correction_key(kind, original.key),
        business_date=business_date,
        kind=kind.value,
        postings=negated,
        description=f"{kind.value} of {original.key}: {original.description}"[:500],
        reference_key=original.key,
        run_id=run_id,
    )


def account_amount_fen(original: Original, account_id: str) -> int:
    """What the original moved on ``account_id`` (debit-positive), the correction's size."""
    return sum(p.amount_fen for p in original.postings if p.account_id == account_id)
