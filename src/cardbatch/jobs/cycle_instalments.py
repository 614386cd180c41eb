"""Instalments (账单分期) for the card cycle: converting an amount, and what a statement bills.

A conversion moves the amount from the card's ``purchase`` component to its
``instalment`` component in one entry (kind ``instalment``), so the holder still
owes it; the cycle sees it as a credit of the period (it leaves the purchases)
and bills instalment k's principal and fee on the k-th statement date after the
conversion (``cardbatch.domain.cycle.instalments.convert``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import polars as pl
from sqlalchemy import Connection, func, insert, select

from cardbatch.domain.cycle.dates import next_statement_date
from cardbatch.domain.cycle.instalments import convert
from cardbatch.domain.ledger import Component, EntryKind, JournalEntry, Posting
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_cycle import instalment_lines, instalment_plans


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
        lines.account_id.in_(list(account_ids)), lines.bill_date >= day
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
