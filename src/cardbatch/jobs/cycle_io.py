"""Bulk reads and writes of the card cycle: cycle state, ledger activity, terms in force.

Everything here works on a chunk of card accounts at once (one query per table,
never one per account) and hands Polars frames to the kernels of
:mod:`cardbatch.jobs.cycle_kernels`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, and_, case, delete, func, insert, select

from cardbatch.domain.cycle.dates import previous_statement_date
from cardbatch.domain.ledger import EntryKind
from cardbatch.domain.product import ProductTerms
from cardbatch.engine.job import StepInputError
from cardbatch.rules.model import DelinquencySection, RuleSet
from cardbatch.rules.versions import version_in_force
from cardbatch.store.frame_io import bulk_insert, key_in, read_frame, update_rows
from cardbatch.store.tables import balances, card_accounts, deposit_accounts, journal_entries
from cardbatch.store.tables import postings as postings_t
from cardbatch.store.tables_cycle import CARD_COMPONENT_NAMES, cycle_accounts, cycle_lots
from cardbatch.store.tables_rules import rule_versions

# Ledger entry kinds that are transactions of a period, as the kernels name them.
# Interest and late fees are not: the kernels compute them from the period's facts.
KERNEL_KIND: dict[str, str] = {
    EntryKind.PURCHASE: "purchase",
    EntryKind.CASH_ADVANCE: "cash_advance",
    EntryKind.FEE: "fee",
    EntryKind.PAYMENT: "payment",
    EntryKind.AUTOPAY: "payment",
    EntryKind.SWEEP: "payment",
    EntryKind.REFUND: "credit",
    EntryKind.WAIVER: "credit",
    EntryKind.INSTALMENT: "credit",  # a conversion: the amount leaves the purchases
}
# A reversal negates the entry it corrects, so its kind follows its direction on the card:
# one that credits the card (a reversed purchase, cash advance, fee or interest) is a credit
# of the period, like a refund; one that debits it (a reversed payment or refund) is billed
# again as a charge, under purchases. See docs/statements.md.
REVERSAL_KIND: dict[bool, str] = {True: "credit", False: "purchase"}
STATE_COLUMNS: tuple[str, ...] = (
    "period_start",
    "period_end",
    "due_date",
    "statement_balance_fen",
    "minimum_fen",
    "arrears_fen",
    "arrears_since",
    "overpaid_fen",
    *(f"balance_{c}_fen" for c in CARD_COMPONENT_NAMES),
    "retro_fen_days",
    "unbilled_instalment_fen",
    "instalment_principal_fen",
    "instalment_fee_fen",
)


def terms_in_force(
    conn: Connection, product_code: str, day: date, cache: dict[tuple[str, date], Any]
) -> tuple[ProductTerms, str]:
    """The product terms of the rule version in force on ``day`` and its label."""
    terms, label, _, _ = _in_force(conn, product_code, day, cache)
    return terms, label


def rules_in_force(
    conn: Connection, product_code: str, day: date, cache: dict[tuple[str, date], Any]
) -> RuleSet:
    """The product's whole rule set in force on ``day`` (sections beyond the terms)."""
    return _in_force(conn, product_code, day, cache)[3]


def actions_in_force(
    conn: Connection, product_code: str, day: date, cache: dict[tuple[str, date], Any]
) -> DelinquencySection:
    """The product's delinquency settings in force on ``day`` (status actions by bucket)."""
    return _in_force(conn, product_code, day, cache)[2]


def _in_force(
    conn: Connection, product_code: str, day: date, cache: dict[tuple[str, date], Any]
) -> tuple[ProductTerms, str, DelinquencySection, RuleSet]:
    key = (product_code, day)
    if key not in cache:
        version = version_in_force(conn, product_code, day)
        if version is None:
            raise StepInputError(
                f"product {product_code} has no approved rule version in force on {day}: "
                "load one with `cardbatch rules load` and approve it as a second user"
            )
        rules = version.rules()
        fields: dict[str, Any] = dict(rules.terms_fields())
        cache[key] = (ProductTerms(**fields), version.label, rules.delinquency, rules)
    found: tuple[ProductTerms, str, DelinquencySection, RuleSet] = cache[key]
    return found


def configured_products(conn: Connection) -> set[str]:
    """Products with at least one rule version loaded (approved or not)."""
    query = select(rule_versions.c.product_code).distinct()
    return {str(code) for code in conn.execute(query).scalars()}


AccountRange = tuple[str, str | None]  # first account id (inclusive), last (exclusive; None: open)


def partition_of(params: Mapping[str, str]) -> AccountRange | None:
    """A run's range of account ids (params ``accounts_from``/``accounts_to``), if any."""
    low = params.get("accounts_from")
    if low is None:
        return None
    return low, params.get("accounts_to") or None


