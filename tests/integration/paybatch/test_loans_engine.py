"""The loan deduction as the ``loans-deduct`` job on the engine (SQLite and PostgreSQL): the
night runs it, a date run again or killed mid-run debits each instalment once, and the
instalments of one deposit account never take more than it holds, however they are chunked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardbatch.domain.records import DepositAccount
from cardbatch.engine import EngineSettings, RunRequest, get_job, run_job
from cardbatch.engine.faults import FAULT_ENV
from cardbatch.engine.night import run_night
from cardbatch.engine.registry import night_jobs
from cardbatch.jobs.loans_deduct import JOB_NAME, deduct
from cardbatch.jobs.post_transactions import transaction_file, write_transaction_file
from cardbatch.paybatch.loans import GL_LOAN_RECEIVABLE, import_schedules, set_product
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.parties_repo import insert_deposit_accounts
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_paybatch import loan_deductions, loan_instalments
from tests.engine_helpers import REPO_ROOT, cli_command, cli_env
from tests.integration.paybatch.worlds import ACTIVE, CLOSED, available_fen, fund

DAY = date(2024, 4, 15)
OPS = "ops"
SHARED = "6230000000000011"  # two instalments (600.00 + 500.00) on 1,000.00
SHARED_PARTIAL = "6230000000000012"  # the same with a partial-debit product
SHORT = "6230000000000013"  # 200.00 due on 100.00
CLOSED_ACCOUNT = "6230000000000014"
PLENTY = "6230000000000015"  # 300.00 due on 1,000.00
FUNDS = {SHARED: 100_000, SHARED_PARTIAL: 100_000, SHORT: 10_000, CLOSED_ACCOUNT: 50_000,
         PLENTY: 100_000}  # fmt: skip
STANDARD_ROWS = [
    ("A001", SHARED, 1, "600.00"), ("A002", SHARED, 1, "500.00"), ("B001", SHORT, 1, "200.00"),
    ("C001", CLOSED_ACCOUNT, 1, "50.00"), ("D001", PLENTY, 1, "300.00"),
]  # fmt: skip
PARTIAL_ROWS = [("E001", SHARED_PARTIAL, 1, "600.00"), ("E002", SHARED_PARTIAL, 1, "500.00")]
EXPECTED_STATUS = {
    "A001#1": "paid", "A002#1": "due", "B001#1": "due", "C001#1": "failed", "D001#1": "paid",
    "E001#1": "paid", "E002#1": "partial",
}  # fmt: skip
EXPECTED_DEBITED_FEN = 60_000 + 30_000 + 60_000 + 40_000


def _schedule(path: Path, rows: list[tuple[str, str, int, str]]) -> Path:
    lines = ["loan_id,account,instalment_no,due_date,amount"]
    lines += [f"{loan},{account},{no},{DAY.isoformat()},{amount}"
              for loan, account, no, amount in rows]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_loans(store: Store, folder: Path) -> None:
    records = [DepositAccount(a, f"借款人{a[-2:]}", CLOSED if a == CLOSED_ACCOUNT else ACTIVE)
               for a in FUNDS]  # fmt: skip
    with store.write() as conn:
        insert_deposit_accounts(conn, records, OPS, datetime(2024, 4, 1, tzinfo=UTC))
    for account, amount_fen in FUNDS.items():
        fund(store, account, amount_fen, f"engine-{account}")
    set_product(store, "partial", retry_days=2, partial_debit=True, actor=OPS)
    import_schedules(store, _schedule(folder / "standard.csv", STANDARD_ROWS), OPS)
    import_schedules(store, _schedule(folder / "partial.csv", PARTIAL_ROWS), OPS,
                     product_code="partial")  # fmt: skip


@pytest.fixture
def loan_store(store: Store, tmp_path: Path) -> Store:
    build_loans(store, tmp_path)
    return store


def statuses(store: Store) -> dict[str, str]:
    i = loan_instalments.c
    with store.read() as conn:
        rows = conn.execute(select(i.loan_id, i.instalment_no, i.status))
        return {f"{loan}#{no}": status for loan, no, status in rows}


def loan_entry_keys(store: Store) -> list[str]:
    je = journal_entries.c
    with store.read() as conn:
        query = select(je.idempotency_key).where(je.idempotency_key.like("loan:%"))
        return sorted(conn.execute(query).scalars())


def debited_in_attempts(store: Store) -> int:
    with store.read() as conn:
        total = conn.execute(select(func.sum(loan_deductions.c.debited_fen))).scalar_one()
    return int(total or 0)


def held_fen(store: Store) -> int:
    return sum(available_fen(store, account) for account in FUNDS)


def assert_each_debited_once(store: Store) -> None:
    assert statuses(store) == EXPECTED_STATUS
    assert loan_entry_keys(store) == [
        "loan:A001:1:1", "loan:D001:1:1", "loan:E001:1:1", "loan:E002:1:1",
    ]  # fmt: skip
    assert debited_in_attempts(store) == EXPECTED_DEBITED_FEN
    assert sum(FUNDS.values()) - held_fen(store) == EXPECTED_DEBITED_FEN
    assert -ledger.history(store, GL_LOAN_RECEIVABLE).balance_fen == EXPECTED_DEBITED_FEN
    with store.read() as conn:
        attempts = conn.execute(select(func.count()).select_from(loan_deductions)).scalar_one()
    assert attempts == 7  # one per open instalment, the closed account's too
    assert ledger.check(store).balanced


def settings_for(tmp: Path, chunk_size: int) -> EngineSettings:
    return EngineSettings(chunk_size=chunk_size, inbox_dir=tmp / "inbox", out_dir=tmp / "out")


@pytest.mark.parametrize("chunk_size", [1, 2, 500])
def test_instalments_of_one_account_never_take_more_than_it_holds(
    loan_store: Store, tmp_path: Path, chunk_size: int
) -> None:
    """600.00 + 500.00 due on an account holding 1,000.00: together, in one chunk or apart."""
    outcome = deduct(loan_store, DAY, OPS, settings=settings_for(tmp_path, chunk_size))
    assert outcome.status == "completed"
    assert (outcome.attempts, outcome.paid, outcome.partial, outcome.failed) == (7, 3, 1, 3)
    assert outcome.by_reason == {"account_closed": 1, "insufficient_funds": 3, "success": 3}
    assert outcome.debited_fen == EXPECTED_DEBITED_FEN
    assert available_fen(loan_store, SHARED) == 100_000 - 60_000  # A002 is left for tomorrow
    assert available_fen(loan_store, SHARED_PARTIAL) == 0  # E002 took the rest: 400.00
    assert all(available_fen(loan_store, account) >= 0 for account in FUNDS)
    assert_each_debited_once(loan_store)


def test_the_night_deducts_loans_between_posting_and_the_cycle(
    loan_store: Store, tmp_path: Path
) -> None:
    order = [job.name for job in night_jobs()]
    assert order.index("post-transactions") < order.index(JOB_NAME) < order.index("card-cycle")
    settings = settings_for(tmp_path, 2)
    write_transaction_file(transaction_file(settings.inbox_dir, DAY), [])
    night = run_night(loan_store, settings, OPS, day=DAY).dates[0]
    outcomes = {job.job: job.outcome for job in night.jobs}
    assert outcomes[JOB_NAME] == "completed"
    assert night.ok and night.closed
    assert_each_debited_once(loan_store)

    again = run_night(loan_store, settings, OPS, day=DAY).dates[0]
    assert {job.job: job.outcome for job in again.jobs}[JOB_NAME] == "already_completed"
    rerun = run_job(loan_store, RunRequest(get_job(JOB_NAME), DAY, {}, OPS, settings, rerun=True))
    assert rerun.status == "completed" and rerun.items_succeeded == 0
    assert {f["reason_code"]: f["items"] for f in rerun.failures} == {"attempted_before": 3}
    assert_each_debited_once(loan_store)


def test_the_same_date_again_debits_nothing_twice(loan_store: Store, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 3)
    first = deduct(loan_store, DAY, OPS, settings=settings)
    again = deduct(loan_store, DAY, OPS, settings=settings)
    assert first.run_id != again.run_id and again.status == "completed"
    assert (again.attempts, again.debited_fen, again.skipped_done_before) == (0, 0, 3)
    assert_each_debited_once(loan_store)


def test_a_dry_run_reports_the_debits_and_commits_nothing(
    loan_store: Store, tmp_path: Path
) -> None:
    before = statuses(loan_store)
    rehearsal = deduct(loan_store, DAY, OPS, settings=settings_for(tmp_path, 2), dry_run=True)
    assert rehearsal.dry_run and rehearsal.debited_fen == EXPECTED_DEBITED_FEN
    assert statuses(loan_store) == before and loan_entry_keys(loan_store) == []
    assert held_fen(loan_store) == sum(FUNDS.values())


def _deduct_cli(db_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    args = ("loans", "deduct", "--date", DAY.isoformat(), "--chunk-size", "1", "--json")
    # The sources of this tree, whichever copy of the package the interpreter has installed.
    sources = os.pathsep.join((str(REPO_ROOT / "src"), str(REPO_ROOT)))
    return subprocess.run(cli_command(*args), env=cli_env(db_url, PYTHONPATH=sources, **env),
                          cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize(
    "kill_at",
    ["deduct:0:listed", "deduct:1:after_post", "deduct:1:in_commit", "deduct:2:before_commit",
     "deduct:3:after_commit"],
)  # fmt: skip
def test_a_killed_run_resumes_and_debits_each_instalment_once(
    loan_store: Store, db_url: str, kill_at: str
) -> None:
    killed = _deduct_cli(db_url, **{FAULT_ENV: kill_at})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = _deduct_cli(db_url)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["status"] == "completed"
    assert_each_debited_once(loan_store)
    again = _deduct_cli(db_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["attempts"] == 0
    assert_each_debited_once(loan_store)
