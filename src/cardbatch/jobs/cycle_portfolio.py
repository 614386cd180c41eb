"""A synthetic card portfolio that is the worst case for one business date of the cycle.

Every card has its statement day on that date (each statement step item works),
a previous statement with a balance (and its ledger entries and lots), purchases
and cash advances in the period; 30 % are on auto-repayment with a due date the
day before (so the attempt window covers the date) and deposit balances of every
kind (empty, short, enough); 10 % are delinquent, spread over buckets M1..M6;
the rest are due four days before (the late-fee step judges each of them), half
of them having paid within grace. Deterministic from the seed; written in
batches, so memory does not grow with the portfolio.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from cardbatch.domain.identity import luhn_check_digit, ric_check_char
from cardbatch.domain.ledger import GL, Component, EntryKind, JournalEntry, transfer
from cardbatch.engine.calendar import set_business_date
from cardbatch.jobs import cycle_io
from cardbatch.rules.versions import approve_version, load_version
from cardbatch.store import Store
from cardbatch.store.ledger_repo import post_entries
from cardbatch.store.statistics import NIGHT_READS, refresh_statistics
from cardbatch.store.tables import card_accounts, customers, deposit_accounts
from cardbatch.store.tables_cycle import cycle_accounts, cycle_lots

BUSINESS_DATE = date(2024, 6, 5)
RULES_EFFECTIVE = date(2024, 1, 1)
RULES_FILE = Path(__file__).parents[3] / "examples" / "rules" / "standard.toml"
PRODUCT_CODE = "STD"
BATCH_ACCOUNTS = 20_000
ACTOR = "bench"
NOW = datetime(2024, 6, 5, 20, 0, tzinfo=UTC)
DUE_DAYS = 18  # the standard product's due date: statement date + 18 days
GRACE_DAYS = 3
# Regions whose counties existed before 1970, so every birth date from 1970 validates.
REGIONS = ("110105", "310104", "330106", "510107", "420106", "610113")
BIRTH_FIRST = date(1970, 1, 1)
BIRTH_DAYS = 365 * 35


@dataclass(frozen=True)
class PortfolioSummary:
    accounts: int
    seed: int
    business_date: date
    entries: int


def indexed_resident_id(index: int) -> str:
    """A resident ID that is unique for every index below ~200 million (region, birth, seq)."""
    region = REGIONS[index % len(REGIONS)]
    rest = index // len(REGIONS)
    birth = BIRTH_FIRST + timedelta(days=(rest // 1000) % BIRTH_DAYS)
    body = f"{region}{birth:%Y%m%d}{rest % 1000:03d}"
    return body + ric_check_char(body)


def card_id(index: int) -> str:
    return f"CA{index:010d}"


def deposit_id(index: int) -> str:
    return f"D{index:012d}"


def build_portfolio(
    store: Store, accounts_n: int, seed: int, day: date = BUSINESS_DATE
) -> PortfolioSummary:
    """Write the whole portfolio (rules, parties, cycle state, ledger) into a migrated store."""
    with store.write() as conn:
        text = RULES_FILE.read_text(encoding="utf-8")
        version, _ = load_version(conn, text, RULES_EFFECTIVE, "maker", RULES_FILE.name)
        approve_version(conn, version.product_code, version.version_no, "checker")
        set_business_date(conn, day - timedelta(days=1), ACTOR)
    entries_n = 0
    for first in range(0, accounts_n, BATCH_ACCOUNTS):
        last = min(accounts_n, first + BATCH_ACCOUNTS)
        with store.write() as conn:
            entries_n += _write_batch(conn, first, last, seed, day)
    with store.write() as conn:
        refresh_statistics(conn, NIGHT_READS)
    return PortfolioSummary(accounts_n, seed, day, entries_n)


@dataclass
class _Batch:
    customers: list[dict[str, Any]]
    deposits: list[dict[str, Any]]
    cards: list[dict[str, Any]]
    states: list[dict[str, Any]]
    lots: list[tuple[str, str, date, str, int]]  # account, component, date, opening key, fen
    entries: list[JournalEntry]


def _write_batch(conn: Connection, first: int, last: int, seed: int, day: date) -> int:
    batch = _Batch([], [], [], [], [], [])
    for index in range(first, last):
        _one_account(batch, index, random.Random(f"{seed}:{index}"), day)
    conn.execute(insert(customers), batch.customers)
    conn.execute(insert(deposit_accounts), batch.deposits)
    conn.execute(insert(card_accounts), batch.cards)
    conn.execute(insert(cycle_accounts), batch.states)
    posted = post_entries(conn, batch.entries, actor=ACTOR, now=NOW)
    lots = [
        {"account_id": a, "component": c, "post_date": d, "seq": posted.entry_ids[k],
         "remaining_fen": fen}
        for a, c, d, k, fen in batch.lots
    ]  # fmt: skip
    conn.execute(insert(cycle_lots), lots)
    return posted.written


def _one_account(batch: _Batch, index: int, rng: random.Random, day: date) -> None:
    card, deposit, customer = card_id(index), deposit_id(index), f"C{index:09d}"
    group = index % 10  # 0: delinquent; 1-3: auto-repayment; 4-9: judged for a late fee
    due = day - timedelta(days=1 if group in (1, 2, 3) else GRACE_DAYS + 1)
    last_statement = due - timedelta(days=DUE_DAYS)
    stamp = {"created_at": NOW, "created_by": ACTOR}
    batch.customers.append({"customer_id": customer, "name": f"持卡人{index}",
                            "id_number": indexed_resident_id(index), **stamp})  # fmt: skip
    batch.deposits.append({"account_id": deposit, "holder_name": f"持卡人{index}",
                           "status": "active", "customer_id": customer,
                           "opened_on": date(2023, 1, 1), **stamp})  # fmt: skip
    mode = ("none", "full", "minimum", "full")[group] if group < 4 else "none"
    batch.cards.append({
        "account_id": card, "customer_id": customer, "product_code": PRODUCT_CODE,
        "card_number": _card_number(index), "credit_limit_fen": 5_000_000,
        "statement_day": day.day, "repayment_account_id": deposit, "autopay_mode": mode,
        "status": "active", "opened_on": date(2023, 1, 1), **stamp,
    })  # fmt: skip
    previous_fen = rng.randrange(50_000, 2_000_000)
    opened_on = last_statement - timedelta(days=rng.randrange(3, 25))
    key = f"bench-open:{card}"
    batch.entries.append(_charge(key, card, opened_on, Component.PURCHASE, previous_fen))
    batch.lots.append((card, Component.PURCHASE.value, opened_on, key, previous_fen))
    minimum_fen = max(1000, previous_fen // 10)
    state = cycle_io.initial_state(
        {"account_id": card, "product_code": PRODUCT_CODE, "opened_on": None,
         "statement_day": day.day}, day,
    )  # fmt: skip
    state.update(
        period_start=last_statement + timedelta(days=1), last_statement_date=last_statement,
        due_date=due, statement_balance_fen=previous_fen, minimum_fen=minimum_fen,
        balance_purchase_fen=previous_fen, state_date=day - timedelta(days=1),
    )  # fmt: skip
    if group == 0:
        months = 1 + (index // 10) % 6
        since = due - timedelta(days=30 * (months - 1)) + timedelta(days=1)
        dpd = (day - since).days + 1
        bucket = f"M{min(7, 1 + dpd // 30)}"
        state.update(arrears_fen=minimum_fen, arrears_since=since, dpd=dpd, bucket=bucket,
                     five_category="special_mention" if dpd < 91 else "substandard")  # fmt: skip
    batch.states.append(state)
    _period_activity(batch, index, rng, card, last_statement, day)
    if group in (4, 5, 6):
        pay_fen = previous_fen if group == 4 else (minimum_fen if group == 5 else minimum_fen // 2)
        batch.entries.append(_payment(f"bench-pay:{card}", card, due + timedelta(days=1), pay_fen))
    if group in (1, 2, 3):
        funds_fen = (0, minimum_fen // 2, previous_fen * 2)[index // 10 % 3]
        if funds_fen:
            batch.entries.append(transfer(
                f"bench-fund:{deposit}", last_statement, EntryKind.DEPOSIT,
                (GL.COUNTER_CASH, Component.BALANCE), (deposit, Component.BALANCE), funds_fen,
                "salary",
            ))  # fmt: skip


def _period_activity(
    batch: _Batch, index: int, rng: random.Random, card: str, last_statement: date, day: date
) -> None:
    span_days = (day - last_statement).days
    for n in range(1 + rng.randrange(3)):
        on = last_statement + timedelta(days=1 + rng.randrange(span_days))
        amount_fen = rng.randrange(1_000, 300_000)
        batch.entries.append(_charge(f"bench-buy:{card}:{n}", card, on, Component.PURCHASE,
                                     amount_fen))  # fmt: skip
    if index % 3 == 0:
        on = last_statement + timedelta(days=1 + rng.randrange(span_days))
        batch.entries.append(_charge(f"bench-cash:{card}", card, on, Component.CASH,
                                     rng.randrange(50_000, 500_000)))  # fmt: skip


def _charge(key: str, card: str, on: date, component: Component, amount_fen: int) -> JournalEntry:
    kind = EntryKind.CASH_ADVANCE if component is Component.CASH else EntryKind.PURCHASE
    return transfer(key, on, kind, (card, component), (GL.CARD_SETTLEMENT, Component.BALANCE),
                    amount_fen, "bench spending")  # fmt: skip


def _payment(key: str, card: str, on: date, amount_fen: int) -> JournalEntry:
    return transfer(key, on, EntryKind.PAYMENT, (GL.COUNTER_CASH, Component.BALANCE),
                    (card, Component.PURCHASE), amount_fen, "counter payment")  # fmt: skip


def _card_number(index: int) -> str:
    body = f"622588{index:09d}"
    return body + luhn_check_digit(body)
