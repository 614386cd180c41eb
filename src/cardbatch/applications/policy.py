"""The decision policy: a TOML decision table validated into typed, immutable objects.

Sections: ``[policy]`` (code, name), ``[hard_rules]``, ``[[products]]`` (BIN and
issuance settings per product), ``[scorecard]`` (income, employer, age band,
relationship points), ``[[bands]]`` (outcome and limit by score band) and
``[limits]``. Every key is documented in ``docs/applications.md``.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cardbatch.money import parse_rate

STATEMENT_DAY_MAX = 28


class PolicyError(ValueError):
    """A decision table that cannot be used; the message names every bad key."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyHeader(_Model):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: str


class HardRules(_Model):
    age_min_years: int = Field(ge=0, le=120)
    age_max_years: int = Field(ge=0, le=120)
    check_block_list: bool = True
    one_open_per_product: bool = True


class Product(_Model):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    bin: str = Field(pattern=r"^[0-9]{6,8}$")
    card_length: int = Field(ge=16, le=19)
    validity_years: int = Field(ge=1, le=10)
    statement_days: tuple[int, ...] = Field(min_length=1)

    @field_validator("statement_days")
    @classmethod
    def _days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= d <= STATEMENT_DAY_MAX for d in days) or len(set(days)) != len(days):
            raise ValueError(f"statement days must be distinct, 1..{STATEMENT_DAY_MAX}")
        return days


class IncomeBand(_Model):
    from_yuan: int = Field(ge=0)
    points: int


class AgeBand(_Model):
    from_years: int = Field(ge=0)
    points: int


class EmployerPoints(_Model):
    payroll_employer: int
    listed: int
    other: int
    none: int
    preferred_employers: tuple[str, ...] = ()


class RelationshipPoints(_Model):
    existing_customer: int
    deposit_account: int


class Scorecard(_Model):
    income: tuple[IncomeBand, ...] = Field(min_length=1)
    age_band: tuple[AgeBand, ...] = Field(min_length=1)
    employer: EmployerPoints
    relationship: RelationshipPoints

    @field_validator("income", "age_band")
    @classmethod
    def _ascending(
        cls, bands: tuple[IncomeBand | AgeBand, ...]
    ) -> tuple[IncomeBand | AgeBand, ...]:
        lows = [b.from_yuan if isinstance(b, IncomeBand) else b.from_years for b in bands]
        if lows != sorted(set(lows)) or lows[0] != 0:
            raise ValueError("bands must start at 0 and rise strictly")
        return bands


class Band(_Model):
    score_min: int
    outcome: Literal["approve", "refer", "decline"]
    income_multiple: str | None = None
    limit_min_fen: int | None = Field(default=None, ge=0)
    limit_max_fen: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _approve_has_limits(self) -> Band:
        limits = (self.income_multiple, self.limit_min_fen, self.limit_max_fen)
        if self.outcome == "approve":
            if None in limits:
                raise ValueError(
                    "an approve band needs income_multiple, limit_min_fen, limit_max_fen"
                )
            assert self.limit_min_fen is not None and self.limit_max_fen is not None
            if self.limit_min_fen > self.limit_max_fen:
                raise ValueError("limit_min_fen is above limit_max_fen")
            parse_rate(self.income_multiple or "")
        elif limits != (None, None, None):
            raise ValueError(f"a {self.outcome} band has no limit keys")
        return self

    @property
    def multiple(self) -> Decimal:
        return parse_rate(self.income_multiple or "0")


class Limits(_Model):
    step_fen: int = Field(ge=1)


class Policy(_Model):
    policy: PolicyHeader
    hard_rules: HardRules
    products: tuple[Product, ...] = Field(min_length=1)
    scorecard: Scorecard
    bands: tuple[Band, ...] = Field(min_length=1)
    limits: Limits

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.hard_rules.age_min_years > self.hard_rules.age_max_years:
            raise ValueError("hard_rules.age_min_years is above age_max_years")
        codes = [p.code for p in self.products]
        if len(set(codes)) != len(codes):
            raise ValueError("products: a code appears twice")
        scores = [b.score_min for b in self.bands]
        if len(set(scores)) != len(scores):
            raise ValueError("bands: two bands have the same score_min")
        return self

    def product(self, code: str) -> Product | None:
        return next((p for p in self.products if p.code == code), None)

    def band_for(self, score: int) -> Band | None:
        """The band with the highest ``score_min`` at or below ``score``."""
        fitting = [b for b in self.bands if b.score_min <= score]
        return max(fitting, key=lambda b: b.score_min) if fitting else None


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Parse and validate a decision table; every problem is listed with its key path."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyError(f"{source}: {problems}") from None
