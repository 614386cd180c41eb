"""The ``card-cycle`` job: the nightly card cycle of a business date, on the engine.

Steps, in order (each item is one account; its key is ``<account>:<kind>``, so the
journal entry key ``card-cycle:<date>:<account>:<kind>`` is unique per account,
date and kind, and a rerun never posts twice):

1. ``late-fee`` -- accounts whose due date + grace + 1 is today: the late fee
   (``late_fees_on``) when the payments up to due date + grace miss the minimum;
2. ``autopay`` -- accounts with auto-repayment whose attempt window covers today:
   one attempt (``autopay_decisions``), debiting the linked deposit account and
   crediting the card in one entry (allocated by ``allocate_payments``), or declined
   with AM04 / AC04 / AC06; a retry follows only an AM04 decline;
   ``sweep`` -- accounts of a combined deposit-credit product (``[autopay] mode =
   "sweep"``): the linked deposit swept against the card every night instead
   (:mod:`~cardbatch.jobs.cycle_sweep`);
3. ``statement`` -- accounts whose statement day is today: the period
   (``run_period``), the interest entry, the stored statement and the next state;
4. ``delinquency`` -- accounts past a due date or in arrears: DPD, bucket and class
   (``delinquency_as_of``), with a history row whenever the bucket or class changes;
   the product's status actions, and at charge-off one entry writing the card's
   balance off to ``GL:write_off`` (``write_off_entry``).

With the parameters ``accounts_from`` / ``accounts_to`` a run lists only the card
accounts whose ids fall in that range: one partition of the portfolio
(:mod:`cardbatch.jobs.cycle_partitions`). Entry keys do not depend on them.

Product terms come from the rule version in force on the business date; a product
with rule versions but none approved and in force fails the run with a message
saying so. Accounts of a product that has no rule set loaded at all are not in
the cycle: their statement items are skipped with reason ``no_rules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select, update

from cardbatch.domain.cycle.dates import is_statement_date
from cardbatch.domain.cycle.write_off import write_off_entry
from cardbatch.domain.ledger import GL, Component, EntryKind, JournalEntry
from cardbatch.domain.product import COMPONENTS, ProductTerms
from cardbatch.engine.job import (
    ChunkFrames,
    Item,
    Job,
    JobContext,
    Step,
)
from cardbatch.engine.registry import register
from cardbatch.jobs import cycle_frames as frames
from cardbatch.jobs import cycle_io as io
from cardbatch.jobs.cycle_instalments import billing
from cardbatch.jobs.cycle_kernels import (
    allocate_payments,
    autopay_decisions,
    delinquency_as_of,
    late_fees_on,
    run_period,
)
from cardbatch.jobs.cycle_sweep import list_sweeps, process_sweeps, sweeping_products
from cardbatch.money import format_fen
from cardbatch.rules.model import DelinquencySection
from cardbatch.store.frame_io import bulk_insert, key_in
from cardbatch.store.ledger_frames import frames_of
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_cycle import (
    STATEMENT_AMOUNTS,
    autopay_attempts,
    delinquency_history,
    statements,
    status_actions,
)

JOB_NAME = "card-cycle"
CLOSED_STATUSES = ("closed", "charged_off")
TermsCache = dict[tuple[str, date], Any]
# The columnar steps take forty times the run's chunk size per chunk (20,000 accounts at the
# default 500, the engine's cap): against 5,000 a night takes ~7 % less CPU (fewer statements,
# commits and kernel passes), for ~100 MB more peak memory, flat in the portfolio size.
CHUNK_SCALE = 40
_LISTED = ("account_id", "product_code", "due_date", "arrears_since")  # what the lists read
# What the late-fee step reads of an account's state (the kernel's LATE_FEE_INPUT and the
# period the payments are counted over).
_LATE_FEE_STATE = ("account_id", "product_code", "last_statement_date", "due_date",
                   "statement_balance_fen", "minimum_fen")  # fmt: skip
# What auto-repayment and delinquency read: the due state the kernels judge, and the
# delinquency fields they compare and replace.
_DUE_STATE = (*_LATE_FEE_STATE, "arrears_fen", "arrears_since", "dpd", "bucket",
              "five_category")  # fmt: skip


def _within(ctx: JobContext) -> io.AccountRange | None:
    return io.partition_of(ctx.params)


def _key(item: Item) -> str:
    account_id: str = item.payload
    return account_id


def _items(account_ids: Sequence[str], kind: str) -> list[Item]:
    return [Item(f"{a}:{kind}", a) for a in sorted(account_ids)]


def _with_terms(
    conn: Connection, frame: pl.DataFrame, day: date, cache: TermsCache
) -> dict[str, ProductTerms]:
    codes = sorted(set(frame["product_code"].to_list())) if frame.height else []
    return {code: io.terms_in_force(conn, code, day, cache)[0] for code in codes}


# -- late fee ------------------------------------------------------------------------


def list_late_fees(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    state = io.states(conn, within=_within(ctx), columns=_LISTED).filter(
        pl.col("due_date").is_not_null()
    )
    terms = _with_terms(conn, state, day, {})
    after_days = {code: t.grace_days + 1 for code, t in terms.items()}
    after = pl.col("product_code").replace_strict(after_days, return_dtype=pl.Int64)
    chosen = state.filter(pl.col("due_date") + pl.duration(days=after) == day)
    return _items(chosen["account_id"].to_list(), "late_fee")


def process_late_fees(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> ChunkFrames:
    day = ctx.business_date
    items = frames.chunk_frame(chunk)
    ids = items["account_id"].to_list()
    state = io.states(conn, ids, columns=_LATE_FEE_STATE)
    cache: TermsCache = {}
    txns = io.payments(conn, ids, state["last_statement_date"].min(), day)
    fees = [pl.DataFrame(schema={"account_id": pl.String, "fee_fen": pl.Int64})]
    for (code,), group in state.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        starts = group.select(
            "account_id",
            pl.col("last_statement_date").alias("start"),
            (pl.col("due_date") + pl.duration(days=terms.grace_days)).alias("end"),
        )
        paid = io.paid_between(txns, starts, "end", "paid_by_grace_fen")
        fee = late_fees_on(group.join(paid, on="account_id"), day, terms)
        fees.append(
            fee.select("account_id", pl.col("late_fee_fen").cast(pl.Int64).alias("fee_fen"))
        )
    rows = items.join(pl.concat(fees), on="account_id", how="left", maintain_order="left")
    rows = rows.with_columns(pl.col("fee_fen").fill_null(0))
    charged = pl.col("fee_fen") > 0
    rows = rows.with_columns(pl.when(charged).then(frames.entry_key(ctx)).alias("entry_key"))
    outcome_rows = frames.outcomes(
        rows, key=pl.col("key"), status=pl.lit("succeeded"), entry_key=pl.col("entry_key"),
        amount_fen=pl.col("fee_fen"),
        tally=pl.when(charged).then(pl.lit("late_fee")).otherwise(pl.lit("no_fee")),
    )  # fmt: skip
    posting = rows.filter(charged)
    entry_rows = frames.entries(posting, day, ctx.run_id, kind=pl.lit(str(EntryKind.LATE_FEE)),
                                description=pl.lit("late fee"))  # fmt: skip
    posting_rows = frames.legs(
        posting,
        (pl.col("account_id"), Component.LATE_FEE, pl.col("fee_fen")),
        (pl.lit(GL.LATE_FEE_INCOME), Component.BALANCE, -pl.col("fee_fen")),
    )
    return frames.chunk_frames(outcome_rows, entry_rows, posting_rows)


# -- auto-repayment ------------------------------------------------------------------


def list_autopay(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    state = io.states(conn, within=_within(ctx), columns=_LISTED).filter(
        pl.col("due_date").is_not_null()
    )
    card = io.cards(conn, within=_within(ctx)).filter(
        pl.col("autopay_mode").is_in(["full", "minimum"])
        & pl.col("repayment_account_id").is_not_null()
    )
    sweeping = sweeping_products(conn, sorted(set(card["product_code"].to_list())), day)
    card = card.filter(~pl.col("product_code").is_in(sorted(sweeping)))  # swept nightly instead
    joined = state.join(card.select("account_id"), on="account_id")
    terms = _with_terms(conn, joined, day, {})
    code = pl.col("product_code")
    offset = code.replace_strict({c: t.autopay_attempt_offset_days for c, t in terms.items()},
                                 return_dtype=pl.Int64)  # fmt: skip
    retry = code.replace_strict({c: t.autopay_retry_days for c, t in terms.items()},
                                return_dtype=pl.Int64)  # fmt: skip
    first = pl.col("due_date") + pl.duration(days=offset)
    chosen = joined.filter((first <= day) & (day <= first + pl.duration(days=retry)))
    return _items(chosen["account_id"].to_list(), "autopay")


def process_autopay(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> ChunkFrames:
    day = ctx.business_date
    items = frames.chunk_frame(chunk)
    ids = items["account_id"].to_list()
    state = io.states(conn, ids, columns=_DUE_STATE)
    card = io.cards(conn, ids)
    earlier = _attempts_since(conn, ids, state)
    txns = io.payments(conn, ids, state["last_statement_date"].min(), day)
    starts = state.select("account_id", pl.col("last_statement_date").alias("start"),
                          pl.lit(day).alias("end"))  # fmt: skip
    paid = io.paid_between(txns, starts, "end", "paid_fen")
    funds = io.deposits(conn, card["repayment_account_id"].to_list())
    frame = (
        state.join(
            card.select("account_id", "autopay_mode", "repayment_account_id"), on="account_id"
        )
        .join(paid, on="account_id")
        .with_columns(
            pl.col("autopay_mode").alias("autopay_choice"),
            pl.col("repayment_account_id")
            .replace_strict({k: v[1] for k, v in funds.items()}, default=0, return_dtype=pl.Int64)
            .alias("available_fen"),
            pl.col("repayment_account_id")
            .replace_strict({k: v[0] for k, v in funds.items()}, default="closed")
            .alias("deposit_status"),
        )
    )
    cache: TermsCache = {}
    parts = []
    for (code,), group in frame.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        today = delinquency_as_of(group, day, terms).select("account_id", "dpd")
        decided = (
            group.drop("dpd")
            .join(today, on="account_id")
            .join(autopay_decisions(group, terms), on="account_id")
        )
        balances = io.card_balances(conn, decided["account_id"].to_list())
        debits = decided.filter(pl.col("outcome") == "debited")
        pays = debits.select("account_id", pl.lit(0).cast(pl.Int64).alias("seq"), "amount_fen",
                             pl.col("dpd").cast(pl.Int64))  # fmt: skip
        split = allocate_payments(balances, pays, terms).payments.select(
            pl.col("account_id").cast(pl.String), *_SPLIT_COLUMNS
        )
        parts.append(decided.join(split, on="account_id", how="left"))
    rows = items.join(pl.concat(parts, how="diagonal_relaxed"), on="account_id", how="left",
                      maintain_order="left").with_columns(
        pl.col("account_id").replace_strict(earlier, default=None, return_dtype=pl.String)
        .alias("earlier"),
    )  # fmt: skip
    return _autopay_frames(conn, ctx, rows)


_SPLIT_COLUMNS = (*(f"{c}_fen" for c in COMPONENTS), "overpaid_fen")


def _autopay_frames(conn: Connection, ctx: JobContext, rows: pl.DataFrame) -> ChunkFrames:
    """The attempts stored, and the outcomes and entries: only an AM04 decline is retried."""
    no_retry = pl.col("earlier").is_not_null() & (pl.col("earlier") != "declined:AM04")
    debited = (pl.col("outcome") == "debited") & ~no_retry
    rows = rows.with_columns(pl.when(debited).then(frames.entry_key(ctx)).alias("entry_key"))
    attempts = rows.filter(~no_retry).select(
        "account_id", pl.lit(ctx.business_date, pl.Date).alias("attempt_date"),
        pl.col("last_statement_date").alias("statement_date"),
        pl.col("repayment_account_id").alias("deposit_account_id"),
        pl.col("autopay_choice").alias("choice"), pl.col("amount_fen").cast(pl.Int64), "basis",
        pl.col("outcome").alias("status"), "reason_code", "entry_key",
        pl.lit(ctx.run_id).alias("run_id"),
    )  # fmt: skip
    bulk_insert(conn, autopay_attempts.name, attempts.columns, attempts)
    declined = pl.col("outcome") == "declined"
    outcome_rows = frames.outcomes(
        rows,
        key=pl.col("key"),
        status=pl.when(no_retry).then(pl.lit("skipped")).otherwise(pl.lit("succeeded")),
        reason_code=pl.when(no_retry).then(pl.lit("no_retry")),
        message=pl.when(no_retry)
        .then(pl.format("last attempt {}; only AM04 is retried", pl.col("earlier"))),
        entry_key=pl.col("entry_key"),
        amount_fen=pl.when(debited).then(pl.col("amount_fen")).otherwise(0),
        tally=pl.when(no_retry).then(None)
        .when(declined).then(pl.format("declined_{}", pl.col("reason_code")))
        .when(debited).then(pl.format("debited_{}", pl.col("basis")))
        .otherwise(pl.lit("nothing_due")),
    )  # fmt: skip
    posting = rows.filter(debited)
    basis = pl.col("basis")
    entry_rows = frames.entries(posting, ctx.business_date, ctx.run_id,
                                kind=pl.lit(str(EntryKind.AUTOPAY)),
                                description=pl.format("auto-repayment ({})", basis))  # fmt: skip
    card_id = pl.col("account_id")
    posting_rows = frames.legs(
        posting,
        (pl.col("repayment_account_id"), Component.BALANCE, pl.col("amount_fen")),
        *((card_id, c, -pl.col(f"{c}_fen")) for c in COMPONENTS),
        (card_id, Component.PURCHASE, -pl.col("overpaid_fen")),
    )
    return frames.chunk_frames(outcome_rows, entry_rows, posting_rows)


def _attempts_since(conn: Connection, ids: Sequence[str], state: pl.DataFrame) -> dict[str, str]:
    """Per account, the status/reason of its last attempt for the current statement."""
    a = autopay_attempts.c
    query = (
        select(a.account_id, a.statement_date, a.status, a.reason_code)
        .where(key_in(conn, a.account_id, ids))
        .order_by(a.attempt_date)
    )
    last = dict(zip(state["account_id"].to_list(), state["last_statement_date"].to_list(),
                    strict=True))  # fmt: skip
    found: dict[str, str] = {}
    for account_id, statement_date, status, reason in conn.execute(query):
        if statement_date == last.get(account_id):
            found[account_id] = f"{status}:{reason or ''}"
    return found


# -- statements ----------------------------------------------------------------------


def list_statements(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    card = io.cards(conn, within=_within(ctx)).filter(~pl.col("status").is_in(CLOSED_STATUSES))
    stating = [d for d in range(1, 32) if is_statement_date(day, d)]
    opened = pl.col("opened_on").is_null() | (pl.col("opened_on") <= day)
    chosen = card.filter(pl.col("statement_day").is_in(stating) & opened)
    configured = io.configured_products(conn)
    _with_terms(conn, chosen.filter(pl.col("product_code").is_in(sorted(configured))), day, {})
    return _items(chosen["account_id"].to_list(), "statement")


def process_statements(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> ChunkFrames:
    day = ctx.business_date
    items = frames.chunk_frame(chunk)
    ids = items["account_id"].to_list()
    configured = sorted(io.configured_products(conn))
    every_card = io.cards(conn, ids)
    card = every_card.filter(pl.col("product_code").is_in(configured))
    state = io.states(conn, ids)
    known = set(state["account_id"].to_list())
    first = [io.initial_state(r, day) for r in card.iter_rows(named=True)
             if r["account_id"] not in known]  # fmt: skip
    if first:  # accounts at their first statement: read again with their new state rows
        io.insert_states(conn, first)
        state = io.states(conn, ids)
    due = state.filter(pl.col("period_end") == day)
    charged = [pl.DataFrame(schema=_CHARGED_SCHEMA)]
    cache: TermsCache = {}
    for (code,), group in due.group_by(["product_code"]):
        terms, label = io.terms_in_force(conn, str(code), day, cache)
        charged.append(_state_accounts(conn, ctx, group, card, terms, label))
    rows = items.join(pl.concat(charged), on="account_id", how="left", maintain_order="left").join(
        every_card.select("account_id", "product_code"), on="account_id", how="left",
        maintain_order="left",
    )  # fmt: skip
    stated = pl.col("interest_fen").is_not_null()
    unruled = ~pl.col("product_code").is_in(configured)
    posts = stated & ((pl.col("interest_fen") > 0) | (pl.col("fee_fen") > 0))
    rows = rows.with_columns(pl.when(posts).then(frames.entry_key(ctx)).alias("entry_key"))
    outcome_rows = frames.outcomes(
        rows,
        key=pl.col("key"),
        status=pl.when(stated).then(pl.lit("succeeded")).otherwise(pl.lit("skipped")),
        reason_code=pl.when(stated).then(None).when(unruled).then(pl.lit("no_rules"))
        .otherwise(pl.lit("not_due")),
        message=pl.when(stated).then(None).when(unruled)
        .then(pl.format("product {} has no rule set loaded: not in the cycle",
                        pl.col("product_code")))
        .otherwise(pl.lit("no statement period ends today")),
        entry_key=pl.col("entry_key"),
        amount_fen=pl.col("interest_fen").fill_null(0),
        tally=pl.when(stated).then(pl.lit("statement")),
    )  # fmt: skip
    posting = rows.filter(posts)
    entry_rows = frames.entries(
        posting, day, ctx.run_id,
        kind=pl.when(pl.col("fee_fen") == 0).then(pl.lit(str(EntryKind.INTEREST)))
        .otherwise(pl.lit("statement")),
        description=pl.lit(f"interest and instalment fee to {day}"),
    )  # fmt: skip
    account = pl.col("account_id")
    posting_rows = frames.legs(
        posting,
        (account, Component.INTEREST, pl.col("interest_fen")),
        (pl.lit(GL.INTEREST_INCOME), Component.BALANCE, -pl.col("interest_fen")),
        (account, Component.FEE, pl.col("fee_fen")),
        (pl.lit(GL.FEE_INCOME), Component.BALANCE, -pl.col("fee_fen")),
    )
    return frames.chunk_frames(outcome_rows, entry_rows, posting_rows)


_CHARGED_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "interest_fen": pl.Int64(),
    "fee_fen": pl.Int64(),
}
_STATEMENT_TEXT = ("account_id", "statement_date", "period_start", "due_date")


def _state_accounts(
    conn: Connection,
    ctx: JobContext,
    group: pl.DataFrame,
    card: pl.DataFrame,
    terms: ProductTerms,
    label: str,
) -> pl.DataFrame:
    """Close the period of the group's accounts: statements, lots and next states written;
    returns per account the interest and the instalment fee its statement charges."""
    day = ctx.business_date
    ids = group["account_id"].to_list()
    index = {a: n for n, a in enumerate(ids)}
    to_int = pl.col("account_id").replace_strict(index, return_dtype=pl.Int64)
    billed = billing(conn, ids, day)
    instalment_columns = [c for c in billed.columns if c != "account_id"]
    accounts = (
        group.drop(instalment_columns)
        .join(card.select("account_id", "statement_day", "credit_limit_fen"), on="account_id")
        .join(billed, on="account_id", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in instalment_columns)
        .sort("account_id")
    )
    lots = io.lots(conn, ids)
    txns = io.activity(conn, ids, group["period_start"].min(), day).join(
        group.select("account_id", "period_start"), on="account_id"
    )
    txns = txns.filter(pl.col("txn_date") >= pl.col("period_start")).drop("period_start")
    result = run_period(
        accounts.with_columns(to_int), lots.with_columns(to_int), txns.with_columns(to_int), terms
    )
    back = pl.col("account_id").replace_strict(dict(enumerate(ids)), return_dtype=pl.Utf8)
    stated = result.statements.with_columns(back).join(
        accounts.select("account_id", "period_start", "instalment_fee_fen"), on="account_id"
    )
    io.replace_lot_frame(conn, ids, result.lots.with_columns(back))
    inputs = _inputs_json(label, {"account": accounts, "lots": lots, "txns": txns})
    records = stated.join(inputs, on="account_id", how="left").select(
        *_STATEMENT_TEXT,
        *(pl.col(name).cast(pl.Int64) for name in STATEMENT_AMOUNTS),
        pl.col("dpd").cast(pl.Int64), "bucket", "five_category",
        pl.lit(label).alias("rule_version"), pl.lit(ctx.run_id).alias("run_id"), "inputs_json",
    )  # fmt: skip
    bulk_insert(conn, statements.name, records.columns, records)
    nexts = result.accounts.with_columns(back).select("account_id", *io.STATE_COLUMNS)
    io.save_state_frame(conn, nexts.join(stated.select(
        "account_id", pl.col("statement_date").alias("last_statement_date"),
        pl.col("dpd").cast(pl.Int64), "bucket", "five_category",
    ), on="account_id").with_columns(state_date=pl.lit(day, pl.Date)))  # fmt: skip
    return stated.select(
        "account_id",
        pl.col("interest_fen").cast(pl.Int64),
        pl.col("instalment_fee_fen").cast(pl.Int64).alias("fee_fen"),
    )


def _inputs_json(label: str, parts: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per account, the JSON of what its statement was computed from (rule version, the
    account's state, open lots and the period's transactions), for ``explain`` and the
    feedback reports to recompute it."""
    ids = parts["account"].select("account_id")
    nested = ids
    for name, frame in parts.items():
        # The lots and transactions do not repeat the account's id (the statement row and the
        # account part hold it): about a tenth of a statement's stored bytes.
        dropped = ["_of"] if name == "account" else ["_of", "account_id"]
        rows = frame.with_columns(pl.col("account_id").alias("_of")).group_by("_of").agg(
            pl.struct(pl.exclude(dropped)).alias(name)
        )  # fmt: skip
        nested = nested.join(rows, left_on="account_id", right_on="_of", how="left")
        nested = nested.with_columns(pl.col(name).fill_null([]))
    names = sorted([*parts, "rule_version"])
    return nested.with_columns(pl.lit(label).alias("rule_version")).select(
        "account_id", pl.struct(names).struct.json_encode().alias("inputs_json")
    )


