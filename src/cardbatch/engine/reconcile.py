"""End-of-day reconciliation: trial balance, GL summary, job control totals, and their agreement.

Ledger accounts are grouped by type: card receivables (per component), customer
and enterprise deposits, and each of the bank's own GL accounts (interest,
fee and late-fee income, suspense, settlement, cash). Balances are
debit-positive, so the trial balance agrees when debits = credits.

Checks (all must pass for the night to close the date):

- ``ledger_check``: every entry balanced, every balance = sum of its postings;
- ``trial_balance``: total debit balances = total credit balances;
- ``day_balanced``: the date's postings have debits = credits;
- ``jobs_agree_with_ledger``: each run's declared step totals equal its item
  results and the postings of its entries;
- ``jobs_cover_postings``: the postings written by the date's runs add up to
  the runs' declared debits and credits.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from cardbatch.domain.ledger import CARD_COMPONENTS, GL, Component
from cardbatch.engine import controls, repo
from cardbatch.store.ledger_repo import check_ledger

CARD_RECEIVABLES = "card_receivables"
DEPOSITS = "deposits"


@dataclass(frozen=True)
class LedgerLine:
    account_type: str
    component: str
    accounts: int
    opening_fen: int
    debits_fen: int
    credits_fen: int
    closing_fen: int


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Reconciliation:
    business_date: date
    trial_balance: list[LedgerLine]
    total_debit_balances_fen: int
    total_credit_balances_fen: int
    job_totals: list[dict[str, Any]]
    checks: list[Check] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return all(c.ok for c in self.checks)


# Lines the trial balance always shows, zero when nothing was posted to them.
STANDARD_LINES: tuple[tuple[str, str], ...] = (
    *((CARD_RECEIVABLES, c.value) for c in CARD_COMPONENTS),
    (DEPOSITS, Component.BALANCE.value),
    *((g.value, Component.BALANCE.value) for g in GL),
)

_TYPE = (
    "CASE WHEN x.account_id LIKE 'GL:%' THEN x.account_id "
    "WHEN EXISTS (SELECT 1 FROM card_accounts c WHERE c.account_id = x.account_id) "
    f"THEN '{CARD_RECEIVABLES}' "
    "WHEN EXISTS (SELECT 1 FROM deposit_accounts d WHERE d.account_id = x.account_id) "
    f"THEN '{DEPOSITS}' ELSE 'unclassified' END"
)
_BALANCES = text(
    f"SELECT account_type, component, COUNT(*), SUM(balance_fen) FROM ("
    f" SELECT {_TYPE} AS account_type, x.component, x.balance_fen FROM balances x"
    f") t GROUP BY account_type, component"
)
_DAY = text(
    f"SELECT account_type, component, "
    f" COALESCE(SUM(CASE WHEN amount_fen > 0 THEN amount_fen END), 0),"
    f" COALESCE(-SUM(CASE WHEN amount_fen < 0 THEN amount_fen END), 0) FROM ("
    f" SELECT {_TYPE} AS account_type, x.component, x.amount_fen FROM postings x"
    f" JOIN journal_entries je ON je.entry_id = x.entry_id WHERE je.business_date = :day"
    f") t GROUP BY account_type, component"
)
_RUN_POSTINGS = text(
    "SELECT COUNT(DISTINCT je.entry_id), "
    "COALESCE(SUM(CASE WHEN p.amount_fen > 0 THEN p.amount_fen END), 0), "
    "COALESCE(-SUM(CASE WHEN p.amount_fen < 0 THEN p.amount_fen END), 0) "
    "FROM journal_entries je JOIN postings p ON p.entry_id = je.entry_id WHERE je.run_id = :run"
)


def reconcile(conn: Connection, business_date: date) -> Reconciliation:
    balances = {(t, c): (int(n), int(s)) for t, c, n, s in conn.execute(_BALANCES)}
    day = {(t, c): (int(d), int(cr)) for t, c, d, cr in conn.execute(_DAY, {"day": business_date})}
    lines = []
    for key in sorted(set(balances) | set(day) | set(STANDARD_LINES)):
        accounts, closing = balances.get(key, (0, 0))
        debits, credits = day.get(key, (0, 0))
        opening = closing - debits + credits
        lines.append(LedgerLine(key[0], key[1], accounts, opening, debits, credits, closing))
    debit_total = sum(ln.closing_fen for ln in lines if ln.closing_fen > 0)
    credit_total = -sum(ln.closing_fen for ln in lines if ln.closing_fen < 0)
    result = Reconciliation(business_date, lines, debit_total, credit_total,
                            _job_totals(conn, business_date))  # fmt: skip
    result.checks = _checks(conn, result)
    return result


def _job_totals(conn: Connection, business_date: date) -> list[dict[str, Any]]:
    found = []
    for run in repo.runs_on(conn, business_date):
        steps = repo.step_rows(conn, run.run_id)
        entries, debits, credits = conn.execute(_RUN_POSTINGS, {"run": run.run_id}).one()
        found.append({
            "run_id": run.run_id, "job": run.job_name, "status": run.status.value,
            "items_read": run.items_read, "items_succeeded": run.items_succeeded,
            "items_failed": run.items_failed, "items_skipped": run.items_skipped,
            "steps": {name: asdict(s.totals) for name, s in steps.items()},
            "ledger_entries": int(entries), "ledger_debits_fen": int(debits),
            "ledger_credits_fen": int(credits),
        })  # fmt: skip
    return found


def _checks(conn: Connection, rec: Reconciliation) -> list[Check]:
    ledger = check_ledger(conn)
    day_debits = sum(ln.debits_fen for ln in rec.trial_balance)
    day_credits = sum(ln.credits_fen for ln in rec.trial_balance)
    disagreements: list[str] = []
    uncovered: list[str] = []
    for job in rec.job_totals:
        declared = [0, 0, 0]
        for totals in job["steps"].values():
            declared[0] += totals["entries_written"]
            declared[1] += totals["debits_fen"]
            declared[2] += totals["credits_fen"]
        for name in job["steps"]:
            row = repo.step_rows(conn, job["run_id"])[name]
            disagreements += controls.check_against_store(conn, job["run_id"], row.totals)
        in_ledger = [job["ledger_entries"], job["ledger_debits_fen"], job["ledger_credits_fen"]]
        if in_ledger != declared:
            uncovered.append(f"run {job['run_id']}: ledger {in_ledger} != declared {declared}")
    return [
        Check("ledger_check", ledger.balanced,
              f"{ledger.journal_entries} entries, {len(ledger.mismatches)} mismatches"),
        Check("trial_balance", rec.total_debit_balances_fen == rec.total_credit_balances_fen,
              f"debit balances {rec.total_debit_balances_fen} fen, "
              f"credit balances {rec.total_credit_balances_fen} fen"),
        Check("day_balanced", day_debits == day_credits,
              f"day debits {day_debits} fen, day credits {day_credits} fen"),
        Check("jobs_agree_with_ledger", not disagreements, "; ".join(disagreements) or "ok"),
        Check("jobs_cover_postings", not uncovered, "; ".join(uncovered) or "ok"),
    ]  # fmt: skip


def trial_balance_csv(rec: Reconciliation) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("account_type", "component", "accounts", "balance_fen"))
    for ln in rec.trial_balance:
        writer.writerow((ln.account_type, ln.component, ln.accounts, ln.closing_fen))
    writer.writerow(("TOTAL_DEBIT_BALANCES", "", "", rec.total_debit_balances_fen))
    writer.writerow(("TOTAL_CREDIT_BALANCES", "", "", rec.total_credit_balances_fen))
    return buffer.getvalue()


def gl_summary_csv(rec: Reconciliation) -> str:
    """The day's movements and balances per account type and component, for the bank's GL."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("business_date", "account_type", "component", "opening_fen", "debits_fen",
                     "credits_fen", "closing_fen"))  # fmt: skip
    day = rec.business_date.isoformat()
    for ln in rec.trial_balance:
        writer.writerow((day, ln.account_type, ln.component, ln.opening_fen, ln.debits_fen,
                         ln.credits_fen, ln.closing_fen))  # fmt: skip
    return buffer.getvalue()


def reconciliation_json(rec: Reconciliation) -> str:
    document = {
        "business_date": rec.business_date.isoformat(),
        "agree": rec.agree,
        "checks": [asdict(c) for c in rec.checks],
        "total_debit_balances_fen": rec.total_debit_balances_fen,
        "total_credit_balances_fen": rec.total_credit_balances_fen,
        "trial_balance": [asdict(ln) for ln in rec.trial_balance],
        "job_totals": rec.job_totals,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
