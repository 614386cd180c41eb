"""Running the card cycle for dates, and reading what it stored: statements, explanations.

Used by ``cardbatch cycle`` / ``cardbatch statement`` and the demo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from cardbatch.domain.cycle.explain import explain_period
from cardbatch.domain.cycle.period import (
    CarriedState,
    PeriodOutcome,
    PeriodTxn,
    run_account_period,
)
from cardbatch.domain.product import ProductTerms
from cardbatch.engine import calendar
from cardbatch.engine.monitor import RunReport
from cardbatch.engine.registry import get_job
from cardbatch.engine.runner import AlreadyCompleted, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings
from cardbatch.jobs.cycle import JOB_NAME
from cardbatch.jobs.cycle_kernels import (
    ACCOUNT_SCHEMA,
    LOT_SCHEMA,
    TXN_SCHEMA,
    account_period_inputs,
)
from cardbatch.rules.versions import get_version
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries, postings
from cardbatch.store.tables_cycle import (
    STATEMENT_AMOUNTS,
    autopay_attempts,
    cycle_accounts,
    delinquency_history,
    statements,
    status_actions,
)

STATEMENT_KEYS: tuple[str, ...] = ("account_id", "statement_date", "due_date", *STATEMENT_AMOUNTS)


class CycleError(LookupError):
    """Something asked of the cycle's records that is not there."""


@dataclass
class CycleDate:
    business_date: date
    status: str
    run_id: str | None
    report: RunReport | None


def run_cycle(
    store: Store,
    settings: EngineSettings,
    actor: str,
    day: date | None,
    through: date | None,
    dry_run: bool = False,
) -> list[CycleDate]:
    """Run the card-cycle job for a date, or every date up to ``through``; stop at a failure."""
    with store.read() as conn:
        current = calendar.current_business_date(conn)
    job = get_job(JOB_NAME)
    done: list[CycleDate] = []
    for business_date in calendar.dates_to_run(current, day, through):
        request = RunRequest(job, business_date, {}, actor, settings, dry_run=dry_run)
        try:
            report = run_job(store, request)
        except AlreadyCompleted:
            done.append(CycleDate(business_date, "already_completed", None, None))
            continue
        done.append(CycleDate(business_date, report.status, report.run_id, report))
        if report.status != "completed":
            break
    return done


def statement_of(conn: Connection, account_id: str, on: date | None = None) -> dict[str, Any]:
    """The statement of ``account_id`` on ``on`` (default: its latest), with its lines."""
    s = statements.c
    query = select(statements).where(s.account_id == account_id)
    query = query.where(s.statement_date == on) if on else query.order_by(s.statement_date.desc())
    row = conn.execute(query.limit(1)).mappings().first()
    if row is None:
        when = f" on {on}" if on else ""
        raise CycleError(f"account {account_id} has no statement{when}")
    found: dict[str, Any] = {k: row[k] for k in STATEMENT_KEYS}
    found.update(period_start=row["period_start"], dpd=row["dpd"], bucket=row["bucket"],
                 five_category=row["five_category"], rule_version=row["rule_version"])  # fmt: skip
    found["lines"] = period_lines(conn, account_id, row["period_start"], row["statement_date"])
    return found


def period_lines(
    conn: Connection, account_id: str, first: date, last: date
) -> list[dict[str, Any]]:
    """The ledger's entries on the account from ``first`` to ``last``: the statement's lines."""
    je, p = journal_entries.c, postings.c
    query = (
        select(je.business_date, je.kind, je.description, p.component, p.amount_fen)
        .join(journal_entries, je.entry_id == p.entry_id)
        .where(p.account_id == account_id, je.business_date >= first, je.business_date <= last)
        .order_by(je.business_date, je.entry_id, p.posting_id)
    )
    return [
        {"date": d, "kind": k, "description": text, "component": c, "amount_fen": int(a)}
        for d, k, text, c, a in conn.execute(query)
    ]


