"""Producing a notice file for target accounts on a business date.

For each target the service finds the card, the customer's name and phone,
the due date (given, or the next one from the statement day and the
product's ``[cycle] due_days`` in force), the amount due (given, or the account's current receivable
balance) and the days past due (given; the cycle will provide it later). The
template's selection picks the accounts; each chosen account is recorded in
``notices`` under the key ``template:date:account`` (recorded once), and the
file ``notice_<template>_<YYYYMMDD>.txt`` is written from the targets, so a
re-run gives the same file. ``dry_run`` writes nothing.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cardbatch.actions.notices import NoticeTemplate, bucket_of, render, selected
from cardbatch.actions.targets import Target
from cardbatch.domain.masking import mask_card, mask_name, mask_phone
from cardbatch.money import format_fen
from cardbatch.rules.versions import version_in_force
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables import balances, card_accounts, customers
from cardbatch.store.tables_apps import notices

DUE_DAYS_DEFAULT = 18  # statement date + N (CMB) when the product has no rules in force
CHUNK_ITEMS = 500
SILENT_STATUSES = ("closed", "charged_off")
NOTICE_FILE_MODE = 0o600


@dataclass
class NoticeReport:
    template: str
    channel: str
    business_date: date
    dry_run: bool
    notices: int = 0
    newly_recorded: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    notice_file: str | None = None
    sample: list[str] = field(default_factory=list)


def next_due_date(statement_day: int, business_date: date, due_days: int) -> date:
    """The earliest due date on or after the business date for this statement day."""
    first = business_date.replace(day=1)
    candidates = []
    for back in (2, 1, 0, -1):
        month_start = _add_months(first, -back)
        candidates.append(month_start.replace(day=statement_day) + timedelta(days=due_days))
    return min(d for d in candidates if d >= business_date)


def _add_months(day1: date, months: int) -> date:
    index = day1.year * 12 + day1.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def notify(
    store: Store,
    template: NoticeTemplate,
    targets: list[Target],
    business_date: date,
    actor: str,
    out_dir: Path,
    *,
    dry_run: bool = False,
    due_days: int | None = None,
) -> NoticeReport:
    """Choose, render, record and write; ``due_days`` overrides the products' rules."""
    report = NoticeReport(template.name, template.channel, business_date, dry_run)
    days_by_product: dict[str, int] = {}
    skipped: Counter[str] = Counter()
    lines: list[tuple[str, str, str]] = []  # account_id, masked phone, text
    for start in range(0, len(targets), CHUNK_ITEMS):
        chunk = targets[start : start + CHUNK_ITEMS]
        with store.read() as conn:
            facts = _facts(conn, [t.account_id for t in chunk])
            for product in {f.product_code for f in facts.values()} - days_by_product.keys():
                days_by_product[product] = due_days or product_due_days(
                    conn, product, business_date
                )
        for target in chunk:
            found = facts.get(target.account_id)
            days = days_by_product[found.product_code] if found else DUE_DAYS_DEFAULT
            outcome = _one(template, target, found, business_date, days)
            if isinstance(outcome, str):
                skipped[outcome] += 1
            else:
                lines.append(outcome)
    report.notices = len(lines)
    report.skipped_by_reason = dict(sorted(skipped.items()))
    report.sample = [text for _, _, text in lines[:3]]
    if dry_run:
        return report
    path = out_dir / f"notice_{template.name}_{business_date:%Y%m%d}.txt"
    report.newly_recorded = _record(store, template, business_date, lines, path, actor)
    _write(path, template.channel, lines)
    report.notice_file = str(path)
    return report


def product_due_days(conn: Connection, product_code: str, business_date: date) -> int:
    """``[cycle] due_days`` of the product's rules in force, else :data:`DUE_DAYS_DEFAULT`."""
    version = version_in_force(conn, product_code, business_date)
    return DUE_DAYS_DEFAULT if version is None else version.rules().cycle.due_days


@dataclass(frozen=True)
class _Facts:
    product_code: str
    card_number: str
    status: str
    statement_day: int
    name: str
    phone: str | None
    balance_fen: int


