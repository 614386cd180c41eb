"""Rule-change impact: interest and late fees of two rule versions over the same history (pure).

Each fact is one account's statement period as it happened: the interest base
(``balance_fen``, the balance interest accrues on), the day count, the amount
left unpaid after the due date and the unpaid part of the minimum payment.
Under a rule set:

- unpaid at most ``interest.waiver_threshold_fen``: no interest, no late fee, except
  on the period's own cash advances (``new_cash_fen_days``, balance-days; they bear
  interest from their transaction date whatever was paid; 0 in facts files);
- interest = ``round_half_up_fen(accrue(balance_fen, daily_rate, days) +
  accrue(new_cash_fen_days, daily_rate))``;
- late fee, when part of the minimum is unpaid = ``round_half_up_fen(percent_of(
  minimum_unpaid_fen, late_fee.percent))``, at least ``floor_fen``, at most
  ``cap_fen`` if set.

The report compares version A (in force) with version B (candidate) per segment
and product: periods, interest and late fees under each, the differences, and
the customers (accounts) whose charges would change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from cardbatch.feedback import csvtext
from cardbatch.money import accrue, percent_of, round_half_up_fen
from cardbatch.rules.model import RuleSet

FACTS_HEADER = (
    "account_id", "product", "segment", "period_end", "balance", "days", "unpaid",
    "minimum_unpaid",
)  # fmt: skip
PERIOD_DAYS_MAX = 62


@dataclass(frozen=True)
class PeriodFact:
    account_id: str
    product_code: str
    segment: str
    period_end: date
    balance_fen: int
    days: int
    unpaid_fen: int
    minimum_unpaid_fen: int
    new_cash_fen_days: int = 0


@dataclass(frozen=True)
class Charges:
    interest_fen: int
    late_fee_fen: int


def charges(fact: PeriodFact, rules: RuleSet) -> Charges:
    """Interest and late fee for one account-period under one rule set."""
    rate = rules.interest.daily_rate
    new_cash = accrue(fact.new_cash_fen_days, rate)
    if fact.unpaid_fen <= rules.interest.waiver_threshold_fen:
        return Charges(round_half_up_fen(new_cash), 0)
    interest_fen = round_half_up_fen(accrue(fact.balance_fen, rate, fact.days) + new_cash)
    late_fee_fen = 0
    if fact.minimum_unpaid_fen > 0:
        fee = round_half_up_fen(percent_of(fact.minimum_unpaid_fen, rules.late_fee.percent))
        late_fee_fen = max(fee, rules.late_fee.floor_fen)
        if rules.late_fee.cap_fen is not None:
            late_fee_fen = min(late_fee_fen, rules.late_fee.cap_fen)
    return Charges(interest_fen, late_fee_fen)


@dataclass
class ImpactRow:
    segment: str
    product_code: str
    periods: int = 0
    interest_a_fen: int = 0
    interest_b_fen: int = 0
    late_fee_a_fen: int = 0
    late_fee_b_fen: int = 0
    customers_affected: int = 0
    _affected: set[str] = field(default_factory=set, repr=False, compare=False)

    @property
    def interest_diff_fen(self) -> int:
        return self.interest_b_fen - self.interest_a_fen

    @property
    def late_fee_diff_fen(self) -> int:
        return self.late_fee_b_fen - self.late_fee_a_fen

    def add(self, fact: PeriodFact, a: Charges, b: Charges) -> None:
        self.periods += 1
        self.interest_a_fen += a.interest_fen
        self.interest_b_fen += b.interest_fen
        self.late_fee_a_fen += a.late_fee_fen
        self.late_fee_b_fen += b.late_fee_fen
        if a != b:
            self._affected.add(fact.account_id)
            self.customers_affected = len(self._affected)

    def as_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment, "product": self.product_code, "periods": self.periods,
            "interest_a_fen": self.interest_a_fen, "interest_b_fen": self.interest_b_fen,
            "interest_diff_fen": self.interest_diff_fen,
            "late_fee_a_fen": self.late_fee_a_fen, "late_fee_b_fen": self.late_fee_b_fen,
            "late_fee_diff_fen": self.late_fee_diff_fen,
            "customers_affected": self.customers_affected,
        }  # fmt: skip


IMPACT_COLUMNS = tuple(ImpactRow("", "").as_dict())


def compare(facts: list[PeriodFact], rules_a: RuleSet, rules_b: RuleSet) -> list[ImpactRow]:
    """One row per (segment, product), sorted, then a total row (segment ``*``, product ``*``)."""
    rows: dict[tuple[str, str], ImpactRow] = defaultdict(lambda: ImpactRow("", ""))
    total = ImpactRow("*", "*")
    for fact in facts:
        key = (fact.segment, fact.product_code)
        row = rows.setdefault(key, ImpactRow(fact.segment, fact.product_code))
        a, b = charges(fact, rules_a), charges(fact, rules_b)
        row.add(fact, a, b)
        total.add(fact, a, b)
    return [rows[key] for key in sorted(rows)] + [total]


def parse_facts(text: str, source: str) -> list[PeriodFact]:
    """The facts CSV, header :data:`FACTS_HEADER`; amounts in yuan."""

    def build(f: dict[str, str]) -> PeriodFact:
        return PeriodFact(
            csvtext.field_text(f, "account_id"),
            csvtext.field_text(f, "product"),
            csvtext.field_text(f, "segment"),
            csvtext.field_date(f, "period_end"),
            csvtext.field_yuan(f, "balance"),
            csvtext.field_int(f, "days", 0, PERIOD_DAYS_MAX),
            csvtext.field_yuan(f, "unpaid"),
            csvtext.field_yuan(f, "minimum_unpaid"),
        )

    return csvtext.read_rows(text, source, FACTS_HEADER, build)
