"""The pure improvement reports on fixture histories: rule-change impact, retry schedule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardbatch.domain.ledger import Posting
from cardbatch.feedback import impact, retry
from cardbatch.feedback.corrections import Original, correction_entry
from cardbatch.feedback.model import CorrectionKind, FeedbackError
from cardbatch.rules.load import parse_rules
from cardbatch.rules.model import RuleSet

ROOT = Path(__file__).resolve().parents[3]
VALID = ROOT / "tests" / "data" / "valid" / "feedback"
INVALID = ROOT / "tests" / "data" / "invalid" / "feedback"


def _rules(path: Path) -> RuleSet:
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path))


def _facts() -> list[impact.PeriodFact]:
    path = VALID / "feedback_period_facts.csv"
    return impact.parse_facts(path.read_text(encoding="utf-8"), str(path))


STANDARD = ROOT / "examples" / "rules" / "standard.toml"


def test_domain_oracles_o1_and_o3() -> None:
    rules = _rules(STANDARD)
    o1, o3 = _facts()[0], _facts()[1]
    assert impact.charges(o1, rules) == impact.Charges(18_50, 10_00)
    assert impact.charges(o3, rules).late_fee_fen == 18_76


def test_impact_of_a_lower_daily_rate_per_segment() -> None:
    rows = impact.compare(_facts(), _rules(STANDARD),
                          _rules(VALID.parent / "rules_standard_lower_rate.toml"))  # fmt: skip
    assert [r.as_dict() for r in rows] == [
        {"segment": "prime", "product": "STD", "periods": 3,
         "interest_a_fen": 16665, "interest_b_fen": 13332, "interest_diff_fen": -3333,
         "late_fee_a_fen": 3000, "late_fee_b_fen": 3000, "late_fee_diff_fen": 0,
         "customers_affected": 2},
        {"segment": "young", "product": "STD", "periods": 3,
         "interest_a_fen": 14367, "interest_b_fen": 11493, "interest_diff_fen": -2874,
         "late_fee_a_fen": 3876, "late_fee_b_fen": 3876, "late_fee_diff_fen": 0,
         "customers_affected": 2},
        {"segment": "*", "product": "*", "periods": 6,
         "interest_a_fen": 31032, "interest_b_fen": 24825, "interest_diff_fen": -6207,
         "late_fee_a_fen": 6876, "late_fee_b_fen": 6876, "late_fee_diff_fen": 0,
         "customers_affected": 4},
    ]  # fmt: skip


def test_impact_of_a_higher_late_fee_floor_per_segment() -> None:
    rows = impact.compare(_facts(), _rules(STANDARD),
                          _rules(VALID / "rules_standard_late_fee_floor_20.toml"))  # fmt: skip
    got = [(r.segment, r.interest_diff_fen, r.late_fee_a_fen, r.late_fee_b_fen,
            r.late_fee_diff_fen, r.customers_affected) for r in rows]  # fmt: skip
    assert got == [
        ("prime", 0, 3000, 3000, 0, 0),
        ("young", 0, 3876, 6000, 2124, 2),
        ("*", 0, 6876, 9000, 2124, 2),
    ]


def test_retry_schedule_recommends_the_payroll_days() -> None:
    attempts_path = VALID / "autopay_attempts_history.csv"
    payroll_path = VALID / "autopay_payroll_days.csv"
    attempts = retry.parse_attempts(attempts_path.read_text(), str(attempts_path))
    payroll = retry.parse_payroll(payroll_path.read_text(), str(payroll_path))
    best_two = retry.recommend_schedule(attempts, payroll, retries_max=2)
    assert (best_two.cases, best_two.amount_fen_declined) == (6, 4800_00)
    assert best_two.best == retry.ScheduleScore((2, 4), 5, 4500_00)
    best_one = retry.recommend_schedule(attempts, payroll, retries_max=1)
    assert best_one.best == retry.ScheduleScore((2,), 3, 1700_00)
    by_day = {r.offset_days: (r.attempts, r.succeeded) for r in best_two.by_due_offset}
    assert by_day == {0: (7, 1), 3: (1, 1)}


def test_bad_history_files_name_file_line_and_field() -> None:
    path = INVALID / "autopay_attempts_bad_result.csv"
    with pytest.raises(FeedbackError, match=r"line 2, field result: must be one of"):
        retry.parse_attempts(path.read_text(), str(path))
    path = INVALID / "feedback_period_facts_bad_amount.csv"
    with pytest.raises(FeedbackError, match=r"line 3, field balance: not an amount"):
        impact.parse_facts(path.read_text(), str(path))


def test_reversal_negates_every_posting_and_references_the_original() -> None:
    original = Original("txn:X", "purchase", "Mall",
                        (Posting("CA1", "purchase", 100), Posting("GL:card_settlement",
                                                                  "balance", -100)))  # fmt: skip
    entry = correction_entry(CorrectionKind.REVERSAL, original, date(2026, 1, 9), "r1")
    assert entry.idempotency_key == "reversal:txn:X"
    assert entry.reference_key == "txn:X"
    assert [(p.account_id, p.amount_fen) for p in entry.postings] == [
        ("CA1", -100), ("GL:card_settlement", 100)
    ]  # fmt: skip
    with pytest.raises(FeedbackError, match="cannot be corrected"):
        correction_entry(CorrectionKind.REVERSAL,
                         Original("reversal:txn:X", "reversal", "", entry.postings),
                         date(2026, 1, 9), None)  # fmt: skip
