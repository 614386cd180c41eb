"""Loan instalment deduction (贷款扣款): schedule import and the nightly deduction step.

``import_schedules`` reads a CSV with one line per instalment::

    loan_id,deposit_account,instalment_no,due_date,amount[,product]

(Chinese headers 贷款编号,扣款账号,期次,到期日,金额,产品 work too). Every problem is
collected with file, line, field and (masked) value; any problem refuses the whole file.

``deduct`` runs for one business date. Each open instalment due by then gets at most one
attempt per day; attempt ``n`` is the one made ``n - 1`` days after the due date, so the key
``loan:<loan id>:<instalment>:<attempt>`` is the same however often the step is re-run.
A product's ``retry_days`` says for how many days after the due date a failed attempt is
tried again; only insufficient funds (AM04) is retried. ``partial_debit`` lets an attempt
take what the account holds and leave the rest for a later attempt. Rows are processed in
chunks, each chunk's postings, attempts and instalment changes in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection

from cardbatch.domain.ledger import Component, EntryKind, JournalEntry, transfer
from cardbatch.domain.masking import mask_card
from cardbatch.domain.records import DepositStatus
from cardbatch.money import MoneyError, parse_yuan
from cardbatch.paybatch.model import PaybatchError
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
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.loans_repo import Candidate, ProductRow

GL_LOAN_RECEIVABLE = "GL:loan_receivable"
DEFAULT_PRODUCT = ProductRow("standard", retry_days=3, partial_debit=False)
RETRY_DAYS_MAX = 60
SCHEDULE_ROWS_MAX = 2_000_000
ERRORS_MAX = 100
DEDUCT_CHUNK_ROWS = 20_000
ID_CHARS_MAX = 40
_HEADERS = {
    "loan_id": "loan_id", "贷款编号": "loan_id",
    "deposit_account": "deposit_account", "扣款账号": "deposit_account",
    "instalment_no": "instalment_no", "期次": "instalment_no",
    "due_date": "due_date", "到期日": "due_date",
    "amount": "amount", "金额": "amount",
    "product": "product", "产品": "product",
}  # fmt: skip
_REQUIRED = ("loan_id", "deposit_account", "instalment_no", "due_date", "amount")


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


@dataclass
class DeductOutcome:
    business_date: date
    attempts: int = 0
    paid: int = 0
    partial: int = 0
    failed: int = 0
    skipped_done_before: int = 0
    overdue: int = 0
    debited_fen: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


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


def _products(conn: Connection) -> dict[str, ProductRow]:
    return {DEFAULT_PRODUCT.product_code: DEFAULT_PRODUCT, **repo.products(conn)}


# ----------------------------------------------------------------------------- import


def import_schedules(store: Store, path: Path, actor: str) -> ImportOutcome:
    """Record every loan and instalment of a schedule file, or none of them."""
    instalments = parse_schedules(path.read_bytes(), path.name)
    with store.write() as conn:
        _check_against_store(conn, instalments, path.name)
        now = utc_now()
        first = {i.loan_id: i for i in reversed(instalments)}
        repo.insert_loans(conn, [
            {"loan_id": i.loan_id, "deposit_account": i.deposit_account,
             "product_code": i.product_code, "source_name": path.name, "created_at": now,
             "created_by": actor}
            for i in first.values()
        ])  # fmt: skip
        repo.insert_instalments(conn, [
            (i.loan_id, i.instalment_no, i.due_date, i.amount_fen, 0, "due") for i in instalments
        ])  # fmt: skip
        total_fen = sum(i.amount_fen for i in instalments)
        audit.record(conn, actor, "loan.import", path.name, loans=len(first),
                     instalments=len(instalments), total_fen=total_fen)  # fmt: skip
    return ImportOutcome(path.name, len(first), len(instalments), total_fen)


def _check_against_store(conn: Connection, instalments: list[Instalment], source: str) -> None:
    problems = []
    known = _products(conn)
    for code in sorted({i.product_code for i in instalments} - set(known)):
        problems.append(f"{source}: product {code!r} is not defined (`loans product set`)")
    existing = repo.existing_loans(conn, [i.loan_id for i in instalments])
    problems += [f"{source}: loan {loan_id} was imported before" for loan_id in sorted(existing)]
    if problems:
        raise ScheduleError(problems[:ERRORS_MAX])


def parse_schedules(data: bytes, source: str) -> list[Instalment]:
    """The instalments of a schedule CSV; :class:`ScheduleError` with every problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gbk")
        except UnicodeDecodeError as exc:
            raise ScheduleError([f"{source}: neither UTF-8 nor GBK (byte {exc.start})"]) from None
    reader = csv.reader(io.StringIO(text))
    columns = _columns(next(reader, []), source)
    problems: list[str] = []
    instalments: list[Instalment] = []
    for line_no, cells in enumerate(reader, 2):
        if any(cell.strip() for cell in cells):
            instalment = _instalment(cells, columns, source, line_no, problems)
            if instalment is not None:
                instalments.append(instalment)
        if len(problems) >= ERRORS_MAX or len(instalments) > SCHEDULE_ROWS_MAX:
            break
    if len(instalments) > SCHEDULE_ROWS_MAX:
        problems.append(f"{source}: more than {SCHEDULE_ROWS_MAX} instalments")
    problems += _consistency(instalments, source)
    if not instalments and not problems:
        problems.append(f"{source}: no instalments")
    if problems:
        raise ScheduleError(problems[:ERRORS_MAX])
    return instalments