def _in_range(column: Any, within: AccountRange | None) -> Any:
    if within is None:
        return None
    low, high = within
    return column >= low if high is None else and_(column >= low, column < high)


def cards(
    conn: Connection,
    account_ids: Sequence[str] | None = None,
    within: AccountRange | None = None,
) -> pl.DataFrame:
    """Card accounts: id, product, statement day, limit, autopay, linked deposit, status.

    ``within`` limits the read to one partition's range of account ids.
    """
    c = card_accounts.c
    query = select(
        c.account_id,
        c.product_code,
        c.statement_day,
        c.credit_limit_fen,
        c.autopay_mode,
        c.repayment_account_id,
        c.status,
        c.opened_on,
    ).order_by(c.account_id)
    if account_ids is not None:
        query = query.where(key_in(conn, c.account_id, account_ids))
    if within is not None:
        query = query.where(_in_range(c.account_id, within))
    schema = {
        "account_id": pl.Utf8(),
        "product_code": pl.Utf8(),
        "statement_day": pl.Int64(),
        "credit_limit_fen": pl.Int64(),
        "autopay_mode": pl.Utf8(),
        "repayment_account_id": pl.Utf8(),
        "status": pl.Utf8(),
        "opened_on": pl.Date(),
    }
    return read_frame(conn, query, schema)