# -- delinquency ---------------------------------------------------------------------


def list_delinquency(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    state = io.states(conn, within=_within(ctx), columns=_LISTED).filter(
        pl.col("due_date").is_not_null()
        & ((pl.col("due_date") < day) | pl.col("arrears_since").is_not_null())
    )
    return _items(state["account_id"].to_list(), "delinquency")


def process_delinquency(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> ChunkFrames:
    day = ctx.business_date
    items = frames.chunk_frame(chunk)
    ids = items["account_id"].to_list()
    state = io.states(conn, ids, columns=_DUE_STATE)
    txns = io.payments(conn, ids, state["last_statement_date"].min(), day)
    starts = state.select("account_id", pl.col("last_statement_date").alias("start"),
                          pl.lit(day).alias("end"))  # fmt: skip
    frame = state.join(io.paid_between(txns, starts, "end", "paid_fen"), on="account_id")
    cache: TermsCache = {}
    parts = []
    for (code,), group in frame.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        now = delinquency_as_of(group, day, terms)
        parts.append(group.join(now, on="account_id", suffix="_now"))
    cards = io.cards(conn, ids).select("account_id", pl.col("status").alias("card_status"))
    rows = items.join(pl.concat(parts, how="diagonal_relaxed"), on="account_id", how="left",
                      maintain_order="left").join(cards, on="account_id", how="left",
                                                  maintain_order="left")  # fmt: skip
    _record_delinquency(conn, ctx, rows)
    by_cycle = _statuses_set_by_cycle(conn, ids)
    tallies: list[str] = []
    amounts: list[int] = []
    written: list[JournalEntry] = []
    entry_keys: list[str | None] = []
    columns = ("account_id", "product_code", "card_status", "dpd_now", "bucket_now")
    for account_id, code, status, dpd, bucket in rows.select(columns).iter_rows():
        actions = io.actions_in_force(conn, code, day, cache)
        current = status or "active"
        change = status_action(current, by_cycle.get(account_id), dpd, bucket, actions)
        tally, amount_fen, entry = bucket, 0, None
        if change is not None and change[0] == "charged_off":
            entry, amount_fen = _charge_off(conn, ctx, account_id, current, change[1])
            tally = "charged_off"
        elif change is not None:
            _apply_status(conn, ctx, account_id, current, *change)
        tallies.append(tally)
        amounts.append(amount_fen)
        entry_keys.append(entry.idempotency_key if entry is not None else None)
        if entry is not None:
            written.append(entry)
    outcome_rows = frames.outcomes(
        rows.with_columns(pl.Series("tally", tallies, pl.String),
                          pl.Series("amount_fen", amounts, pl.Int64),
                          pl.Series("entry_key", entry_keys, pl.String)),
        key=pl.col("key"), status=pl.lit("succeeded"), tally=pl.col("tally"),
        amount_fen=pl.col("amount_fen"), entry_key=pl.col("entry_key"),
    )  # fmt: skip
    if not written:
        return ChunkFrames(outcome_rows)
    return ChunkFrames(outcome_rows, *frames_of(written))


def _charge_off(
    conn: Connection, ctx: JobContext, account_id: str, current: str, reason: str
) -> tuple[JournalEntry | None, int]:
    """Charge the card off: status, and one entry writing its balance off to GL:write_off."""
    held = io.card_balances(conn, [account_id]).row(0, named=True)
    parts = {c: held[f"balance_{c}_fen"] for c in COMPONENTS}
    parts[Component.PURCHASE] -= held["overpaid_fen"]
    key = ctx.entry_key(f"{account_id}:write_off")
    entry = write_off_entry(key, ctx.business_date, account_id, parts, reason, ctx.run_id)
    written_fen = entry.postings[0].amount_fen if entry is not None else 0
    detail = f"{reason}; written off {format_fen(written_fen)} to {GL.WRITE_OFF} ({key})"
    if entry is None:
        detail = f"{reason}; nothing owed to write off"
    _apply_status(conn, ctx, account_id, current, "charged_off", detail)
    return entry, written_fen


def status_action(
    current: str, set_by_cycle: str | None, dpd: int, bucket: str, actions: DelinquencySection
) -> tuple[str, str] | None:
    """The card status the product's delinquency settings call for, and why (None: keep)."""
    if current in CLOSED_STATUSES:
        return None
    target, reason = "active", f"bucket {bucket}: below the status action buckets"
    if actions.block_from_bucket is not None and bucket >= actions.block_from_bucket:
        target, reason = (
            "blocked",
            f"bucket {bucket} >= block_from_bucket {actions.block_from_bucket}",
        )
    if actions.freeze_from_bucket is not None and bucket >= actions.freeze_from_bucket:
        target, reason = (
            "frozen",
            f"bucket {bucket} >= freeze_from_bucket {actions.freeze_from_bucket}",
        )
    if actions.charge_off_dpd is not None and dpd >= actions.charge_off_dpd:
        target, reason = "charged_off", f"DPD {dpd} >= charge_off_dpd {actions.charge_off_dpd}"
    if target == current or (target == "active" and set_by_cycle != current):
        return None  # restore only a status the cycle itself set
    return target, reason


def _statuses_set_by_cycle(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    a = status_actions.c
    query = (
        select(a.account_id, a.to_status)
        .where(key_in(conn, a.account_id, ids))
        .order_by(a.business_date)
    )
    return {account_id: status for account_id, status in conn.execute(query)}


def _apply_status(
    conn: Connection, ctx: JobContext, account_id: str, current: str, target: str, reason: str
) -> None:
    conn.execute(
        update(card_accounts)
        .where(card_accounts.c.account_id == account_id)
        .values(status=target, updated_at=ctx.now, updated_by=ctx.actor)
    )
    conn.execute(insert(status_actions), [{
        "account_id": account_id, "business_date": ctx.business_date, "from_status": current,
        "to_status": target, "reason": reason, "run_id": ctx.run_id,
    }])  # fmt: skip


def _record_delinquency(conn: Connection, ctx: JobContext, rows: pl.DataFrame) -> None:
    """History rows for the accounts whose bucket or class changed, and every new state."""
    changed = rows.filter(
        (pl.col("bucket_now") != pl.col("bucket"))
        | (pl.col("five_category_now") != pl.col("five_category"))
    )
    if changed.height:
        h = delinquency_history.c
        recorded = list(conn.execute(
            select(h.account_id).where(
                key_in(conn, h.account_id, changed["account_id"].to_list()),
                h.business_date == ctx.business_date,
            )
        ).scalars())  # fmt: skip
        history = changed.filter(~pl.col("account_id").is_in(recorded)).select(
            "account_id", pl.lit(ctx.business_date, pl.Date).alias("business_date"),
            pl.col("dpd_now").cast(pl.Int64).alias("dpd"), pl.col("bucket_now").alias("bucket"),
            pl.col("five_category_now").alias("five_category"),
            pl.col("bucket").alias("previous_bucket"),
            pl.col("five_category").alias("previous_category"),
            pl.lit(ctx.run_id).alias("run_id"),
        )  # fmt: skip
        bulk_insert(conn, delinquency_history.name, history.columns, history)
    io.save_state_frame(conn, rows.select(
        "account_id", pl.col("dpd_now").cast(pl.Int64).alias("dpd"),
        pl.col("bucket_now").alias("bucket"), pl.col("five_category_now").alias("five_category"),
        pl.lit(ctx.business_date, pl.Date).alias("state_date"),
    ))  # fmt: skip


JOB = register(
    Job(
        name=JOB_NAME,
        description="The nightly card cycle: late fees, auto-repayment, statements, delinquency.",
        steps=(
            Step(
                "late-fee",
                list_late_fees,
                None,
                process_frames=process_late_fees,
                chunk_scale=CHUNK_SCALE,
            ),
            Step(
                "autopay",
                list_autopay,
                None,
                after=("late-fee",),
                process_frames=process_autopay,
                chunk_scale=CHUNK_SCALE,
            ),
            Step("sweep", list_sweeps, process_sweeps, after=("autopay",)),
            Step(
                "statement",
                list_statements,
                None,
                after=("sweep",),
                process_frames=process_statements,
                chunk_scale=CHUNK_SCALE,
            ),
            Step(
                "delinquency",
                list_delinquency,
                None,
                after=("statement",),
                process_frames=process_delinquency,
                chunk_scale=CHUNK_SCALE,
            ),
        ),
        night_order=20,
    )
)