@dataclass(frozen=True)
class Recomputed:
    """A stored statement recomputed item by item from its stored inputs."""

    rule_version: str
    terms: ProductTerms
    state: CarriedState
    txns: tuple[PeriodTxn, ...]
    outcome: PeriodOutcome


def explain(conn: Connection, account_id: str, on: date) -> list[dict[str, Any]]:
    """Line by line, why the statement of ``on`` came out as it did (from its stored inputs)."""
    s = statements.c
    row = conn.execute(
        select(s.inputs_json, s.rule_version).where(
            s.account_id == account_id, s.statement_date == on
        )
    ).first()
    if row is None:
        raise CycleError(f"account {account_id} has no statement on {on}")
    done = recompute(conn, str(row.inputs_json), str(row.rule_version), {})
    lines = [{"topic": "rules", "text": f"rule version {row.rule_version}", "data": {}}]
    for line in explain_period(done.outcome, done.terms):
        lines.append({"topic": line.topic, "text": line.text, "data": line.data})
    return lines


def recompute(
    conn: Connection, inputs_json: str, rule_version: str, terms_cache: dict[str, ProductTerms]
) -> Recomputed:
    """Recompute a statement from its ``inputs_json`` under its rule version (``CODE@N``).

    ``terms_cache`` keeps the terms of each version label read so far.
    """
    if rule_version not in terms_cache:
        code, _, number = rule_version.partition("@")
        version = get_version(conn, code, int(number))
        fields: dict[str, Any] = dict(version.rules().terms_fields())
        terms_cache[rule_version] = ProductTerms(**fields)
    terms = terms_cache[rule_version]
    inputs = json.loads(inputs_json)
    accounts = _frame(inputs["account"], ACCOUNT_SCHEMA)
    lots = _frame(inputs["lots"], LOT_SCHEMA)
    txns = _frame(inputs["txns"], TXN_SCHEMA)
    state, own_lots, own_txns = account_period_inputs(accounts, lots, txns, 0)
    outcome = run_account_period(state, own_lots, own_txns, terms)
    return Recomputed(rule_version, terms, state, tuple(own_txns), outcome)


def _frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    fixed = []
    for r in rows:
        values = dict(r, account_id=0)
        for name, dtype in schema.items():
            if isinstance(dtype, pl.Date) and isinstance(values.get(name), str):
                values[name] = date.fromisoformat(values[name])
        fixed.append({name: values.get(name) for name in schema})
    return pl.DataFrame(fixed, schema=schema)


def account_status(conn: Connection, account_id: str) -> dict[str, Any]:
    """The account's cycle state (last statement, due date, DPD, bucket, class) and history."""
    row = (
        conn.execute(select(cycle_accounts).where(cycle_accounts.c.account_id == account_id))
        .mappings()
        .first()
    )
    if row is None:
        raise CycleError(f"account {account_id} has not been through the card cycle")
    h = delinquency_history.c
    history = conn.execute(
        select(h.business_date, h.dpd, h.bucket, h.five_category, h.previous_bucket,
               h.previous_category)
        .where(h.account_id == account_id)
        .order_by(h.business_date)
    ).mappings()  # fmt: skip
    a = autopay_attempts.c
    attempts = conn.execute(
        select(a.attempt_id, a.attempt_date, a.statement_date, a.choice, a.amount_fen, a.basis,
               a.status, a.reason_code)
        .where(a.account_id == account_id)
        .order_by(a.attempt_date)
    ).mappings()  # fmt: skip
    s = status_actions.c
    changes = conn.execute(
        select(s.business_date, s.from_status, s.to_status, s.reason)
        .where(s.account_id == account_id)
        .order_by(s.business_date)
    ).mappings()
    found: dict[str, Any] = dict(row)
    found["status_actions"] = [dict(r) for r in changes]
    found["delinquency_history"] = [dict(r) for r in history]
    found["autopay_attempts"] = [dict(r) for r in attempts]
    return found
