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

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select, update

from cardbatch.domain.cycle.dates import is_statement_date
from cardbatch.domain.cycle.write_off import write_off_entry
from cardbatch.domain.ledger import GL, Component, EntryKind, JournalEntry, Posting, transfer
from cardbatch.domain.product import COMPONENTS, ProductTerms
from cardbatch.engine.job import Item, ItemOutcome, Job, JobContext, Step, skipped, succeeded
from cardbatch.engine.registry import register
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
    state = io.states(conn, within=_within(ctx)).filter(pl.col("due_date").is_not_null())
    terms = _with_terms(conn, state, day, {})
    chosen = [
        row["account_id"]
        for row in state.iter_rows(named=True)
        if row["due_date"] + timedelta(days=terms[row["product_code"]].grace_days + 1) == day
    ]
    return _items(chosen, "late_fee")


def process_late_fees(
    conn: Connection, ctx: JobContext, chunk: Sequence[Item]
) -> list[ItemOutcome]:
    day = ctx.business_date
    ids = [_key(i) for i in chunk]
    state = io.states(conn, ids)
    cache: TermsCache = {}
    txns = io.activity(conn, ids, state["last_statement_date"].min(), day)
    fees: dict[str, int] = {}
    for (code,), group in state.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        starts = group.select(
            "account_id",
            pl.col("last_statement_date").alias("start"),
            (pl.col("due_date") + pl.duration(days=terms.grace_days)).alias("end"),
        )
        paid = io.paid_between(txns, starts, "end", "paid_by_grace_fen")
        frame = group.join(paid, on="account_id")
        for account_id, fee_fen in late_fees_on(frame, day, terms).iter_rows():
            fees[account_id] = fee_fen
    outcomes = []
    for item in chunk:
        fee_fen = fees.get(_key(item), 0)
        if fee_fen <= 0:
            outcomes.append(succeeded(item, None, 0, tally="no_fee"))
            continue
        entry = transfer(ctx.entry_key(item.key), day, EntryKind.LATE_FEE,
                         (_key(item), Component.LATE_FEE), (GL.LATE_FEE_INCOME, Component.BALANCE),
                         fee_fen, "late fee", run_id=ctx.run_id)  # fmt: skip
        outcomes.append(succeeded(item, entry, fee_fen, tally="late_fee"))
    return outcomes


# -- auto-repayment ------------------------------------------------------------------