def _columns(header: list[str], source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _HEADERS.get(name.strip().lstrip("\ufeff").lower())
        if key is None:
            raise ScheduleError([f"{source}:1: unknown column {name.strip()!r}"])
        columns[key] = index
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise ScheduleError([f"{source}:1: missing column(s) {', '.join(missing)}"])
    return columns


def _instalment(
    cells: list[str], columns: dict[str, int], source: str, line_no: int, problems: list[str]
) -> Instalment | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    before = len(problems)
    where = f"{source}:{line_no}"
    loan_id, account = cell("loan_id"), cell("deposit_account")
    for name, value in (("loan_id", loan_id), ("deposit_account", account)):
        if not value or len(value) > ID_CHARS_MAX:
            shown = mask_card(value) if name == "deposit_account" else value
            problems.append(f"{where}: {name} {shown!r}: must be 1..{ID_CHARS_MAX} characters")
    number_text = cell("instalment_no")
    number = int(number_text) if number_text.isdigit() and number_text.isascii() else 0
    if number < 1:
        problems.append(f"{where}: instalment_no {number_text!r}: not a positive number")
    due = _date(cell("due_date"), where, problems)
    amount_fen = _amount(cell("amount"), where, problems)
    if len(problems) > before or due is None:
        return None
    product = cell("product") or DEFAULT_PRODUCT.product_code
    return Instalment(loan_id, account, number, due, amount_fen, product)


def _date(text: str, where: str, problems: list[str]) -> date | None:
    compact = text.replace("-", "")
    try:
        if len(compact) != 8 or not compact.isdigit():
            raise ValueError
        return date(int(compact[:4]), int(compact[4:6]), int(compact[6:]))
    except ValueError:
        problems.append(f"{where}: due_date {text!r}: not a date YYYY-MM-DD")
        return None


def _amount(text: str, where: str, problems: list[str]) -> int:
    try:
        amount_fen = parse_yuan(text)
    except MoneyError as exc:
        problems.append(f"{where}: amount {text!r}: {exc}")
        return 0
    if amount_fen <= 0:
        problems.append(f"{where}: amount {text!r}: must be above zero")
    return amount_fen


def _consistency(instalments: Sequence[Instalment], source: str) -> list[str]:
    problems = []
    first: dict[str, Instalment] = {}
    seen = Counter((i.loan_id, i.instalment_no) for i in instalments)
    for (loan_id, number), count in sorted(seen.items()):
        if count > 1:
            problems.append(f"{source}: loan {loan_id} instalment {number} appears {count} times")
    for i in instalments:
        one = first.setdefault(i.loan_id, i)
        if (one.deposit_account, one.product_code) != (i.deposit_account, i.product_code):
            problems.append(f"{source}: loan {i.loan_id} has more than one account or product")
    return problems[:ERRORS_MAX]


# ----------------------------------------------------------------------------- deduct


def deduction_key(loan_id: str, instalment_no: int, attempt_no: int) -> str:
    """The idempotency key of one deduction attempt (and the engine's item key)."""
    return f"loan:{loan_id}:{instalment_no}:{attempt_no}"


def deduct(
    store: Store, business_date: date, actor: str, *, chunk_rows: int = DEDUCT_CHUNK_ROWS
) -> DeductOutcome:
    """Attempt every open instalment due by ``business_date`` (idempotent per date)."""
    outcome = DeductOutcome(business_date)
    by_reason: Counter[str] = Counter()
    after: tuple[str, int] = ("", 0)
    while True:
        with store.write() as conn:
            rows = repo.candidates(conn, business_date, after, chunk_rows)
            if not rows:
                break
            _deduct_chunk(conn, rows, business_date, actor, outcome, by_reason)
        after = (rows[-1].loan_id, rows[-1].instalment_no)
    with store.write() as conn:
        audit.record(conn, actor, "loan.deduct", business_date.isoformat(),
                     attempts=outcome.attempts, debited_fen=outcome.debited_fen)  # fmt: skip
    outcome.by_reason = dict(sorted(by_reason.items()))
    return outcome


class _Attempt(NamedTuple):
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
) -> _Attempt:
    """One attempt's outcome (pure): what is debited and where the instalment stands."""
    if account_status is None:
        return _Attempt(ACCOUNT_NOT_FOUND, 0, "failed", "failed")
    if account_status == DepositStatus.CLOSED:
        return _Attempt(ACCOUNT_CLOSED, 0, "failed", "failed")
    if account_status != DepositStatus.ACTIVE:
        return _Attempt(ACCOUNT_FROZEN, 0, "failed", "failed")
    if available_fen >= remaining_fen:
        return _Attempt(SUCCESS, remaining_fen, "paid", "paid")
    last_attempt = attempt_no > product.retry_days
    left = "overdue" if last_attempt else "partial" if paid_before_fen else "due"
    if product.partial_debit and available_fen > 0:
        return _Attempt(INSUFFICIENT_FUNDS, available_fen, "partial",
                        "overdue" if last_attempt else "partial")  # fmt: skip
    return _Attempt(INSUFFICIENT_FUNDS, 0, "failed", left)


