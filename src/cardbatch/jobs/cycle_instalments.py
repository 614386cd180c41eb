"""Instalments (账单分期) for the card cycle: converting an amount, and what a statement bills.

A conversion moves the amount from the card's ``purchase`` component to its
``instalment`` component in one entry (kind ``instalment``), so the holder still
owes it; the cycle sees it as a credit of the period (it leaves the purchases)
and bills instalment k's principal and fee on the k-th statement date after the
conversion (``cardbatch.domain.cycle.instalments.convert``).

Early payoff (提前还款, :func:`pay_off_instalments`) bills every principal not yet
billed on the plan's next statement date at once; the fees of those instalments are
waived or billed with it, as the product's ``[instalment] early_payoff_fee`` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, insert, select, update

from cardbatch.domain.cycle.dates import next_statement_date
from cardbatch.domain.cycle.instalments import (
    InstalmentLine,
    InstalmentPlan,
    PayoffFeePolicy,
    convert,
    early_payoff,
)
from cardbatch.domain.ledger import Component, EntryKind, JournalEntry, Posting
from cardbatch.rules.versions import RuleVersionError, rules_in_force
from cardbatch.store.frame_io import key_in
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_cycle import instalment_lines, instalment_plans, statements


class InstalmentRefused(ValueError):
    """A conversion that cannot be made; the message says why."""


@dataclass(frozen=True)
class Converted:
    plan_id: str
    account_id: str
    principal_fen: int
    instalments: int
    fee_fen: int
    first_bill_date: date


def convert_to_instalments(
    conn: Connection,
    account_id: str,
    amount_fen: int,
    count: int,
    monthly_fee_percent: Decimal,
    on: date,
    actor: str,
    now: datetime,
) -> Converted:
    """Convert ``amount_fen`` of the card's purchases into ``count`` monthly instalments."""
    c = card_accounts.c
    statement_day = conn.execute(
        select(c.statement_day).where(c.account_id == account_id)
    ).scalar_one_or_none()
    if statement_day is None:
        raise InstalmentRefused(f"no card account {account_id}")
    first = next_statement_date(on, int(statement_day))
    plan = convert(amount_fen, count, monthly_fee_percent, first_bill_date=first,
                   statement_day=int(statement_day))  # fmt: skip
    p = instalment_plans.c
    number = conn.execute(
        select(func.count()).select_from(instalment_plans).where(p.account_id == account_id)
    ).scalar_one()
    plan_id = f"{account_id}:{int(number) + 1}"
    key = f"instalment:{plan_id}"
    entry = JournalEntry(key, on, EntryKind.INSTALMENT,
                         (Posting(account_id, Component.INSTALMENT, amount_fen),
                          Posting(account_id, Component.PURCHASE, -amount_fen)),
                         f"converted into {count} monthly instalments")  # fmt: skip
    post_entries(conn, [entry], actor=actor, now=now)
    conn.execute(insert(instalment_plans), [{
        "plan_id": plan_id, "account_id": account_id, "converted_on": on,
        "principal_fen": amount_fen, "instalments": count,
        "monthly_fee_percent": str(monthly_fee_percent), "fee_fen": plan.fee_fen,
        "entry_key": key,
    }])  # fmt: skip
    conn.execute(insert(instalment_lines), [
        {"plan_id": plan_id, "number": line.number, "account_id": account_id,
         "bill_date": line.bill_date, "principal_fen": line.principal_fen, "fee_fen": line.fee_fen}
        for line in plan.lines
    ])  # fmt: skip
    return Converted(plan_id, account_id, amount_fen, count, plan.fee_fen, first)


def billing(conn: Connection, account_ids: Sequence[str], day: date) -> pl.DataFrame:
    """Per account: principal and fee billed on ``day``, and principal unbilled before it."""
    lines = instalment_lines.c
    query = select(lines.account_id, lines.bill_date, lines.principal_fen, lines.fee_fen).where(
        key_in(conn, lines.account_id, account_ids), lines.bill_date >= day
    )
    rows = [tuple(r) for r in conn.execute(query)]
    frame = pl.DataFrame(
        rows,
        schema={"account_id": pl.Utf8, "bill_date": pl.Date, "principal_fen": pl.Int64,
                "fee_fen": pl.Int64},
        orient="row",
    )  # fmt: skip
    today = pl.col("bill_date") == day
    return frame.group_by("account_id").agg(
        pl.col("principal_fen").filter(today).sum().alias("instalment_principal_fen"),
        pl.col("fee_fen").filter(today).sum().alias("instalment_fee_fen"),
        pl.col("principal_fen").sum().alias("unbilled_instalment_fen"),
    )


