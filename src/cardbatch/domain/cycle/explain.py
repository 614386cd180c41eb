"""Line-by-line explanation of a statement's interest, late fee and minimum payment.

Each line says what was computed from what: for interest, the item, its base,
the daily rate, the days (both ends included) and the exact amount; then the
one rounding. For the late fee, the unpaid minimum, the percentage, floor and
cap. For the minimum, the general balance at the percentage and each component
counted in full, the floor and the cap at the balance. Lines are plain records
(topic, text, data) so the CLI can print them or emit them as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from cardbatch.domain.cycle.autopay import AutopayDecision
from cardbatch.domain.cycle.interest import InterestLine, period_interest_exact
from cardbatch.domain.cycle.late_fee import LateFee
from cardbatch.domain.cycle.minimum import MinimumBreakdown
from cardbatch.domain.cycle.period import PeriodOutcome
from cardbatch.domain.product import ProductTerms
from cardbatch.money import format_fen, round_half_up_fen


@dataclass(frozen=True, slots=True)
class ExplainLine:
    """One line of an explanation."""

    topic: str  # "interest", "late_fee", "minimum"
    text: str
    data: dict[str, object] = field(default_factory=dict)


def exact_yuan(exact_fen: Decimal) -> str:
    """Exact fen as yuan text with at least two decimals: ``Decimal("1785") -> "17.85"``."""
    yuan = exact_fen / 100
    text = format(yuan.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def explain_interest(
    lines: Sequence[InterestLine],
    terms: ProductTerms,
    *,
    applies: bool,
    retro_fen_days: int = 0,
) -> list[ExplainLine]:
    """Interest: one line per bearing segment, then the total and its rounding.

    ``retro_fen_days`` (mode A) are the balance-days of the last statement's purchases
    from their posting dates to that statement, charged because it was not paid.
    """
    rate = terms.daily_rate
    out: list[ExplainLine] = []
    retro = Decimal(retro_fen_days) * rate
    if retro_fen_days:
        out.append(
            ExplainLine(
                "interest",
                f"purchases of the last statement, from their posting dates to that statement: "
                f"{exact_yuan(Decimal(retro_fen_days))} yuan-days x {rate} = {exact_yuan(retro)}",
                {"retro_fen_days": retro_fen_days, "exact_fen": str(retro)},
            )
        )
    if not applies:
        out.append(
            ExplainLine(
                "interest",
                "previous statement paid by due date + grace (or unpaid at or under the "
                f"waiver threshold {format_fen(terms.waiver_threshold_fen)}): no interest on it",
            )
        )
    for line in lines:
        posted = f"posted {line.post_date}" if line.post_date else "carried balance"
        for seg in line.segments:
            exact = seg.exact_fen(rate)
            out.append(
                ExplainLine(
                    "interest",
                    f"{line.component} {posted}: {format_fen(seg.base_fen)} x "
                    f"{rate} x {seg.days} days ({seg.first}..{seg.last}) = {exact_yuan(exact)}",
                    {
                        "component": line.component,
                        "post_date": line.post_date.isoformat() if line.post_date else None,
                        "base_fen": seg.base_fen,
                        "daily_rate": str(rate),
                        "days": seg.days,
                        "first": seg.first.isoformat(),
                        "last": seg.last.isoformat(),
                        "exact_fen": str(exact),
                    },
                )
            )
    total = retro + period_interest_exact(lines, rate)
    out.append(
        ExplainLine(
            "interest",
            f"interest ({terms.interest_mode}) exact {exact_yuan(total)}, "
            f"rounded half-up once = {format_fen(round_half_up_fen(total))}",
            {"exact_fen": str(total), "interest_fen": round_half_up_fen(total)},
        )
    )
    return out


def explain_late_fee(fee: LateFee, terms: ProductTerms) -> list[ExplainLine]:
    """Late fee: why it was charged or not, and the arithmetic."""
    data: dict[str, object] = {
        "reason": fee.reason,
        "unpaid_minimum_fen": fee.unpaid_minimum_fen,
        "fee_fen": fee.fee_fen,
    }
    if fee.reason == "minimum_covered":
        text = "minimum covered by due date + grace: no late fee"
    elif fee.reason == "waived_under_threshold":
        text = (
            f"unpaid balance at or under the waiver threshold "
            f"{format_fen(terms.waiver_threshold_fen)}: no late fee"
        )
    else:
        cap_fen = terms.late_fee_cap_fen
        cap = "" if cap_fen is None else f", cap {format_fen(cap_fen)}"
        text = (
            f"late fee: {terms.late_fee_percent}% x unpaid minimum "
            f"{format_fen(fee.unpaid_minimum_fen)} = {exact_yuan(fee.percent_part_exact_fen)}, "
            f"floor {format_fen(terms.late_fee_floor_fen)}{cap} -> {format_fen(fee.fee_fen)}"
        )
    return [ExplainLine("late_fee", text, data)]


def explain_minimum(breakdown: MinimumBreakdown) -> list[ExplainLine]:
    """Minimum payment: the percentage part, each full part, floor and cap at the balance."""
    out = [
        ExplainLine(
            "minimum",
            f"{breakdown.percent}% x general balance {format_fen(breakdown.general_fen)} = "
            f"{exact_yuan(breakdown.percent_part_exact_fen)}",
            {"general_fen": breakdown.general_fen, "percent": str(breakdown.percent)},
        )
    ]
    for name, amount_fen in breakdown.full_parts_fen.items():
        out.append(
            ExplainLine("minimum", f"100% x {name} {format_fen(amount_fen)}", {name: amount_fen})
        )
    out.append(
        ExplainLine(
            "minimum",
            f"minimum payment {format_fen(breakdown.minimum_fen)} (floor "
            f"{format_fen(breakdown.floor_fen)}, never above the statement balance)",
            {"minimum_payment_fen": breakdown.minimum_fen},
        )
    )
    return out


def explain_period(outcome: PeriodOutcome, terms: ProductTerms) -> list[ExplainLine]:
    """The whole explanation of a statement: interest, then late fee, then minimum."""
    lines = explain_interest(
        outcome.interest_lines,
        terms,
        applies=outcome.applies,
        retro_fen_days=outcome.retro_fen_days,
    )
    if outcome.late_fee is not None:
        lines += explain_late_fee(outcome.late_fee, terms)
    return [*lines, *explain_minimum(outcome.minimum)]


def explain_autopay(
    decision: AutopayDecision,
    *,
    choice: str,
    statement_balance_fen: int,
    minimum_fen: int,
    paid_fen: int,
    available_fen: int,
    terms: ProductTerms,
) -> list[ExplainLine]:
    """Auto-repayment: what was due as of the attempt, the funds, and the outcome."""
    full_due = max(0, statement_balance_fen - paid_fen)
    minimum_due = min(max(0, minimum_fen - paid_fen), full_due)
    due_text = (
        f"autopay ({choice}): still unpaid {format_fen(full_due)} of the statement, "
        f"{format_fen(minimum_due)} of the minimum; available {format_fen(max(0, available_fen))}"
    )
    if decision.outcome == "debited":
        result = f"debited {format_fen(decision.amount_fen)} ({decision.basis})"
    elif decision.outcome == "declined":
        result = f"declined {decision.reason_code}"
    else:
        result = "nothing due"
    settings = (
        f"fallback to minimum {'on' if terms.autopay_fallback_to_minimum else 'off'}, "
        f"partial debits {'on' if terms.autopay_allow_partial else 'off'}"
    )
    data: dict[str, object] = {
        "outcome": decision.outcome,
        "amount_fen": decision.amount_fen,
        "basis": decision.basis,
        "reason_code": decision.reason_code,
        "full_due_fen": full_due,
        "minimum_due_fen": minimum_due,
    }
    return [ExplainLine("autopay", f"{due_text}; {settings} -> {result}", data)]