def _deduct_chunk(
    conn: Connection,
    rows: Sequence[Candidate],
    business_date: date,
    actor: str,
    outcome: DeductOutcome,
    by_reason: Counter[str],
) -> None:
    products = _products(conn)
    keys = [(r.loan_id, r.instalment_no, (business_date - r.due_date).days + 1) for r in rows]
    done = repo.attempted(conn, keys)
    spent_fen: dict[str, int] = defaultdict(int)
    entries: list[JournalEntry] = []
    attempts: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    now = utc_now()
    for row, key in zip(rows, keys, strict=True):
        product = products.get(row.product_code, DEFAULT_PRODUCT)
        attempt_no = key[2]
        if key in done:
            outcome.skipped_done_before += 1
            continue
        if attempt_no > product.retry_days + 1:
            changes.append({"k_loan": row.loan_id, "k_no": row.instalment_no,
                            "paid_fen": row.paid_fen, "status": "overdue"})  # fmt: skip
            outcome.overdue += 1
            continue
        available_fen = -(row.balance_fen or 0) - spent_fen[row.deposit_account]
        remaining_fen = row.amount_fen - row.paid_fen
        attempt = decide_attempt(remaining_fen, available_fen, row.account_status, product,
                                 attempt_no, row.paid_fen)  # fmt: skip
        entry_key = deduction_key(*key) if attempt.debited_fen else None
        if entry_key is not None:
            spent_fen[row.deposit_account] += attempt.debited_fen
            entries.append(transfer(
                entry_key, business_date, EntryKind.LOAN_DEDUCTION,
                (row.deposit_account, Component.BALANCE), (GL_LOAN_RECEIVABLE, Component.BALANCE),
                attempt.debited_fen, f"loan {row.loan_id} instalment {row.instalment_no}",
                run_id=f"loans-deduct:{business_date.isoformat()}",
            ))  # fmt: skip
        attempts.append((row.loan_id, row.instalment_no, attempt_no, business_date,
                         row.deposit_account, remaining_fen, attempt.debited_fen, attempt.status,
                         attempt.reason.key, entry_key, now))  # fmt: skip
        changes.append({"k_loan": row.loan_id, "k_no": row.instalment_no,
                        "paid_fen": row.paid_fen + attempt.debited_fen,
                        "status": attempt.instalment_status})  # fmt: skip
        _count(outcome, by_reason, attempt)
    post_entries(conn, entries, actor=actor, now=now)
    repo.insert_deductions(conn, attempts)
    repo.update_instalments(conn, changes)


def _count(outcome: DeductOutcome, by_reason: Counter[str], attempt: _Attempt) -> None:
    outcome.attempts += 1
    outcome.debited_fen += attempt.debited_fen
    by_reason[attempt.reason.key] += 1
    if attempt.status == "paid":
        outcome.paid += 1
    elif attempt.status == "partial":
        outcome.partial += 1
    else:
        outcome.failed += 1


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
