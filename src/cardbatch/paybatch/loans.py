"""Loan instalment deduction (贷款扣款): schedule import and the nightly deduction step.

``import_schedules`` reads a schedule file with :func:`cardbatch.payfiles.loans.parse_loan_schedule`
(CSV or XLSX, one line per instalment: loan id, account, instalment number, due date,
amount; Chinese or English headers) and records it under one loan product. Any problem (in
the file, a loan with two accounts, an instalment number twice, a loan imported before, an
undefined product) refuses the whole file.

The nightly deduction is the ``loans-deduct`` job on the batch engine
(:mod:`cardbatch.jobs.loans_deduct`, ``cardbatch loans deduct`` or the night). Each open
instalment due by the business date gets at most one attempt per day; attempt ``n`` is the
one made ``n - 1`` days after the due date, so the key ``loan:<loan id>:<instalment>:<attempt>``
(:func:`deduction_key`) is the same however often the date is run. :func:`decide_attempt` is
the rule of one attempt: a product's ``retry_days`` says for how many days after the due date
a failed attempt is tried again; only insufficient funds (AM04) is retried. ``partial_debit``
lets an attempt take what the account holds and leave the rest for a later attempt.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection

from cardbatch.domain.records import DepositStatus
from cardbatch.paybatch.model import PaybatchError
from cardbatch.payfiles.loans import LoanInstalment, parse_loan_schedule
from cardbatch.payfiles.model import FileError
from cardbatch.payfiles.reasons import (
    ACCOUNT_CLOSED,
    ACCOUNT_FROZEN,
    ACCOUNT_NOT_FOUND,
    INSUFFICIENT_FUNDS,
    SUCCESS,
    Reason,
)
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store import loans_repo as repo
from cardbatch.store.loans_repo import ProductRow

GL_LOAN_RECEIVABLE = "GL:loan_receivable"
DEFAULT_PRODUCT = ProductRow("standard", retry_days=3, partial_debit=False)
RETRY_DAYS_MAX = 60
ERRORS_MAX = 100


class ScheduleError(PaybatchError):
    """A schedule file refused as a whole; ``problems`` lists every problem (file:line ...)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


class Instalment(NamedTuple):
    loan_id: str
    deposit_account: str
    instalment_no: int
    due_date: date
    amount_fen: int
    product_code: str


@dataclass(frozen=True)
class ImportOutcome:
    source: str
    loans: int
    instalments: int
    total_fen: int


# ----------------------------------------------------------------------------- products


def set_product(
    store: Store, product_code: str, retry_days: int, partial_debit: bool, actor: str
) -> ProductRow:
    """Create or change a loan product's deduction settings."""
    if not 0 <= retry_days <= RETRY_DAYS_MAX:
        raise PaybatchError(f"retry days must be 0..{RETRY_DAYS_MAX}, got {retry_days}")
    if not product_code or len(product_code) > 32:
        raise PaybatchError("product code must be 1..32 characters")
    product = ProductRow(product_code, retry_days, partial_debit)
    with store.write() as conn:
        repo.save_product(conn, product, actor, utc_now())
        audit.record(conn, actor, "loan.product", product_code, **product._asdict())
    return product


def products(conn: Connection) -> dict[str, ProductRow]:
    """Every loan product by code, ``standard`` included."""
    return {DEFAULT_PRODUCT.product_code: DEFAULT_PRODUCT, **repo.products(conn)}


# ----------------------------------------------------------------------------- import


def import_schedules(
    store: Store, path: Path, actor: str, product_code: str = DEFAULT_PRODUCT.product_code
) -> ImportOutcome:
    """Record every loan and instalment of a schedule file (read by
    :func:`cardbatch.payfiles.loans.parse_loan_schedule`) under one loan product, or none."""
    try:
        schedule = parse_loan_schedule(path)
    except FileError as exc:
        raise ScheduleError([str(problem) for problem in exc.problems]) from None
    instalments = numbered(schedule.instalments, product_code)
    problems = _consistency(instalments, schedule.source_name)
    if problems:
        raise ScheduleError(problems)
    with store.write() as conn:
        _check_against_store(conn, instalments, schedule.source_name, product_code)
        now = utc_now()
        first = {i.loan_id: i for i in reversed(instalments)}
        repo.insert_loans(conn, [
            {"loan_id": i.loan_id, "deposit_account": i.deposit_account,
             "product_code": i.product_code, "source_name": schedule.source_name,
             "created_at": now, "created_by": actor}
            for i in first.values()
        ])  # fmt: skip
        repo.insert_instalments(conn, [
            (i.loan_id, i.instalment_no, i.due_date, i.amount_fen, 0, "due") for i in instalments
        ])  # fmt: skip
        total_fen = sum(i.amount_fen for i in instalments)
        audit.record(conn, actor, "loan.import", schedule.source_name, loans=len(first),
                     instalments=len(instalments), total_fen=total_fen,
                     content_sha256=schedule.content_sha256)  # fmt: skip
    return ImportOutcome(schedule.source_name, len(first), len(instalments), total_fen)