def states(
    conn: Connection,
    account_ids: Sequence[str] | None = None,
    within: AccountRange | None = None,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The cycle state rows, optionally of one range; all columns of ``cycle_accounts``
    or only ``columns`` (the lists of a step need a few of them for every account)."""
    names = list(columns) if columns is not None else [c.name for c in cycle_accounts.columns]
    c = cycle_accounts.c
    query = select(*(c[name] for name in names)).order_by(c.account_id)
    if account_ids is not None:
        query = query.where(key_in(conn, c.account_id, account_ids))
    if within is not None:
        query = query.where(_in_range(c.account_id, within))
    return read_frame(conn, query, {name: _state_type(name) for name in names})


def _state_type(name: str) -> pl.DataType:
    column = cycle_accounts.c[name]
    python_type = column.type.python_type
    if python_type is date:
        return pl.Date()
    if python_type is int:
        return pl.Int64()
    return pl.Utf8()


def initial_state(card: dict[str, Any], day: date) -> dict[str, Any]:
    """The state of an account before its first statement on ``day``."""
    opened: date | None = card["opened_on"]
    start = opened if opened is not None and opened <= day else None
    if start is None:
        start = date.fromordinal(
            previous_statement_date(day, card["statement_day"]).toordinal() + 1
        )
    row: dict[str, Any] = {name: 0 for name in STATE_COLUMNS}
    row.update(
        account_id=card["account_id"],
        product_code=card["product_code"],
        period_start=start,
        period_end=day,
        last_statement_date=None,
        due_date=None,
        arrears_since=None,
        dpd=0,
        bucket="M0",
        five_category="normal",
        state_date=day,
    )
    return row


def insert_states(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(cycle_accounts), rows)


def lots(conn: Connection, account_ids: Sequence[str]) -> pl.DataFrame:
    c = cycle_lots.c
    query = select(c.account_id, c.component, c.post_date, c.seq, c.remaining_fen).where(
        key_in(conn, c.account_id, account_ids)
    )
    schema = {
        "account_id": pl.Utf8(),
        "component": pl.Utf8(),
        "post_date": pl.Date(),
        "seq": pl.Int64(),
        "remaining_fen": pl.Int64(),
    }
    return read_frame(conn, query, schema)


# The entry kinds that can pay a card down (a reversal may, by its direction).
PAYING_KINDS: tuple[str, ...] = (
    *(k for k, v in KERNEL_KIND.items() if v in ("payment", "credit")),
    EntryKind.REVERSAL,
)


def payments(conn: Connection, account_ids: Sequence[str], first: Any, last: date) -> pl.DataFrame:
    """:func:`activity` limited to the entries that can be payments or credits (what
    :func:`paid_between` counts); the steps that only judge payments read no more."""
    return activity(conn, account_ids, first, last, PAYING_KINDS)


def activity(
    conn: Connection,
    account_ids: Sequence[str],
    first: Any,
    last: date,
    kinds: Sequence[str] = (*KERNEL_KIND, EntryKind.REVERSAL),
) -> pl.DataFrame:
    """The accounts' ledger transactions from ``first`` to ``last`` in the kernels' terms.

    One row per entry and account: account_id, txn_date, seq (the entry id: the
    order of the day), kind (purchase, cash_advance, fee, payment, credit), amount_fen > 0.
    ``kinds`` limits the entry kinds read.
    """
    je, p = journal_entries.c, postings_t.c
    amount = func.sum(p.amount_fen)
    credited = func.sum(case((p.amount_fen < 0, -p.amount_fen), else_=0))
    query = (
        select(p.account_id, je.business_date, je.entry_id, je.kind, amount, credited)
        .join(journal_entries, je.entry_id == p.entry_id)
        .where(
            key_in(conn, p.account_id, account_ids),
            je.business_date >= first,
            je.business_date <= last,
            je.kind.in_(list(kinds)),
        )
        .group_by(p.account_id, je.business_date, je.entry_id, je.kind)
    )
    raw = read_frame(conn, query, _ACTIVITY_READ)
    instalment = pl.col("kind") == EntryKind.INSTALMENT
    reversal = pl.col("kind") == EntryKind.REVERSAL
    kernel_kind = pl.col("kind").replace_strict(KERNEL_KIND, default=None, return_dtype=pl.Utf8)
    return (
        raw.filter((pl.col("net_fen") != 0) | (instalment & (pl.col("credited_fen") != 0)))
        .select(
            "account_id",
            "txn_date",
            "seq",
            pl.when(reversal)
            .then(pl.when(pl.col("net_fen") < 0).then(pl.lit(REVERSAL_KIND[True]))
                  .otherwise(pl.lit(REVERSAL_KIND[False])))
            .otherwise(kernel_kind)
            .alias("kind"),
            pl.when(instalment).then(pl.col("credited_fen")).otherwise(pl.col("net_fen").abs())
            .alias("amount_fen"),
        )
        .sort("account_id", "txn_date", "seq")
    )  # fmt: skip


_ACTIVITY_READ: dict[str, pl.DataType] = {
    "account_id": pl.Utf8(),
    "txn_date": pl.Date(),
    "seq": pl.Int64(),
    "kind": pl.Utf8(),
    "net_fen": pl.Int64(),
    "credited_fen": pl.Int64(),
}


def paid_between(
    txns: pl.DataFrame, starts: pl.DataFrame, end_column: str, name: str
) -> pl.DataFrame:
    """Per account, payments and credits from its ``start`` (exclusive) to its end (inclusive).

    ``starts`` has account_id, start (Date) and ``end_column`` (Date).
    """
    paid = (
        txns.filter(pl.col("kind").is_in(["payment", "credit"]))
        .join(starts, on="account_id")
        .filter((pl.col("txn_date") > pl.col("start")) & (pl.col("txn_date") <= pl.col(end_column)))
        .group_by("account_id")
        .agg(pl.col("amount_fen").sum().alias(name))
    )
    return (
        starts.select("account_id")
        .join(paid, on="account_id", how="left")
        .with_columns(pl.col(name).fill_null(0))
    )


def card_balances(conn: Connection, account_ids: Sequence[str]) -> pl.DataFrame:
    """One row per account: balance_<component>_fen from the ledger, and overpaid_fen."""
    b = balances.c
    query = select(b.account_id, b.component, b.balance_fen).where(
        key_in(conn, b.account_id, account_ids)
    )
    held: dict[str, dict[str, int]] = {a: {} for a in account_ids}
    for account_id, component, amount_fen in conn.execute(query):
        held[account_id][component] = int(amount_fen)
    rows = []
    for account_id in account_ids:
        parts = held[account_id]
        row: dict[str, Any] = {"account_id": account_id}
        for c in CARD_COMPONENT_NAMES:
            row[f"balance_{c}_fen"] = max(0, parts.get(c, 0))
        row["overpaid_fen"] = -sum(min(0, parts.get(c, 0)) for c in CARD_COMPONENT_NAMES)
        rows.append(row)
    return pl.DataFrame(rows, schema={"account_id": pl.Utf8} | {
        f"balance_{c}_fen": pl.Int64 for c in CARD_COMPONENT_NAMES
    } | {"overpaid_fen": pl.Int64})  # fmt: skip


def deposits(conn: Connection, deposit_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Deposit account id -> (status, available fen)."""
    d, b = deposit_accounts.c, balances.c
    query = (
        select(d.account_id, d.status, b.balance_fen)
        .select_from(deposit_accounts)
        .outerjoin(balances, and_(b.account_id == d.account_id, b.component == "balance"))
        .where(key_in(conn, d.account_id, deposit_ids))
    )
    return {a: (s, -int(bal or 0)) for a, s, bal in conn.execute(query)}


def save_state_frame(conn: Connection, frame: pl.DataFrame) -> None:
    """Update the cycle state of the frame's accounts (``account_id`` and the columns set)."""
    update_rows(conn, cycle_accounts.name, "account_id", frame)


def replace_lot_frame(conn: Connection, account_ids: Sequence[str], frame: pl.DataFrame) -> None:
    """The accounts' open lots become the frame's rows."""
    conn.execute(delete(cycle_lots).where(key_in(conn, cycle_lots.c.account_id, account_ids)))
    columns = ("account_id", "component", "post_date", "seq", "remaining_fen")
    bulk_insert(conn, cycle_lots.name, columns, frame.select(columns))
