"""Product rule sets: the typed, validated form of a product's TOML rules file.

One :class:`RuleSet` holds everything the nightly cycle needs to know about a
product (due date, grace, interest, minimum payment, late fee, payment
allocation, auto-repayment and delinquency edges). The key names are the ones
documented in ``docs/rules.md``; every section refuses unknown keys so that a
typo is an error, not a silently ignored setting.

Rates and percentages are exact :class:`~decimal.Decimal` values written as
strings in TOML (``daily_rate = "0.0005"``); a TOML float is refused because
it is not exact. Amounts are integers of fen (names end in ``_fen``).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from cardbatch.domain.ledger import CARD_COMPONENTS
from cardbatch.money import MoneyError, parse_rate

# Balance components of a card account that a payment can be allocated to: the
# ledger's card components (cardbatch.domain.ledger.CARD_COMPONENTS), same names.
ALLOCATION_COMPONENTS: tuple[str, ...] = tuple(str(c) for c in CARD_COMPONENTS)
# What may count in full (100 %) in the minimum payment; the rest counts at `percent`.
MINIMUM_FULL_COMPONENTS: tuple[str, ...] = (
    *ALLOCATION_COMPONENTS,
    "previous_unpaid_minimum",
    "over_limit",
)
# Standard edges from DOMAIN.md: DPD at which M1..M7 start, and at which
# special mention, substandard, doubtful and loss start.
STANDARD_BUCKET_EDGES: tuple[int, ...] = (1, 31, 61, 91, 121, 151, 181)
STANDARD_FIVE_CATEGORY_EDGES: tuple[int, ...] = (1, 91, 121, 181)
DAILY_RATE_MAX = Decimal("0.01")
# The shortest statement period is 28 days (February): a late fee, charged the day
# after due date + grace, must fall inside the next statement period.
DUE_PLUS_GRACE_DAYS_MAX = 27
AMOUNT_SETTING_FEN_MAX = 10**9  # 10 million yuan: far above any fee or floor

AllocationComponent = Literal["purchase", "cash", "interest", "fee", "late_fee", "instalment"]
MinimumComponent = Literal[
    "purchase",
    "cash",
    "interest",
    "fee",
    "late_fee",
    "instalment",
    "previous_unpaid_minimum",
    "over_limit",
]


def _exact_decimal(value: object, example: str) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError(f'must be an exact decimal string such as "{example}", got {value!r}')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError(f'must be an exact decimal string such as "{example}", got {value!r}')
    try:
        return parse_rate(value)
    except MoneyError:
        raise ValueError(f"not a non-negative decimal: {value!r}") from None


def _rate(value: object) -> Decimal:
    rate = _exact_decimal(value, "0.0005")
    if rate <= 0 or rate > DAILY_RATE_MAX:
        raise ValueError(f"daily rate must be above 0 and at most {DAILY_RATE_MAX}, got {value!r}")
    return rate


def _percent(value: object) -> Decimal:
    percent = _exact_decimal(value, "10")
    if percent <= 0 or percent > 100:
        raise ValueError(f"percent must be above 0 and at most 100, got {value!r}")
    return percent


DailyRate = Annotated[Decimal, BeforeValidator(_rate)]
Percent = Annotated[Decimal, BeforeValidator(_percent)]
assert get_args(AllocationComponent) == ALLOCATION_COMPONENTS, "keep in step with the ledger"
AmountFen = Annotated[int, Field(ge=0, le=AMOUNT_SETTING_FEN_MAX)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"lists {value!r} more than once")
        seen.add(value)
    return values


def _increasing(values: list[int], count: int) -> list[int]:
    if len(values) != count:
        raise ValueError(f"must list exactly {count} edges, got {len(values)}")
    if values[0] < 1:
        raise ValueError(f"edges start at 1 day past due or later, got {values[0]}")
    for before, after in itertools.pairwise(values):
        if after <= before:
            raise ValueError(f"edges must increase strictly, got {before} then {after}")
    return values


class ProductSection(_Section):
    code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=100)
    currency: Literal["CNY"]


class CycleSection(_Section):
    due_days: int = Field(ge=1, le=DUE_PLUS_GRACE_DAYS_MAX)
    grace_days: int = Field(ge=0, le=10)

    @field_validator("grace_days")
    @classmethod
    def _check(cls, value: int, info: ValidationInfo) -> int:
        due_days = info.data.get("due_days")
        if isinstance(due_days, int) and due_days + value > DUE_PLUS_GRACE_DAYS_MAX:
            raise ValueError(
                f"due_days + grace_days must be at most {DUE_PLUS_GRACE_DAYS_MAX} (the late fee"
                f" falls inside the next statement period), got {due_days + value}"
            )
        return value


class InterestSection(_Section):
    daily_rate: DailyRate
    mode: Literal["full_balance", "unpaid_only"]
    cash_from_transaction_date: bool
    waiver_threshold_fen: AmountFen
    charge_interest_on_fees: bool = False


class MinimumPaymentSection(_Section):
    percent: Percent
    floor_fen: AmountFen
    full_components: list[MinimumComponent]

    @field_validator("full_components")
    @classmethod
    def _check(cls, value: list[MinimumComponent]) -> list[MinimumComponent]:
        _unique(list(value))
        return value


class LateFeeSection(_Section):
    percent: Percent
    floor_fen: AmountFen
    cap_fen: AmountFen | None = None

    @field_validator("cap_fen")
    @classmethod
    def _check(cls, value: int | None, info: ValidationInfo) -> int | None:
        floor_fen = info.data.get("floor_fen")
        if value is not None and isinstance(floor_fen, int) and value < floor_fen:
            raise ValueError(f"must not be below floor_fen ({floor_fen}), got {value}")
        return value


def _check_order(order: list[str]) -> None:
    _unique(order)
    missing = [c for c in ALLOCATION_COMPONENTS if c not in order]
    if missing:
        raise ValueError(f"must list every component, missing: {', '.join(missing)}")


class AllocationSection(_Section):
    order_current: list[AllocationComponent]
    order_delinquent: list[AllocationComponent]
    delinquent_from_dpd: int = Field(ge=1, le=3650)

    @field_validator("order_current", "order_delinquent")
    @classmethod
    def _check(cls, value: list[AllocationComponent]) -> list[AllocationComponent]:
        _check_order(list(value))
        return value


class AutopaySection(_Section):
    # due_date: debit the linked deposit on the attempt days; sweep: the combined
    # deposit-credit card (存贷合一卡) sweeps the deposit against the card every night
    mode: Literal["due_date", "sweep"] = "due_date"
    attempt_offset_days: int = Field(ge=0, le=5)
    retry_days: int = Field(default=0, ge=0, le=10)
    fallback_to_minimum: bool
    allow_partial: bool = False


class InstalmentSection(_Section):
    # early payoff (提前还款): the fees of the instalments not yet billed are waived
    # (the holder no longer borrows for those months) or charged at once
    early_payoff_fee: Literal["waive_remaining_fees", "charge_remaining_fees"] = (
        "waive_remaining_fees"
    )


class DelinquencySection(_Section):
    bucket_edges: list[int] = Field(default_factory=lambda: list(STANDARD_BUCKET_EDGES))
    five_category_edges: list[int] = Field(
        default_factory=lambda: list(STANDARD_FIVE_CATEGORY_EDGES)
    )
    # Status actions by bucket (the card cycle applies them); absent = no action.
    block_from_bucket: Literal["M1", "M2", "M3", "M4", "M5", "M6", "M7"] | None = None
    freeze_from_bucket: Literal["M1", "M2", "M3", "M4", "M5", "M6", "M7"] | None = None
    charge_off_dpd: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("bucket_edges")
    @classmethod
    def _check_buckets(cls, value: list[int]) -> list[int]:
        return _increasing(value, 7)

    @field_validator("five_category_edges")
    @classmethod
    def _check_classes(cls, value: list[int]) -> list[int]:
        return _increasing(value, 4)


class RuleSet(_Section):
    """A product's rules, validated. Build it with :func:`cardbatch.rules.load.parse_rules`."""

    product: ProductSection
    cycle: CycleSection
    interest: InterestSection
    minimum_payment: MinimumPaymentSection
    late_fee: LateFeeSection
    allocation: AllocationSection
    autopay: AutopaySection
    delinquency: DelinquencySection = Field(default_factory=DelinquencySection)
    instalment: InstalmentSection = Field(default_factory=InstalmentSection)

    def terms_fields(self) -> dict[str, object]:
        """The cycle's product terms as field name -> value (see :mod:`cardbatch.rules.terms`)."""
        from cardbatch.rules.terms import product_terms_fields

        return product_terms_fields(self)
