"""Auto-repayment: which retry schedule would have recovered most declined debits (pure).

The history is a list of debit attempts (account, due date, attempt date,
declined or succeeded, amount) and the accounts' payroll credit dates. A
**case** is an account's due date whose first attempt was declined. Money is
taken to be in the account on the days ``[p, p + hold_days]`` after each
payroll credit ``p`` (salary is spent on other bills after that), and on every
day an attempt for the case succeeded. A schedule is a set of at most
``retries_max`` retry days, counted from the due date (1..``window_days``); it
recovers a case when one of its days falls on a day with money. The
recommended schedule recovers the most cases, then the most fen, then uses the
fewest retries, then the earliest days.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cardbatch.feedback import csvtext
from cardbatch.feedback.model import FeedbackError

WINDOW_DAYS_MAX = 10
RETRIES_MAX = 4
ATTEMPTS_HEADER = ("account_id", "due_date", "attempt_date", "result", "amount")
PAYROLL_HEADER = ("account_id", "credit_date")
RESULTS = frozenset({"declined", "succeeded"})


@dataclass(frozen=True)
class DebitAttempt:
    account_id: str
    due_date: date
    attempt_date: date
    succeeded: bool
    amount_fen: int

    @property
    def offset_days(self) -> int:
        return (self.attempt_date - self.due_date).days


@dataclass(frozen=True)
class PayrollCredit:
    account_id: str
    credit_date: date


@dataclass(frozen=True)
class OffsetRate:
    """Attempts on one day relative to the due date (or to the last payroll credit)."""

    offset_days: int
    attempts: int
    succeeded: int

    @property
    def success_pct(self) -> str:
        return f"{100 * self.succeeded / self.attempts:.1f}" if self.attempts else "0.0"


@dataclass(frozen=True)
class ScheduleScore:
    retry_days: tuple[int, ...]
    cases_recovered: int
    amount_fen_recovered: int


@dataclass(frozen=True)
class RetryRecommendation:
    cases: int  # declined first attempts
    amount_fen_declined: int
    best: ScheduleScore
    ranked: list[ScheduleScore]  # every schedule considered, best first
    by_due_offset: list[OffsetRate]
    by_payroll_offset: list[OffsetRate]


def recommend_schedule(
    attempts: list[DebitAttempt],
    payroll: list[PayrollCredit],
    *,
    retries_max: int = 2,
    window_days: int = 5,
    hold_days: int = 1,
) -> RetryRecommendation:
    """The retry schedule that would have recovered most declined debits on this history."""
    if not 1 <= retries_max <= RETRIES_MAX or not 1 <= window_days <= WINDOW_DAYS_MAX:
        raise FeedbackError(
            f"retries must be 1..{RETRIES_MAX} and the window 1..{WINDOW_DAYS_MAX} days"
        )
    cases = _cases(attempts, payroll, hold_days)
    scores = [
        _score(days, cases)
        for size in range(1, retries_max + 1)
        for days in itertools.combinations(range(1, window_days + 1), size)
    ]
    scores.sort(key=lambda s: (-s.cases_recovered, -s.amount_fen_recovered, len(s.retry_days),
                               s.retry_days))  # fmt: skip
    return RetryRecommendation(
        cases=len(cases),
        amount_fen_declined=sum(amount for amount, _ in cases),
        best=scores[0],
        ranked=scores,
        by_due_offset=_rates((a.offset_days, a.succeeded) for a in attempts),
        by_payroll_offset=_rates(_payroll_offsets(attempts, payroll)),
    )


def _cases(
    attempts: list[DebitAttempt], payroll: list[PayrollCredit], hold_days: int
) -> list[tuple[int, frozenset[int]]]:
    """Each declined case: its amount and the days (from the due date) with money."""
    by_case: dict[tuple[str, date], list[DebitAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_case[(attempt.account_id, attempt.due_date)].append(attempt)
    credits: dict[str, list[date]] = defaultdict(list)
    for credit in payroll:
        credits[credit.account_id].append(credit.credit_date)
    cases = []
    for (account_id, due), tries in sorted(by_case.items()):
        first = min(tries, key=lambda a: a.attempt_date)
        if first.succeeded:
            continue
        funded = {a.offset_days for a in tries if a.succeeded}
        for credit_date in credits[account_id]:
            start = (credit_date - due).days
            funded.update(range(start, start + hold_days + 1))
        cases.append((first.amount_fen, frozenset(funded)))
    return cases


def _score(days: tuple[int, ...], cases: list[tuple[int, frozenset[int]]]) -> ScheduleScore:
    hit = [amount for amount, funded in cases if funded.intersection(days)]
    return ScheduleScore(days, len(hit), sum(hit))


def _rates(pairs: Iterable[tuple[int, bool]]) -> list[OffsetRate]:
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for offset, ok in pairs:
        counts[offset][0] += 1
        counts[offset][1] += int(ok)
    return [OffsetRate(o, n, s) for o, (n, s) in sorted(counts.items())]


def _payroll_offsets(
    attempts: list[DebitAttempt], payroll: list[PayrollCredit]
) -> list[tuple[int, bool]]:
    """Each attempt's day counted from the latest payroll credit on or before it (if any)."""
    credits: dict[str, list[date]] = defaultdict(list)
    for credit in payroll:
        credits[credit.account_id].append(credit.credit_date)
    pairs = []
    for attempt in attempts:
        before = [d for d in credits[attempt.account_id] if d <= attempt.attempt_date]
        if before:
            pairs.append(((attempt.attempt_date - max(before)).days, attempt.succeeded))
    return pairs


def parse_attempts(text: str, source: str) -> list[DebitAttempt]:
    """``account_id,due_date,attempt_date,result,amount`` (result declined|succeeded; yuan)."""

    def build(f: dict[str, str]) -> DebitAttempt:
        return DebitAttempt(
            csvtext.field_text(f, "account_id"),
            csvtext.field_date(f, "due_date"),
            csvtext.field_date(f, "attempt_date"),
            csvtext.field_choice(f, "result", RESULTS) == "succeeded",
            csvtext.field_yuan(f, "amount"),
        )

    return csvtext.read_rows(text, source, ATTEMPTS_HEADER, build)


def parse_payroll(text: str, source: str) -> list[PayrollCredit]:
    """``account_id,credit_date``: the days payroll reached each account."""

    def build(f: dict[str, str]) -> PayrollCredit:
        return PayrollCredit(
            csvtext.field_text(f, "account_id"), csvtext.field_date(f, "credit_date")
        )

    return csvtext.read_rows(text, source, PAYROLL_HEADER, build)