def list_autopay(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    state = io.states(conn, within=_within(ctx)).filter(pl.col("due_date").is_not_null())
    card = io.cards(conn, within=_within(ctx)).filter(
        pl.col("autopay_mode").is_in(["full", "minimum"])
        & pl.col("repayment_account_id").is_not_null()
    )
    sweeping = sweeping_products(conn, sorted(set(card["product_code"].to_list())), day)
    card = card.filter(~pl.col("product_code").is_in(sorted(sweeping)))  # swept nightly instead
    joined = state.join(card.select("account_id"), on="account_id")
    terms = _with_terms(conn, joined, day, {})
    chosen = []
    for row in joined.iter_rows(named=True):
        t = terms[row["product_code"]]
        first = row["due_date"] + timedelta(days=t.autopay_attempt_offset_days)
        if first <= day <= first + timedelta(days=t.autopay_retry_days):
            chosen.append(row["account_id"])
    return _items(chosen, "autopay")


def process_autopay(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> list[ItemOutcome]:
    day = ctx.business_date
    ids = [_key(i) for i in chunk]
    state = io.states(conn, ids)
    card = io.cards(conn, ids)
    earlier = _attempts_since(conn, ids, state)
    txns = io.activity(conn, ids, state["last_statement_date"].min(), day)
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
    rows: dict[str, dict[str, Any]] = {}
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
        split = allocate_payments(balances, pays, terms).payments
        parts = {r["account_id"]: r for r in split.iter_rows(named=True)}
        for row in decided.iter_rows(named=True):
            rows[row["account_id"]] = {**row, "split": parts.get(row["account_id"])}
    outcomes = []
    attempts: list[dict[str, Any]] = []
    for item in chunk:
        row = rows[_key(item)]
        outcomes.append(_autopay_outcome(attempts, ctx, item, row, earlier.get(_key(item))))
    if attempts:
        conn.execute(insert(autopay_attempts), attempts)
    return outcomes


def _attempts_since(conn: Connection, ids: Sequence[str], state: pl.DataFrame) -> dict[str, str]:
    """Per account, the status/reason of its last attempt for the current statement."""
    a = autopay_attempts.c
    query = (
        select(a.account_id, a.statement_date, a.status, a.reason_code)
        .where(a.account_id.in_(list(ids)))
        .order_by(a.attempt_date)
    )
    last = dict(zip(state["account_id"].to_list(), state["last_statement_date"].to_list(),
                    strict=True))  # fmt: skip
    found: dict[str, str] = {}
    for account_id, statement_date, status, reason in conn.execute(query):
        if statement_date == last.get(account_id):
            found[account_id] = f"{status}:{reason or ''}"
    return found


def _autopay_outcome(
    attempts: list[dict[str, Any]],
    ctx: JobContext,
    item: Item,
    row: dict[str, Any],
    earlier: str | None,
) -> ItemOutcome:
    """The item's outcome; the attempt to store (if any) is added to ``attempts``."""
    if earlier is not None and earlier != "declined:AM04":
        return skipped(item, "no_retry", f"last attempt {earlier}; only AM04 is retried")
    entry_key = ctx.entry_key(item.key)
    attempt = {
        "account_id": row["account_id"],
        "attempt_date": ctx.business_date,
        "statement_date": row["last_statement_date"],
        "deposit_account_id": row["repayment_account_id"],
        "choice": row["autopay_choice"],
        "amount_fen": row["amount_fen"],
        "basis": row["basis"],
        "status": row["outcome"],
        "reason_code": row["reason_code"],
        "entry_key": entry_key if row["outcome"] == "debited" else None,
        "run_id": ctx.run_id,
    }
    attempts.append(attempt)
    if row["outcome"] == "declined":
        return succeeded(item, None, 0, tally=f"declined_{row['reason_code']}")
    if row["outcome"] != "debited":
        return succeeded(item, None, 0, tally="nothing_due")
    entry = _autopay_entry(entry_key, ctx, row)
    return succeeded(item, entry, row["amount_fen"], tally=f"debited_{row['basis']}")


def _autopay_entry(key: str, ctx: JobContext, row: dict[str, Any]) -> JournalEntry:
    split = row["split"]
    card_id, amount_fen = row["account_id"], row["amount_fen"]
    credits = [Posting(card_id, c, -split[f"{c}_fen"]) for c in COMPONENTS if split[f"{c}_fen"]]
    if split["overpaid_fen"]:
        credits.append(Posting(card_id, Component.PURCHASE, -split["overpaid_fen"]))
    debit = Posting(row["repayment_account_id"], Component.BALANCE, amount_fen)
    return JournalEntry(key, ctx.business_date, EntryKind.AUTOPAY, (debit, *credits),
                        f"auto-repayment ({row['basis']})", run_id=ctx.run_id)  # fmt: skip


# -- statements ----------------------------------------------------------------------


def list_statements(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    card = io.cards(conn, within=_within(ctx)).filter(~pl.col("status").is_in(CLOSED_STATUSES))
    chosen = [
        row["account_id"]
        for row in card.iter_rows(named=True)
        if is_statement_date(day, row["statement_day"])
        and (row["opened_on"] is None or row["opened_on"] <= day)
    ]
    configured = io.configured_products(conn)
    ruled = card.filter(
        pl.col("account_id").is_in(chosen) & pl.col("product_code").is_in(sorted(configured))
    )
    _with_terms(conn, ruled, day, {})
    return _items(chosen, "statement")


def process_statements(
    conn: Connection, ctx: JobContext, chunk: Sequence[Item]
) -> list[ItemOutcome]:
    day = ctx.business_date
    ids = [_key(i) for i in chunk]
    configured = io.configured_products(conn)
    every_card = io.cards(conn, ids)
    unruled = every_card.filter(~pl.col("product_code").is_in(sorted(configured)))
    card = every_card.filter(pl.col("product_code").is_in(sorted(configured)))
    known = set(io.states(conn, ids)["account_id"].to_list())
    io.insert_states(conn, [io.initial_state(r, day) for r in card.iter_rows(named=True)
                            if r["account_id"] not in known])  # fmt: skip
    state = io.states(conn, ids)
    due = state.filter(pl.col("period_end") == day)
    results: dict[str, ItemOutcome] = {}
    cache: TermsCache = {}
    for (code,), group in due.group_by(["product_code"]):
        terms, label = io.terms_in_force(conn, str(code), day, cache)
        results.update(_state_accounts(conn, ctx, group, card, terms, label))
    for row in unruled.iter_rows(named=True):
        message = f"product {row['product_code']} has no rule set loaded: not in the cycle"
        results[row["account_id"]] = skipped(Item(f"{row['account_id']}:statement"), "no_rules",
                                             message)  # fmt: skip
    outcomes = []
    for item in chunk:
        found = results.get(_key(item))
        outcomes.append(found or skipped(item, "not_due", "no statement period ends today"))
    return outcomes


def _state_accounts(
    conn: Connection,
    ctx: JobContext,
    group: pl.DataFrame,
    card: pl.DataFrame,
    terms: ProductTerms,
    label: str,
) -> dict[str, ItemOutcome]:
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
    stated = result.statements.with_columns(back)
    nexts = result.accounts.with_columns(back)
    io.replace_lots(conn, ids, result.lots.with_columns(back).to_dicts())
    outcomes: dict[str, ItemOutcome] = {}
    own = {"account": _by_account(accounts), "lots": _by_account(lots), "txns": _by_account(txns)}
    fees = dict(zip(accounts["account_id"].to_list(), accounts["instalment_fee_fen"].to_list(),
                    strict=True))  # fmt: skip
    records: list[dict[str, Any]] = []
    next_states: list[dict[str, Any]] = []
    for row, nxt in zip(stated.to_dicts(), nexts.to_dicts(), strict=True):
        account_id = row["account_id"]
        inputs = _inputs_json(account_id, own, label)
        records.append(_statement_record(ctx, row, nxt, inputs, label, next_states))
        item = Item(f"{account_id}:statement", account_id)
        interest_fen = int(row["interest_fen"])
        fee_fen = int(fees[account_id])
        entry = _statement_entry(ctx.entry_key(item.key), ctx, account_id, interest_fen, fee_fen)
        outcomes[account_id] = succeeded(item, entry, interest_fen, tally="statement")
    if records:
        conn.execute(insert(statements), records)
    io.save_states(conn, next_states)
    del index
    return outcomes


def _by_account(frame: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """A frame's rows grouped by account id, in the frame's order (one pass)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in frame.to_dicts():
        grouped.setdefault(row["account_id"], []).append(row)
    return grouped


def _statement_entry(
    key: str, ctx: JobContext, account_id: str, interest_fen: int, fee_fen: int
) -> JournalEntry | None:
    """The statement date's charges: interest, and the instalment fee billed."""
    postings: list[Posting] = []
    if interest_fen > 0:
        postings += [Posting(account_id, Component.INTEREST, interest_fen),
                     Posting(GL.INTEREST_INCOME, Component.BALANCE, -interest_fen)]  # fmt: skip
    if fee_fen > 0:
        postings += [Posting(account_id, Component.FEE, fee_fen),
                     Posting(GL.FEE_INCOME, Component.BALANCE, -fee_fen)]  # fmt: skip
    if not postings:
        return None
    kind = EntryKind.INTEREST if fee_fen == 0 else "statement"
    return JournalEntry(key, ctx.business_date, kind, tuple(postings),
                        f"interest and instalment fee to {ctx.business_date}",
                        run_id=ctx.run_id)  # fmt: skip


def _inputs_json(
    account_id: str, own: dict[str, dict[str, list[dict[str, Any]]]], label: str
) -> str:
    data: dict[str, Any] = {"rule_version": label}
    data.update((name, rows.get(account_id, [])) for name, rows in own.items())
    return json.dumps(data, default=str, sort_keys=True)


def _statement_record(
    ctx: JobContext,
    row: dict[str, Any],
    nxt: dict[str, Any],
    inputs: str,
    label: str,
    next_states: list[dict[str, Any]],
) -> dict[str, Any]:
    """The statement row to store; the account's next state is added to ``next_states``."""
    account_id = row["account_id"]
    record: dict[str, Any] = {name: int(row[name]) for name in STATEMENT_AMOUNTS}
    record.update(
        account_id=account_id,
        statement_date=row["statement_date"],
        period_start=_json_date(inputs),
        due_date=row["due_date"],
        dpd=int(row["dpd"]),
        bucket=row["bucket"],
        five_category=row["five_category"],
        rule_version=label,
        run_id=ctx.run_id,
        inputs_json=inputs,
    )
    values = {name: nxt[name] for name in io.STATE_COLUMNS}
    values.update(account_id=account_id, last_statement_date=row["statement_date"],
                  dpd=int(row["dpd"]), bucket=row["bucket"], five_category=row["five_category"],
                  state_date=ctx.business_date)  # fmt: skip
    next_states.append(values)
    return record


def _json_date(inputs: str) -> date:
    account = json.loads(inputs)["account"][0]
    return date.fromisoformat(account["period_start"])


# -- delinquency ---------------------------------------------------------------------


def list_delinquency(conn: Connection, ctx: JobContext) -> list[Item]:
    day = ctx.business_date
    state = io.states(conn, within=_within(ctx)).filter(
        pl.col("due_date").is_not_null()
        & ((pl.col("due_date") < day) | pl.col("arrears_since").is_not_null())
    )
    return _items(state["account_id"].to_list(), "delinquency")


def process_delinquency(
    conn: Connection, ctx: JobContext, chunk: Sequence[Item]
) -> list[ItemOutcome]:
    day = ctx.business_date
    ids = [_key(i) for i in chunk]
    state = io.states(conn, ids)
    txns = io.activity(conn, ids, state["last_statement_date"].min(), day)
    starts = state.select("account_id", pl.col("last_statement_date").alias("start"),
                          pl.lit(day).alias("end"))  # fmt: skip
    frame = state.join(io.paid_between(txns, starts, "end", "paid_fen"), on="account_id")
    cache: TermsCache = {}
    found: dict[str, dict[str, Any]] = {}
    for (code,), group in frame.group_by(["product_code"]):
        terms = io.terms_in_force(conn, str(code), day, cache)[0]
        now = delinquency_as_of(group, day, terms)
        for row in group.join(now, on="account_id", suffix="_now").to_dicts():
            found[row["account_id"]] = row
    card_status = dict(io.cards(conn, ids).select("account_id", "status").iter_rows())
    by_cycle = _statuses_set_by_cycle(conn, ids)
    _record_delinquency(conn, ctx, [found[_key(item)] for item in chunk])
    outcomes = []
    for item in chunk:
        row = found[_key(item)]
        actions = io.actions_in_force(conn, row["product_code"], day, cache)
        current = card_status.get(row["account_id"], "active")
        change = status_action(current, by_cycle.get(row["account_id"]), row["dpd_now"],
                               row["bucket_now"], actions)  # fmt: skip
        if change is not None and change[0] == "charged_off":
            outcomes.append(_charge_off(conn, ctx, item, current, change[1]))
            continue
        if change is not None:
            _apply_status(conn, ctx, row["account_id"], current, *change)
        outcomes.append(succeeded(item, None, 0, tally=row["bucket_now"]))
    return outcomes


def _charge_off(
    conn: Connection, ctx: JobContext, item: Item, current: str, reason: str
) -> ItemOutcome:
    """Charge the card off: status, and one entry writing its balance off to GL:write_off."""
    account_id = _key(item)
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
    return succeeded(item, entry, written_fen, tally="charged_off")


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
        .where(a.account_id.in_(list(ids)))
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


def _record_delinquency(conn: Connection, ctx: JobContext, rows: list[dict[str, Any]]) -> None:
    """History rows for the accounts whose bucket or class changed, and every new state."""
    changed = [
        row for row in rows
        if (row["bucket_now"], row["five_category_now"]) != (row["bucket"], row["five_category"])
    ]  # fmt: skip
    if changed:
        h = delinquency_history.c
        recorded = set(conn.execute(
            select(h.account_id).where(
                h.account_id.in_([row["account_id"] for row in changed]),
                h.business_date == ctx.business_date,
            )
        ).scalars())  # fmt: skip
        history = [{
            "account_id": row["account_id"], "business_date": ctx.business_date,
            "dpd": row["dpd_now"], "bucket": row["bucket_now"],
            "five_category": row["five_category_now"], "previous_bucket": row["bucket"],
            "previous_category": row["five_category"], "run_id": ctx.run_id,
        } for row in changed if row["account_id"] not in recorded]  # fmt: skip
        if history:
            conn.execute(insert(delinquency_history), history)
    io.save_states(conn, [{
        "account_id": row["account_id"], "dpd": row["dpd_now"], "bucket": row["bucket_now"],
        "five_category": row["five_category_now"], "state_date": ctx.business_date,
    } for row in rows])  # fmt: skip


JOB = register(
    Job(
        name=JOB_NAME,
        description="The nightly card cycle: late fees, auto-repayment, statements, delinquency.",
        steps=(
            Step("late-fee", list_late_fees, process_late_fees),
            Step("autopay", list_autopay, process_autopay, after=("late-fee",)),
            Step("sweep", list_sweeps, process_sweeps, after=("autopay",)),
            Step("statement", list_statements, process_statements, after=("sweep",)),
            Step("delinquency", list_delinquency, process_delinquency, after=("statement",)),
        ),
        night_order=20,
    )
)
