"""The ``sweep`` step of the card cycle: the combined deposit-credit card (存贷合一卡).

A product whose rules say ``[autopay] mode = "sweep"`` does not wait for the due
date: every night the cycle sweeps the linked deposit account's balance against
what the card owes, instead of auto-repayment. One journal entry per sweep (kind
``sweep``): debit the deposit's ``balance``, credit the card's components in the
product's allocation order for today's DPD (``allocate_payments``). Never more than
the deposit holds (a partial sweep takes what is there) nor more than the card owes.
A closed deposit is declined with AC04, a frozen one with AC06, an empty one with
AM04; each decline is the item's result (skipped, with the code as its reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection

from cardbatch.domain.ledger import Component, EntryKind, JournalEntry, Posting
from cardbatch.domain.product import COMPONENTS
from cardbatch.engine.job import Item, ItemOutcome, JobContext, skipped, succeeded
from cardbatch.jobs import cycle_io as io
from cardbatch.jobs.cycle_kernels import allocate_payments, delinquency_as_of

CLOSED_STATUSES = ("closed", "charged_off")
DECLINED = {"closed": ("AC04", "closed"), "frozen": ("AC06", "frozen")}


def sweeping_products(conn: Connection, codes: Sequence[str], day: date) -> set[str]:
    """The products among ``codes`` whose rules in force on ``day`` sweep every night."""
    configured = io.configured_products(conn)
    cache: dict[tuple[str, date], Any] = {}
    return {
        code
        for code in codes
        if code in configured and io.rules_in_force(conn, code, day, cache).autopay.mode == "sweep"
    }


def list_sweeps(conn: Connection, ctx: JobContext) -> list[Item]:
    sweeping = sweeping_products(conn, sorted(io.configured_products(conn)), ctx.business_date)
    if not sweeping:  # no product sweeps tonight: no need to read the partition's cards
        return []
    card = io.cards(conn, within=io.partition_of(ctx.params)).filter(
        ~pl.col("status").is_in(CLOSED_STATUSES) & pl.col("repayment_account_id").is_not_null()
    )
    chosen = card.filter(pl.col("product_code").is_in(sorted(sweeping)))["account_id"]
    return [Item(f"{a}:sweep", a) for a in sorted(chosen.to_list())]


def process_sweeps(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> list[ItemOutcome]:
    day = ctx.business_date
    ids = [str(i.payload) for i in chunk]
    card = io.cards(conn, ids)
    held = io.card_balances(conn, ids)
    funds = io.deposits(conn, card["repayment_account_id"].to_list())
    dpd = _dpd_today(conn, ids, day)
    cache: dict[tuple[str, date], Any] = {}
    outcomes: dict[str, ItemOutcome] = {}
    for (code,), group in card.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        rows = group.join(held, on="account_id").to_dicts()
        wanted = []
        for row in rows:
            item = Item(f"{row['account_id']}:sweep", row["account_id"])
            status, available_fen = funds.get(row["repayment_account_id"], ("closed", 0))
            owed_fen = owed_of(row)
            if status in DECLINED:
                code_, word = DECLINED[status]
                outcomes[row["account_id"]] = skipped(
                    item, code_, f"deposit {row['repayment_account_id']} is {word}"
                )
            elif owed_fen <= 0:
                outcomes[row["account_id"]] = succeeded(item, None, 0, tally="nothing_owed")
            elif available_fen <= 0:
                outcomes[row["account_id"]] = skipped(
                    item, "AM04", f"deposit {row['repayment_account_id']} holds nothing"
                )
            else:
                wanted.append((row, min(owed_fen, available_fen)))
        if not wanted:
            continue
        pays = pl.DataFrame(
            [
                (r["account_id"], 0, amount_fen, dpd.get(r["account_id"], 0))
                for r, amount_fen in wanted
            ],
            schema={
                "account_id": pl.Utf8,
                "seq": pl.Int64,
                "amount_fen": pl.Int64,
                "dpd": pl.Int64,
            },
            orient="row",
        )
        split = allocate_payments(
            group.join(held, on="account_id").select(held.columns), pays, terms
        )
        parts = {r["account_id"]: r for r in split.payments.iter_rows(named=True)}
        for row, amount_fen in wanted:
            item = Item(f"{row['account_id']}:sweep", row["account_id"])
            entry = _sweep_entry(ctx.entry_key(item.key), ctx, row, parts[row["account_id"]])
            basis = "partial" if amount_fen < owed_of(row) else "full"
            outcomes[row["account_id"]] = succeeded(item, entry, amount_fen, tally=f"swept_{basis}")
    return [outcomes[str(i.payload)] for i in chunk]


def owed_of(row: dict[str, Any]) -> int:
    """What the card owes: its positive components less an overpayment."""
    return int(sum(row[f"balance_{c}_fen"] for c in COMPONENTS) - row["overpaid_fen"])


def _dpd_today(conn: Connection, ids: Sequence[str], day: date) -> dict[str, int]:
    """Today's DPD of the accounts that have a cycle state (others are current: 0)."""
    state = io.states(conn, ids).filter(pl.col("due_date").is_not_null())
    if state.height == 0:
        return {}
    txns = io.payments(conn, ids, state["last_statement_date"].min(), day)
    starts = state.select("account_id", pl.col("last_statement_date").alias("start"),
                          pl.lit(day).alias("end"))  # fmt: skip
    frame = state.join(io.paid_between(txns, starts, "end", "paid_fen"), on="account_id")
    found: dict[str, int] = {}
    cache: dict[tuple[str, date], Any] = {}
    for (code,), group in frame.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        for account_id, dpd in (
            delinquency_as_of(group, day, terms).select("account_id", "dpd").iter_rows()
        ):
            found[account_id] = int(dpd)
    return found


def _sweep_entry(
    key: str, ctx: JobContext, row: dict[str, Any], split: dict[str, Any]
) -> JournalEntry:
    card_id, deposit_id = row["account_id"], row["repayment_account_id"]
    amount_fen = int(split["amount_fen"])
    credits = [Posting(card_id, c, -split[f"{c}_fen"]) for c in COMPONENTS if split[f"{c}_fen"]]
    debit = Posting(deposit_id, Component.BALANCE, amount_fen)
    return JournalEntry(key, ctx.business_date, EntryKind.SWEEP, (debit, *credits),
                        "sweep: linked deposit against the card (存贷合一卡)",
                        run_id=ctx.run_id)  # fmt: skip
