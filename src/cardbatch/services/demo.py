"""The demo: a synthetic bank on a fresh database, its batch work, and what happened.

It writes the synthetic bank as the export files other systems would send
(customers, deposit accounts with balances, card accounts, one card-switch
transaction file per business date, each with a few deliberately dirty rows),
loads them through the real importers, loads the example product rules
(approved by a second user), then for each business date imports that
night's transaction file and runs the nightly card cycle on the engine (late
fees, auto-repayment, statements, delinquency), and checks the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from cardbatch.engine.registry import get_job
from cardbatch.engine.runner import RunRequest, run_job
from cardbatch.engine.settings import load_settings
from cardbatch.ingest.demo_files import BankFiles, write_bank_files
from cardbatch.ingest.service import ImportResult, import_file
from cardbatch.rules.versions import approve_version, load_version
from cardbatch.services import audit, ledger
from cardbatch.services.actor import utc_now
from cardbatch.services.synthetic import Bank, Txn, build_bank, day_transactions
from cardbatch.store import Store, StoreError
from cardbatch.store.ledger_repo import LedgerCheck
from cardbatch.store.parties_repo import insert_enterprises
from cardbatch.store.tables import balances, customers, journal_entries, postings
from cardbatch.store.tables_cycle import autopay_attempts, cycle_accounts, statements

DEMO_START = date(2026, 1, 1)
DEMO_DAYS = 62  # two statement cycles for every statement day (1..28)
EXAMPLE_RULES = Path(__file__).parents[3] / "examples" / "rules" / "standard.toml"
RULES_MAKER = "demo-product-owner"
RULES_CHECKER = "demo-risk-officer"
CYCLE_JOB = "card-cycle"
DEMO_CUSTOMERS_MAX = 1_000_000
DEMO_DAYS_MAX = 366


@dataclass(frozen=True)
class DemoConfig:
    customers: int = 1_000
    days: int = DEMO_DAYS
    seed: int = 7
    start: date = DEMO_START

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= DEMO_CUSTOMERS_MAX:
            raise ValueError(f"customers must be 1..{DEMO_CUSTOMERS_MAX}")
        if not 1 <= self.days <= DEMO_DAYS_MAX:
            raise ValueError(f"days must be 1..{DEMO_DAYS_MAX}")


@dataclass
class DemoReport:
    customers: int = 0
    card_accounts: int = 0
    deposit_accounts: int = 0
    enterprises: int = 0
    business_dates: list[str] = field(default_factory=list)
    transactions_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    amount_fen_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    receivables_fen_by_component: dict[str, int] = field(default_factory=dict)
    deposits_fen: int = 0
    sample_account_id: str = ""
    rule_version: str = ""
    cycle_runs: list[str] = field(default_factory=list)
    cycle: dict[str, Any] = field(default_factory=dict)
    ledger: LedgerCheck | None = None
    imports: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)


class DemoFailed(StoreError):
    """A batch of the demo did not complete."""


class DatabaseNotEmpty(StoreError):
    """The demo builds a fresh bank and will not mix it into existing data."""


def run_demo(
    store: Store,
    config: DemoConfig,
    actor: str,
    on_day: Callable[[date], None] | None = None,
    workdir: Path = Path("out/demo"),
) -> DemoReport:
    """Build the synthetic bank and run its nights; ``on_day`` reports progress."""
    _require_empty(store)
    opened_on = config.start - timedelta(days=1)
    bank = build_bank(config.customers, config.seed, opened_on)
    dates = [config.start + timedelta(days=offset) for offset in range(config.days)]
    txns: dict[date, Sequence[Txn]] = {d: day_transactions(bank, d, config.seed) for d in dates}
    files = write_bank_files(bank, workdir / "files", txns)
    report = DemoReport()
    _load_bank(store, bank, files, opened_on, actor, report)
    report.rule_version = _load_rules(store, bank, opened_on)
    job = get_job(CYCLE_JOB)
    settings = load_settings()
    for business_date in dates:
        if txns[business_date]:  # on a quiet day the switch sends no file
            path = files.transactions[business_date]
            result = import_file(store, "transactions", path, business_date=business_date,
                                 actor=actor)  # fmt: skip
            _note_import(report, result)
        report.business_dates.append(business_date.isoformat())
        run = run_job(store, RunRequest(job, business_date, {}, actor, settings))
        if run.status != "completed":
            raise DemoFailed(f"card cycle for {business_date}: {run.status} ({run.reason})")
        report.cycle_runs.append(run.run_id)
        for txn in txns[business_date]:
            report.transactions_by_kind[txn.kind] += 1
            report.amount_fen_by_kind[txn.kind] += txn.amount_fen
        if on_day is not None:
            on_day(business_date)
    _portfolio(store, bank, report)
    with store.read() as conn:
        report.cycle = cycle_summary(conn)
    report.ledger = ledger.check(store)
    return report


def _note_import(report: DemoReport, result: ImportResult) -> None:
    summary = result.summary()
    report.imports.append(summary)
    report.rejects.extend({"file": Path(result.file).name, **r} for r in result.rejects)


def _require_empty(store: Store) -> None:
    with store.read() as conn:
        count = conn.execute(select(func.count()).select_from(customers)).scalar_one()
    if count:
        raise DatabaseNotEmpty(
            f"the database already holds {count} customers; the demo needs a fresh database "
            "(give a new --db file)"
        )


def _load_bank(
    store: Store, bank: Bank, files: BankFiles, opened_on: date, actor: str, report: DemoReport
) -> None:
    """Enterprises directly; customers, deposits (with opening balances) and cards by import."""
    with store.write() as conn:
        report.enterprises = insert_enterprises(conn, bank.enterprises, actor, utc_now())
        audit.record(conn, actor, "demo.build", "bank", customers=len(bank.customers))
    for kind, path in (("customers", files.customers), ("deposits", files.deposits),
                       ("accounts", files.accounts)):  # fmt: skip
        result = import_file(store, kind, path, business_date=opened_on, actor=actor)
        _note_import(report, result)
        accepted = result.rows_accepted
        if kind == "customers":
            report.customers = accepted
        elif kind == "deposits":
            report.deposit_accounts = accepted
        else:
            report.card_accounts = accepted


def _load_rules(store: Store, bank: Bank, effective: date) -> str:
    """The example product's rules under the synthetic bank's product code, approved."""
    codes = sorted({c.product_code for c in bank.cards})
    text = EXAMPLE_RULES.read_text(encoding="utf-8")
    labels = []
    with store.write() as conn:
        for code in codes:
            own = text.replace('code = "STD"', f'code = "{code}"', 1)
            version, _ = load_version(conn, own, effective, RULES_MAKER, EXAMPLE_RULES.name)
            approve_version(conn, version.product_code, version.version_no, RULES_CHECKER)
            labels.append(version.label)
    return ", ".join(labels)


def cycle_summary(conn: Connection) -> dict[str, Any]:
    """Statements, auto-repayment results, late fees and the delinquency distribution."""
    s, a, c = statements.c, autopay_attempts.c, cycle_accounts.c
    je, p = journal_entries.c, postings.c
    stated = conn.execute(
        select(func.count(), func.coalesce(func.sum(s.closing_balance_fen), 0),
               func.coalesce(func.sum(s.interest_fen), 0),
               func.coalesce(func.sum(s.minimum_payment_fen), 0))
    ).one()  # fmt: skip
    samples = conn.execute(
        select(s.account_id, s.statement_date, s.due_date, s.closing_balance_fen,
               s.minimum_payment_fen, s.interest_fen, s.late_fee_fen)
        .order_by(s.statement_date.desc(), s.closing_balance_fen.desc()).limit(5)
    ).mappings()  # fmt: skip
    autopay = conn.execute(
        select(a.status, a.reason_code, func.count(), func.coalesce(func.sum(a.amount_fen), 0))
        .group_by(a.status, a.reason_code).order_by(a.status, a.reason_code)
    ).all()  # fmt: skip
    late = conn.execute(
        select(func.count(), func.coalesce(func.sum(p.amount_fen), 0))
        .join(journal_entries, je.entry_id == p.entry_id)
        .where(je.kind == "late_fee", p.amount_fen > 0)
    ).one()  # fmt: skip
    buckets = conn.execute(
        select(c.bucket, c.five_category, func.count())
        .group_by(c.bucket, c.five_category).order_by(c.bucket, c.five_category)
    ).all()  # fmt: skip
    return {
        "statements": int(stated[0]),
        "statement_closing_fen": int(stated[1]),
        "statement_interest_fen": int(stated[2]),
        "statement_minimum_fen": int(stated[3]),
        "sample_statements": [dict(r) for r in samples],
        "autopay": [
            {"status": st, "reason_code": rc, "count": int(n), "amount_fen": int(f)}
            for st, rc, n, f in autopay
        ],
        "late_fees": int(late[0]),
        "late_fees_fen": int(late[1]),
        "delinquency": [
            {"bucket": b, "five_category": k, "accounts": int(n)} for b, k, n in buckets
        ],
    }


def _portfolio(store: Store, bank: Bank, report: DemoReport) -> None:
    card_ids = {c.account_id for c in bank.cards}
    deposit_ids = {d.account_id for d in bank.deposits}
    by_component: dict[str, int] = defaultdict(int)
    with store.read() as conn:
        rows = conn.execute(select(balances.c.account_id, balances.c.component,
                                   balances.c.balance_fen))  # fmt: skip
        for account_id, component, amount_fen in rows:
            if account_id in card_ids:
                by_component[component] += amount_fen
            elif account_id in deposit_ids:
                report.deposits_fen -= amount_fen  # deposits are credit balances
    report.receivables_fen_by_component = dict(sorted(by_component.items()))
    report.sample_account_id = bank.cards[0].account_id