def _facts(conn: Connection, account_ids: list[str]) -> dict[str, _Facts]:
    query_owed = (
        select(balances.c.account_id, func.sum(balances.c.balance_fen).label("owed_fen"))
        .where(balances.c.account_id.in_(account_ids))
        .group_by(balances.c.account_id)
    )
    owed = {r.account_id: int(r.owed_fen or 0) for r in conn.execute(query_owed)}
    query = (
        select(
            card_accounts.c.account_id,
            card_accounts.c.product_code,
            card_accounts.c.card_number,
            card_accounts.c.status,
            card_accounts.c.statement_day,
            customers.c.name,
            customers.c.phone,
        )
        .join(customers, customers.c.customer_id == card_accounts.c.customer_id)
        .where(card_accounts.c.account_id.in_(account_ids))
    )
    return {
        r.account_id: _Facts(
            r.product_code,
            r.card_number,
            r.status,
            int(r.statement_day),
            r.name,
            r.phone,
            int(owed.get(r.account_id) or 0),
        )
        for r in conn.execute(query)
    }


def _one(
    template: NoticeTemplate,
    target: Target,
    facts: _Facts | None,
    business_date: date,
    due_days: int,
) -> tuple[str, str, str] | str:
    if facts is None:
        return "not_found"
    if facts.status in SILENT_STATUSES:
        return f"status_{facts.status}"
    due = target.due_date or next_due_date(facts.statement_day, business_date, due_days)
    amount_fen = target.amount_due_fen if target.amount_due_fen is not None else facts.balance_fen
    reason = selected(template.selection, business_date, due, amount_fen, target.dpd)
    if reason is not None:
        return reason
    phone = mask_phone(facts.phone) if facts.phone else "-"
    values = {
        "name": mask_name(facts.name),
        "card": mask_card(facts.card_number),
        "card_last4": facts.card_number[-4:],
        "phone": phone,
        "account_id": target.account_id,
        "due_date": f"{due.year}年{due.month}月{due.day}日",
        "amount_due": format_fen(max(amount_fen, 0)),
        "minimum_due": "-"
        if target.minimum_due_fen is None
        else format_fen(target.minimum_due_fen),
        "dpd": "-" if target.dpd is None else str(target.dpd),
        "bucket": "-" if target.dpd is None else bucket_of(target.dpd),
        "business_date": f"{business_date.year}年{business_date.month}月{business_date.day}日",
    }
    return target.account_id, phone, render(template, values)


def _record(
    store: Store,
    template: NoticeTemplate,
    business_date: date,
    lines: list[tuple[str, str, str]],
    path: Path,
    actor: str,
) -> int:
    new = 0
    for start in range(0, len(lines), CHUNK_ITEMS):
        with store.write() as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            now = utc_now()
            part = lines[start : start + CHUNK_ITEMS]
            keys = {a: f"{template.name}:{business_date}:{a}" for a, _, _ in part}
            known = set(
                conn.execute(
                    select(notices.c.notice_key).where(notices.c.notice_key.in_(keys.values()))
                ).scalars()
            )
            rows = [
                {
                    "notice_key": key,
                    "template": template.name,
                    "business_date": business_date,
                    "account_id": account_id,
                    "file_name": path.name,
                    "created_at": now,
                    "created_by": actor,
                }
                for account_id, key in keys.items()
                if key not in known
            ]
            if rows:
                conn.execute(
                    insert(notices).on_conflict_do_nothing(index_elements=["notice_key"]), rows
                )
            new += len(rows)
    with store.write() as conn:
        audit.record(
            conn,
            actor,
            "notices.produce",
            f"{template.name}:{business_date}",
            notices=len(lines),
            new=new,
        )
    return new


def _write(path: Path, channel: str, lines: list[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if channel == "sms":
        text = "".join(f"{a}|{p}|{t}\n" for a, p, t in lines)
    else:
        text = "".join(f"=== {a} ===\n{t}\n\n" for a, _, t in lines)
    temp = path.with_name(path.name + ".tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NOTICE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)
