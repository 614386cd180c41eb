"""The ``loans-deduct`` job: the nightly loan instalment deduction (贷款扣款) on the engine.

It owns the deduction attempts of a business date: the ``loan_deductions`` rows, the
instalments' ``paid_fen`` and ``status``, and one journal entry per debit (debit the deposit
account, credit ``GL:loan_receivable``). The rule of one attempt lives in
:func:`cardbatch.paybatch.loans.decide_attempt`; schedules and products are imported by
:mod:`cardbatch.paybatch.loans`.

Items are the open instalments (``due`` or ``partial``) due on or before the business date,
keyed ``<loan id>:<instalment no>`` in key order. An instalment this run has already
processed stays in the list (the run's own item results say which), so a resumed run lists
the same items. The job is due every business date and runs in the night after
post-transactions (its payments and refunds are in the deposit balances) and before the
card cycle.

A chunk reads its instalments and their accounts' balances in its own transaction, so the
debits of earlier chunks are seen; within the chunk, instalments of one deposit account share
its balance (what earlier items of the chunk took is set aside). However the items of one
account fall into chunks, their debits never exceed what the account held.

Attempt ``n`` is the one made ``n - 1`` days after the due date; its key
``loan:<loan id>:<instalment>:<attempt>`` (:func:`~cardbatch.paybatch.loans.deduction_key`)
is the entry's idempotency key and the primary key of ``loan_deductions``, so the same date
run again (``--rerun``, or after a crash) never debits twice. Outcomes:

* a debit of the whole rest: succeeded, tally ``paid``; a partial debit (the product's
  ``partial_debit``): succeeded, tally ``partial``; the item's amount is what was debited;
* an attempt that debits nothing is skipped with the attempt's reason code
  (``insufficient_funds``, ``account_closed``, ``account_frozen``, ``account_not_found``): a
  business outcome recorded in ``loan_deductions``, never a processing failure, so a day with
  many empty accounts does not trip the run's failure threshold;
* skipped ``attempted_before``: the date's attempt exists (an earlier run of the date);
  ``overdue``: past the product's last retry day without an attempt, the instalment is
  marked ``overdue``; ``not_open``: no longer open when its chunk ran; ``already_posted``: the
  attempt's entry is in the ledger without its attempt row (nothing is changed).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from cardbatch.domain.ledger import Component, EntryKind, transfer
from cardbatch.engine.job import (
    Item,
    ItemOutcome,
    ItemStatus,
    Job,
    JobContext,
    Step,
    skipped,
    succeeded,
)
from cardbatch.engine.monitor import RunReport
from cardbatch.engine.registry import get_job, register
from cardbatch.engine.runner import AlreadyCompleted, OnChunk, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings, load_settings
from cardbatch.paybatch.loans import (
    DEFAULT_PRODUCT,
    GL_LOAN_RECEIVABLE,
    decide_attempt,
    deduction_key,
    products,
)
from cardbatch.payfiles.reasons import INSUFFICIENT_FUNDS, SUCCESS
from cardbatch.store import Store
from cardbatch.store import loans_repo as repo
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_engine import item_results

JOB_NAME = "loans-deduct"
STEP_NAME = "deduct"
NIGHT_ORDER = 15  # after post-transactions (10), before the card cycle (20)
TALLY_PAID = "paid"
TALLY_PARTIAL = "partial"
ATTEMPTED_BEFORE = "attempted_before"
OVERDUE = "overdue"
NOT_OPEN = "not_open"
ALREADY_POSTED = "already_posted"
NOT_ATTEMPTS = frozenset({ATTEMPTED_BEFORE, OVERDUE, NOT_OPEN, ALREADY_POSTED})

InstalmentKey = tuple[str, int]


def item_key(loan_id: str, instalment_no: int) -> str:
    return f"{loan_id}:{instalment_no}"


def list_instalments(conn: Connection, ctx: JobContext) -> list[Item]:
    """Open instalments due by the business date, and those this run already processed."""
    keys = set(repo.open_instalments_due(conn, ctx.business_date))
    r = item_results.c
    done = conn.execute(
        select(r.item_key).where(r.run_id == ctx.run_id, r.step_name == STEP_NAME)
    ).scalars()
    for key in done:
        loan_id, _, number = str(key).rpartition(":")
        keys.add((loan_id, int(number)))
    return [Item(item_key(*key), key) for key in sorted(keys)]


def deduct_chunk(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> list[ItemOutcome]:
    """One attempt per open instalment of the chunk; attempts and instalment changes are
    written here, the debits are posted by the engine in the same transaction."""
    day = ctx.business_date
    keys: list[InstalmentKey] = [item.payload for item in chunk]
    found = {(c.loan_id, c.instalment_no): c for c in repo.instalments_by_key(conn, keys)}
    attempt_keys = [
        (loan_id, number, (day - found[loan_id, number].due_date).days + 1)
        for loan_id, number in keys
        if (loan_id, number) in found
    ]
    done = repo.attempted(conn, attempt_keys)
    in_ledger = _posted_keys(conn, [deduction_key(*k) for k in attempt_keys])
    known = products(conn)
    spent_fen: dict[str, int] = defaultdict(int)
    outcomes: list[ItemOutcome] = []
    attempts: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    for item, (loan_id, number) in zip(chunk, keys, strict=True):
        row = found.get((loan_id, number))
        if row is None or row.status not in repo.OPEN_STATUSES:
            outcomes.append(skipped(item, NOT_OPEN, "the instalment is no longer open"))
            continue
        product = known.get(row.product_code, DEFAULT_PRODUCT)
        attempt_no = (day - row.due_date).days + 1
        entry_key = deduction_key(loan_id, number, attempt_no)
        if (loan_id, number, attempt_no) in done:
            outcomes.append(skipped(item, ATTEMPTED_BEFORE, f"{entry_key} was attempted before"))
            continue
        if entry_key in in_ledger:
            outcomes.append(skipped(item, ALREADY_POSTED, f"{entry_key} is already in the ledger"))
            continue
        if attempt_no > product.retry_days + 1:
            changes.append({"k_loan": loan_id, "k_no": number, "paid_fen": row.paid_fen,
                            "status": "overdue"})  # fmt: skip
            past = f"past the product's last retry day ({product.retry_days} days)"
            outcomes.append(skipped(item, OVERDUE, past))
            continue
        available_fen = -(row.balance_fen or 0) - spent_fen[row.deposit_account]
        remaining_fen = row.amount_fen - row.paid_fen
        attempt = decide_attempt(remaining_fen, available_fen, row.account_status, product,
                                 attempt_no, row.paid_fen)  # fmt: skip
        debited = attempt.debited_fen
        attempts.append((loan_id, number, attempt_no, day, row.deposit_account, remaining_fen,
                         debited, attempt.status, attempt.reason.key,
                         entry_key if debited else None, ctx.now))  # fmt: skip
        changes.append({"k_loan": loan_id, "k_no": number, "paid_fen": row.paid_fen + debited,
                        "status": attempt.instalment_status})  # fmt: skip
        if not debited:
            outcomes.append(skipped(item, attempt.reason.key, attempt.reason.text_en))
            continue
        spent_fen[row.deposit_account] += debited
        entry = transfer(
            entry_key, day, EntryKind.LOAN_DEDUCTION,
            (row.deposit_account, Component.BALANCE), (GL_LOAN_RECEIVABLE, Component.BALANCE),
            debited, f"loan {loan_id} instalment {number}", run_id=ctx.run_id,
        )  # fmt: skip
        tally = TALLY_PAID if attempt.status == "paid" else TALLY_PARTIAL
        outcomes.append(succeeded(item, entry, debited, tally=tally))
    repo.insert_deductions(conn, attempts)
    repo.update_instalments(conn, changes)
    return outcomes


def _posted_keys(conn: Connection, keys: list[str]) -> set[str]:
    je = journal_entries.c
    found: set[str] = set()
    for start in range(0, len(keys), repo.KEY_LOOKUP_CHUNK):
        part = keys[start : start + repo.KEY_LOOKUP_CHUNK]
        query = select(je.idempotency_key).where(je.idempotency_key.in_(part))
        found.update(conn.execute(query).scalars())
    return found


JOB = register(
    Job(
        name=JOB_NAME,
        description="Debit the loan instalments due by the business date (retries, partial).",
        steps=(Step(STEP_NAME, list_instalments, deduct_chunk),),
        night_order=NIGHT_ORDER,
    )
)


# ----------------------------------------------------------------------------- the command


@dataclass
class DeductOutcome:
    """What one run of the job did, in the terms of ``cardbatch loans deduct``."""

    business_date: date
    run_id: str = ""
    status: str = ""
    dry_run: bool = False
    reason: str | None = None
    attempts: int = 0
    paid: int = 0
    partial: int = 0
    failed: int = 0
    skipped_done_before: int = 0
    overdue: int = 0
    debited_fen: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def outcome_of(report: RunReport) -> DeductOutcome:
    """The deduction counts of a run of the job, from its report."""
    outcome = DeductOutcome(report.business_date, report.run_id, report.status, report.dry_run,
                            report.reason)  # fmt: skip
    by_reason: Counter[str] = Counter()
    for step in report.steps:
        outcome.paid += step.tallies.get(f"count:{TALLY_PAID}", 0)
        outcome.partial += step.tallies.get(f"count:{TALLY_PARTIAL}", 0)
        outcome.debited_fen += step.tallies.get(f"amount_fen:{TALLY_PAID}", 0)
        outcome.debited_fen += step.tallies.get(f"amount_fen:{TALLY_PARTIAL}", 0)
    for failure in report.failures:
        code, items = str(failure["reason_code"]), int(failure["items"])
        if code == ATTEMPTED_BEFORE:
            outcome.skipped_done_before += items
        elif code == OVERDUE:
            outcome.overdue += items
        elif code not in NOT_ATTEMPTS or failure["status"] == ItemStatus.FAILED.value:
            outcome.failed += items
            by_reason[code] += items
    by_reason[SUCCESS.key] += outcome.paid
    by_reason[INSUFFICIENT_FUNDS.key] += outcome.partial
    outcome.attempts = outcome.paid + outcome.partial + outcome.failed
    outcome.by_reason = {k: v for k, v in sorted(by_reason.items()) if v}
    return outcome


def deduct(
    store: Store,
    business_date: date,
    actor: str,
    *,
    settings: EngineSettings | None = None,
    dry_run: bool = False,
    on_chunk: OnChunk | None = None,
) -> DeductOutcome:
    """Run the job for a business date (or continue its unfinished run).

    A date whose run already completed is run again (a rerun): instalments still open are
    listed again, and those attempted on that date are skipped, so nothing is debited twice.
    """
    request = RunRequest(get_job(JOB_NAME), business_date, {}, actor,
                         settings or load_settings(), dry_run=dry_run)  # fmt: skip
    try:
        report = run_job(store, request, on_chunk)
    except AlreadyCompleted:
        report = run_job(store, replace(request, rerun=True), on_chunk)
    return outcome_of(report)
