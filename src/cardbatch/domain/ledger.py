"""The double-entry ledger: journal entries made of postings that always balance.

A posting moves ``amount_fen`` on one balance component of one ledger account;
debits are positive and credits negative, so an entry balances when its
postings sum to zero. Card accounts are assets of the bank (a debit raises
what the holder owes); deposit accounts are liabilities (a credit raises what
the bank owes the holder). Card balances are kept per component because
interest, minimum payment and payment allocation depend on them.

Every journal entry carries an idempotency key chosen by its producer (job,
business date, item): the store keeps keys unique, so replaying an entry is a
no-op and the same key with different content is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from cardbatch.money import check_fen

IDEMPOTENCY_KEY_LEN_MAX = 200
ACCOUNT_ID_LEN_MAX = 40
POSTINGS_PER_ENTRY_MAX = 64
GL_PREFIX = "GL:"


class Component(StrEnum):
    """Balance components. Card accounts use the first six; deposits and GL use ``balance``."""

    PURCHASE = "purchase"
    CASH = "cash"
    INTEREST = "interest"
    FEE = "fee"
    LATE_FEE = "late_fee"
    INSTALMENT = "instalment"
    BALANCE = "balance"


CARD_COMPONENTS: tuple[Component, ...] = (
    Component.PURCHASE,
    Component.CASH,
    Component.INTEREST,
    Component.FEE,
    Component.LATE_FEE,
    Component.INSTALMENT,
)


class GL(StrEnum):
    """The bank's own ledger accounts that card and deposit movements settle against."""

    CARD_SETTLEMENT = "GL:card_settlement"  # clearing with the card switch
    COUNTER_CASH = "GL:counter_cash"  # payments and deposits made in cash at a branch
    INTEREST_INCOME = "GL:interest_income"
    FEE_INCOME = "GL:fee_income"
    LATE_FEE_INCOME = "GL:late_fee_income"
    SUSPENSE = "GL:suspense"
    WRITE_OFF = "GL:write_off"  # charge-offs of card balances (the loss provision draws on it)


class EntryKind(StrEnum):
    """What a journal entry records; it is the "type" column of the transaction details."""

    OPENING = "opening"
    DEPOSIT = "deposit"
    PURCHASE = "purchase"
    CASH_ADVANCE = "cash_advance"
    REFUND = "refund"
    PAYMENT = "payment"
    AUTOPAY = "autopay"
    INTEREST = "interest"
    FEE = "fee"
    LATE_FEE = "late_fee"
    PAYROLL = "payroll"
    COLLECTION = "collection"
    LOAN_DEDUCTION = "loan_deduction"
    REVERSAL = "reversal"
    WAIVER = "waiver"
    SWEEP = "sweep"
    INSTALMENT = "instalment"
    WRITE_OFF = "write_off"


class LedgerError(ValueError):
    """A journal entry that must not be written (programmer or input error)."""


class UnbalancedEntry(LedgerError):
    """The postings of an entry do not sum to zero."""


class IdempotencyConflict(LedgerError):
    """An idempotency key already stands for an entry with different content."""


@dataclass(frozen=True)
class Posting:
    """One movement: ``amount_fen`` (debit +, credit -) on a component of a ledger account."""

    account_id: str
    component: str
    amount_fen: int


@dataclass(frozen=True)
class JournalEntry:
    """A balanced set of postings, identified by its idempotency key."""

    idempotency_key: str
    business_date: date
    kind: str
    postings: tuple[Posting, ...]
    description: str = ""
    reference_key: str | None = None  # e.g. the entry a reversal undoes
    run_id: str | None = None
    # The producer's input, when the postings depend on state at posting time (a
    # payment's allocation depends on the balances): replaying the same input is
    # then a no-op even though the balances have moved since.
    source: str = ""
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        validate_entry(self)
        object.__setattr__(self, "content_hash", entry_content_hash(self))


def validate_entry(entry: JournalEntry) -> None:
    """Refuse an entry that is not well formed or does not balance; nothing is written then."""
    key = entry.idempotency_key
    if not key or len(key) > IDEMPOTENCY_KEY_LEN_MAX:
        raise LedgerError(f"idempotency key must be 1..{IDEMPOTENCY_KEY_LEN_MAX} chars: {key!r}")
    if not 2 <= len(entry.postings) <= POSTINGS_PER_ENTRY_MAX:
        raise LedgerError(f"entry {key}: needs 2..{POSTINGS_PER_ENTRY_MAX} postings")
    for posting in entry.postings:
        check_fen(posting.amount_fen)
        if posting.amount_fen == 0:
            raise LedgerError(f"entry {key}: zero posting on {posting.account_id}")
        if not posting.account_id or len(posting.account_id) > ACCOUNT_ID_LEN_MAX:
            raise LedgerError(f"entry {key}: bad account id {posting.account_id!r}")
        if not posting.component:
            raise LedgerError(f"entry {key}: posting without component")
    total_fen = sum(p.amount_fen for p in entry.postings)
    if total_fen != 0:
        raise UnbalancedEntry(f"entry {key} does not balance: debits - credits = {total_fen} fen")


def entry_content_hash(entry: JournalEntry) -> str:
    """A digest of what the entry says (not who wrote it or in which run).

    When the entry names its ``source``, the digest covers that input instead of
    the postings derived from it.
    """
    head = f"{entry.business_date.isoformat()}\x1f{entry.kind}\x1f"
    if entry.source:
        text = f"{head}source\x1f{entry.source}"
    else:
        legs = sorted((p.account_id, str(p.component), p.amount_fen) for p in entry.postings)
        text = f"{head}{entry.description}\x1f{entry.reference_key or ''}\x1f" + "\x1e".join(
            f"{a}\x1f{c}\x1f{amount}" for a, c, amount in legs
        )
    return hashlib.sha256(text.encode()).hexdigest()


def transfer(
    key: str,
    business_date: date,
    kind: str,
    debit: tuple[str, str],
    credit: tuple[str, str],
    amount_fen: int,
    description: str = "",
    run_id: str | None = None,
) -> JournalEntry:
    """The common two-posting entry: debit one (account, component), credit another."""
    return JournalEntry(
        idempotency_key=key,
        business_date=business_date,
        kind=kind,
        postings=(
            Posting(debit[0], debit[1], amount_fen),
            Posting(credit[0], credit[1], -amount_fen),
        ),
        description=description,
        run_id=run_id,
    )


def is_gl_account(account_id: str) -> bool:
    """True for the bank's own ledger accounts (``GL:...``)."""
    return account_id.startswith(GL_PREFIX)