def numbered(rows: Sequence[LoanInstalment], product_code: str) -> list[Instalment]:
    """The schedule's instalments; a missing instalment number is the instalment's place
    among its loan's due dates."""
    order: dict[str, list[date]] = defaultdict(list)
    for row in rows:
        order[row.loan_id].append(row.due_date)
    places = {
        loan: {day: n for n, day in enumerate(sorted(days), 1)} for loan, days in order.items()
    }
    return [
        Instalment(row.loan_id, row.account, row.instalment_no or places[row.loan_id][row.due_date],
                   row.due_date, row.amount_fen, product_code)
        for row in rows
    ]  # fmt: skip


def _check_against_store(
    conn: Connection, instalments: list[Instalment], source: str, product_code: str
) -> None:
    problems = []
    if product_code not in products(conn):
        problems.append(f"{source}: product {product_code!r} is not defined (`loans product set`)")
    existing = repo.existing_loans(conn, [i.loan_id for i in instalments])
    problems += [f"{source}: loan {loan_id} was imported before" for loan_id in sorted(existing)]
    if problems:
        raise ScheduleError(problems[:ERRORS_MAX])


def _consistency(instalments: Sequence[Instalment], source: str) -> list[str]:
    problems = []
    first: dict[str, Instalment] = {}
    seen = Counter((i.loan_id, i.instalment_no) for i in instalments)
    for (loan_id, number), count in sorted(seen.items()):
        if count > 1:
            problems.append(f"{source}: loan {loan_id} instalment {number} appears {count} times")
    for i in instalments:
        one = first.setdefault(i.loan_id, i)
        if one.deposit_account != i.deposit_account:
            problems.append(f"{source}: loan {i.loan_id} names more than one account")
    return problems[:ERRORS_MAX]


# ----------------------------------------------------------------------------- deduct


def deduction_key(loan_id: str, instalment_no: int, attempt_no: int) -> str:
    """The idempotency key of one deduction attempt's journal entry (one attempt a day)."""
    return f"loan:{loan_id}:{instalment_no}:{attempt_no}"


class Attempt(NamedTuple):
    reason: Reason
    debited_fen: int
    status: str  # attempt status: paid | partial | failed
    instalment_status: str  # due | partial | paid | failed | overdue


def decide_attempt(
    remaining_fen: int,
    available_fen: int,
    account_status: str | None,
    product: ProductRow,
    attempt_no: int,
    paid_before_fen: int,
) -> Attempt:
    """One attempt's outcome (pure): what is debited and where the instalment stands."""
    if account_status is None:
        return Attempt(ACCOUNT_NOT_FOUND, 0, "failed", "failed")
    if account_status == DepositStatus.CLOSED:
        return Attempt(ACCOUNT_CLOSED, 0, "failed", "failed")
    if account_status != DepositStatus.ACTIVE:
        return Attempt(ACCOUNT_FROZEN, 0, "failed", "failed")
    if available_fen >= remaining_fen:
        return Attempt(SUCCESS, remaining_fen, "paid", "paid")
    last_attempt = attempt_no > product.retry_days
    left = "overdue" if last_attempt else "partial" if paid_before_fen else "due"
    if product.partial_debit and available_fen > 0:
        return Attempt(INSUFFICIENT_FUNDS, available_fen, "partial",
                        "overdue" if last_attempt else "partial")  # fmt: skip
    return Attempt(INSUFFICIENT_FUNDS, 0, "failed", left)


@dataclass(frozen=True)
class LoanView:
    loan_id: str
    deposit_account: str
    product_code: str
    instalments: list[dict[str, Any]]
    attempts: list[dict[str, Any]]


def show_loan(store: Store, loan_id: str) -> LoanView:
    with store.read() as conn:
        found = repo.loan_row(conn, loan_id)
        if found is None:
            raise PaybatchError(f"no loan {loan_id}")
        schedule = repo.loan_schedule(conn, loan_id)
        attempts = repo.loan_attempts(conn, loan_id)
    return LoanView(
        loan_id, found[0], found[1],
        [dict(zip(("instalment_no", "due_date", "amount_fen", "paid_fen", "status"), row,
                  strict=True)) for row in schedule],
        [dict(zip(("instalment_no", "attempt_no", "business_date", "due_fen", "debited_fen",
                   "status", "reason_key"), row, strict=True)) for row in attempts],
    )  # fmt: skip