@dataclass(frozen=True)
class PaidOff:
    """An early payoff: what the plan's next statement bills, and the fee waived."""

    plan_id: str
    account_id: str
    paid_off_on: date
    bill_date: date
    principal_fen: int
    fee_fen: int
    waived_fee_fen: int
    fee_policy: str


def pay_off_instalments(conn: Connection, plan_id: str, on: date) -> PaidOff:
    """Pay a plan off early on ``on``: its next statement bills every unbilled principal.

    The instalments billed on or before ``on`` stay as they were; the rest are folded
    into the first of them (the next statement date), their fees billed or waived by
    the product's ``early_payoff_fee`` in force on ``on``.
    """
    p = instalment_plans.c
    plan_row = conn.execute(select(instalment_plans).where(p.plan_id == plan_id)).first()
    if plan_row is None:
        raise InstalmentRefused(f"no instalment plan {plan_id}")
    plan = plan_row._mapping
    if plan["paid_off_on"] is not None:
        raise InstalmentRefused(f"plan {plan_id} was paid off on {plan['paid_off_on']}")
    if on < plan["converted_on"]:
        raise InstalmentRefused(f"plan {plan_id} was converted on {plan['converted_on']}, "
                                f"after {on}")  # fmt: skip
    account_id = str(plan["account_id"])
    schedule = _schedule(conn, plan_id, plan)
    open_lines = [line for line in schedule.lines if line.bill_date > on]
    if not open_lines:
        raise InstalmentRefused(f"plan {plan_id}: every instalment is billed by {on}")
    stated = _last_statement_date(conn, account_id)
    if stated is not None and open_lines[0].bill_date <= stated:
        raise InstalmentRefused(f"plan {plan_id}: the statement of {stated} is made; "
                                f"pay off on {stated} or later")  # fmt: skip
    policy = _payoff_policy(conn, account_id, on)
    payoff = early_payoff(schedule, on, policy)
    first = open_lines[0]
    lines = instalment_lines.c
    conn.execute(
        update(instalment_lines)
        .where(lines.plan_id == plan_id, lines.number == first.number)
        .values(principal_fen=payoff.principal_fen, fee_fen=payoff.fee_fen)
    )
    conn.execute(
        update(instalment_lines)
        .where(lines.plan_id == plan_id, lines.number > first.number)
        .values(principal_fen=0, fee_fen=0)
    )
    conn.execute(
        update(instalment_plans)
        .where(p.plan_id == plan_id)
        .values(paid_off_on=on, payoff_waived_fee_fen=payoff.waived_fee_fen)
    )
    return PaidOff(plan_id, account_id, on, first.bill_date, payoff.principal_fen,
                   payoff.fee_fen, payoff.waived_fee_fen, policy)  # fmt: skip


def _schedule(conn: Connection, plan_id: str, plan: Any) -> InstalmentPlan:
    lines = instalment_lines.c
    rows = conn.execute(
        select(lines.number, lines.bill_date, lines.principal_fen, lines.fee_fen)
        .where(lines.plan_id == plan_id)
        .order_by(lines.number)
    ).all()
    return InstalmentPlan(
        int(plan["principal_fen"]),
        int(plan["instalments"]),
        Decimal(plan["monthly_fee_percent"]),
        tuple(InstalmentLine(int(n), d, int(pr), int(fe)) for n, d, pr, fe in rows),
    )


def _last_statement_date(conn: Connection, account_id: str) -> date | None:
    s = statements.c
    found = conn.execute(
        select(func.max(s.statement_date)).where(s.account_id == account_id)
    ).scalar_one_or_none()
    return found if isinstance(found, date) else None


def _payoff_policy(conn: Connection, account_id: str, on: date) -> PayoffFeePolicy:
    c = card_accounts.c
    code = conn.execute(
        select(c.product_code).where(c.account_id == account_id)
    ).scalar_one_or_none()
    try:
        rules = rules_in_force(conn, str(code), on)
    except RuleVersionError as exc:
        raise InstalmentRefused(f"account {account_id}: {exc}") from None
    return rules.instalment.early_payoff_fee
