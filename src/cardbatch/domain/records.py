"""Customers, card accounts, deposit accounts and enterprises as immutable records.

These are the parties and accounts that batches act on. Their validation is
pure; the store keeps them in tables of the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

STATEMENT_DAY_MIN = 1
STATEMENT_DAY_MAX = 28  # every month has the day, so a cycle never skips a month


class AutopayMode(StrEnum):
    """What auto-repayment (自动还款) debits on the attempt day."""

    NONE = "none"
    FULL = "full"
    MINIMUM = "minimum"


class CardStatus(StrEnum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    BLOCKED = "blocked"  # no new spending
    FROZEN = "frozen"
    CHARGED_OFF = "charged_off"
    CLOSED = "closed"


class DepositStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class EnterpriseKind(StrEnum):
    EMPLOYER = "employer"
    BILLER = "biller"


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    id_number: str  # resident ID, normalised (cardbatch.domain.identity.normalize_ric)
    phone: str | None
    city: str | None
    birth_date: date | None
    credit_score: int | None = None


@dataclass(frozen=True)
class DepositAccount:
    """A debit account: auto-repayment draws from it, payroll pays into it."""

    account_id: str
    holder_name: str
    status: DepositStatus = DepositStatus.ACTIVE
    customer_id: str | None = None
    enterprise_id: str | None = None
    opened_on: date | None = None


@dataclass(frozen=True)
class CardAccount:
    account_id: str
    customer_id: str
    product_code: str
    card_number: str
    credit_limit_fen: int
    statement_day: int
    repayment_account_id: str | None = None
    autopay_mode: AutopayMode = AutopayMode.NONE
    status: CardStatus = CardStatus.ACTIVE
    opened_on: date | None = None

    def __post_init__(self) -> None:
        if not STATEMENT_DAY_MIN <= self.statement_day <= STATEMENT_DAY_MAX:
            raise ValueError(
                f"card account {self.account_id}: statement day must be "
                f"{STATEMENT_DAY_MIN}..{STATEMENT_DAY_MAX}, got {self.statement_day}"
            )
        if self.credit_limit_fen < 0:
            raise ValueError(f"card account {self.account_id}: negative credit limit")
        if self.autopay_mode != AutopayMode.NONE and not self.repayment_account_id:
            raise ValueError(f"card account {self.account_id}: autopay needs a repayment account")


@dataclass(frozen=True)
class Enterprise:
    """An employer (payroll) or biller (fee collection) with its settlement deposit account."""

    enterprise_id: str
    name: str
    kind: EnterpriseKind
    unit_no: str
    settlement_account_id: str
