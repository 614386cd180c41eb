"""Columnar (Polars) kernels of the nightly card cycle, for a whole partition of accounts.

The rules are those of :mod:`cardbatch.domain.cycle` (see ``docs/cycle.md``); a
per-account reference in the tests must give the same fen on any portfolio.
Amounts are ``Int64`` fen, never float. Rates and percentages are applied as
exact integer fractions (``Decimal("0.0005")`` = 5 / 10**4): the product is
taken in ``Int128`` and rounded half-up in integer arithmetic, so every result is
the exact Decimal result rounded once.

Input frames of :func:`run_period` (one statement period per account; the
account's statement date is ``period_end``):

``accounts`` -- one row per account, the state left by its last statement:
    account_id Int64; statement_day Int64 (1..31); credit_limit_fen Int64;
    period_start Date (day after the last statement, or the opening day);
    period_end Date (this statement date);
    due_date Date | null (last statement's due date; null before the first);
    statement_balance_fen, minimum_fen Int64 (last statement; 0 before the first);
    arrears_fen Int64, arrears_since Date | null (past-due minimum of older cycles);
    overpaid_fen Int64 (credit balance, >= 0);
    balance_<component>_fen Int64 for each card component (purchase, cash, interest, fee,
    late_fee, instalment): the balances carried from the last statement;
    retro_fen_days Int64 (balance-days of the last statement's own purchases, from
    their posting dates to that statement: charged when it is not paid);
    unbilled_instalment_fen, instalment_principal_fen, instalment_fee_fen Int64
    (instalment principal not yet billed; the principal and fee billed on period_end).

``lots`` -- items billed on the last statement that waited for the interest-free
    period and are still unpaid: account_id Int64, component Utf8 (purchase, or
    cash when cash does not accrue from the transaction date),
    post_date Date, seq Int64, remaining_fen Int64.

``txns`` -- the period's transactions: account_id Int64, txn_date Date (within the
    period), seq Int64 (order within a day), kind Utf8 (purchase, cash_advance,
    fee, payment, credit), amount_fen Int64 (> 0).

Output (:class:`CycleResult`): ``statements`` (the fields of
:data:`cardbatch.domain.cycle.statement.STATEMENT_FIELDS` plus interest_fen_days,
dpd, bucket, five_category), ``accounts`` (the same schema as the input, ready for
the next period) and ``lots`` (the same schema, for the next period).

Events are applied in order per account, one event rank at a time across all
accounts (a loop over ranks, not over accounts); all other steps are single
columnar passes. :func:`delinquency_as_of` and :func:`autopay_decisions` are the
columnar DPD/bucket/class and auto-repayment kernels for any business date.

Internals: :mod:`~cardbatch.jobs.cycle_schema` (schemas, exact arithmetic, shared
expressions), :mod:`~cardbatch.jobs.cycle_events` (the event loop) and
:mod:`~cardbatch.jobs.cycle_close` (interest, closing, minimum, next state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from cardbatch.domain.cycle.delinquency import Arrears, DueState
from cardbatch.domain.cycle.period import CarriedState, Lot, PeriodTxn
from cardbatch.domain.product import CASH, COMPONENTS, PURCHASE, ProductTerms
from cardbatch.jobs.cycle_close import (
    bill_instalments,
    close_period,
    lots_fen_days,
    next_accounts,
    next_lots,
    next_statement_date_expr,
    post_interest,
    statement_frame,
)
from cardbatch.jobs.cycle_events import (
    TXN_SUM_COLUMNS,
    allocation_takes,
    apply_rank,
    initial_state,
    late_fee_expr,
    ordered_events,
    txn_sums,
)
from cardbatch.jobs.cycle_schema import (
    ACCOUNT_SCHEMA,
    LOT_SCHEMA,
    TXN_KINDS,
    TXN_SCHEMA,
    KernelInputError,
    bucket_expr,
    clip0,
    dpd_expr,
    five_category_expr,
    fraction,
    rank_in_sorted_groups,
    sum_exprs,
    times_fraction_half_up,
)

__all__ = [
    "ACCOUNT_SCHEMA",
    "AUTOPAY_INPUT",
    "BALANCE_INPUT",
    "DELINQUENCY_INPUT",
    "LATE_FEE_INPUT",
    "LOT_SCHEMA",
    "PAYMENT_INPUT",
    "TXN_SCHEMA",
    "Allocated",
    "CycleResult",
    "KernelInputError",
    "account_period_inputs",
    "allocate_payments",
    "autopay_decisions",
    "delinquency_as_of",
    "fraction",
    "late_fees_on",
    "next_statement_date_expr",
    "run_period",
    "times_fraction_half_up",
]


@dataclass(frozen=True, slots=True)
class CycleResult:
    """The statements of a period and the state for the next one."""

    statements: pl.DataFrame
    accounts: pl.DataFrame
    lots: pl.DataFrame


# -- input checks -------------------------------------------------------------------


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], name: str) -> pl.DataFrame:
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise KernelInputError(f"{name} frame lacks column(s): {', '.join(missing)}")
    return frame.select([pl.col(c).cast(t, strict=True) for c, t in schema.items()])


def _check_accounts_and_lots(accounts: pl.DataFrame, lots: pl.DataFrame) -> None:
    duplicated = accounts.filter(pl.col("account_id").is_duplicated())
    if duplicated.height:
        raise KernelInputError(f"accounts: account {duplicated['account_id'][0]} appears twice")
    bad = lots.filter(~pl.col("component").is_in([PURCHASE, CASH]) | (pl.col("remaining_fen") <= 0))
    if bad.height:
        row = bad.row(0, named=True)
        raise KernelInputError(
            f"lots: account {row['account_id']} lot {row['component']!r} remaining_fen "
            f"{row['remaining_fen']}: lots are purchase or cash with remaining_fen > 0"
        )


def _check_txns(txns: pl.DataFrame) -> None:
    """``txns`` joined with each account's ``idx``, ``period_start`` and ``period_end``."""
    bad_kind = txns.filter(~pl.col("kind").is_in(TXN_KINDS))
    if bad_kind.height:
        row = bad_kind.row(0, named=True)
        raise KernelInputError(f"txns: unknown kind {row['kind']!r} (account {row['account_id']})")
    bad_amount = txns.filter(pl.col("amount_fen") <= 0)
    if bad_amount.height:
        row = bad_amount.row(0, named=True)
        raise KernelInputError(
            f"txns: amount_fen must be > 0, got {row['amount_fen']} (account {row['account_id']})"
        )
    unknown = txns.filter(pl.col("idx").is_null())
    if unknown.height:
        raise KernelInputError(
            f"txns: account {unknown['account_id'][0]} is not in the accounts frame"
        )
    outside = txns.filter(
        (pl.col("txn_date") < pl.col("period_start")) | (pl.col("txn_date") > pl.col("period_end"))
    )
    if outside.height:
        row = outside.row(0, named=True)
        raise KernelInputError(
            f"txns: account {row['account_id']} txn_date {row['txn_date']} is outside its period"
        )


# -- the period kernel --------------------------------------------------------------

NET_SCHEMA: dict[str, pl.DataType] = {"row": pl.UInt32(), "net_fen": pl.Int64()}


def run_period(
    accounts: pl.DataFrame, lots: pl.DataFrame, txns: pl.DataFrame, terms: ProductTerms
) -> CycleResult:
    """Compute one statement period for every account of the partition."""
    accounts = _conform(accounts, ACCOUNT_SCHEMA, "accounts").with_row_index("idx")
    lots = _conform(lots, LOT_SCHEMA, "lots")
    txns = _conform(txns, TXN_SCHEMA, "txns")
    _check_accounts_and_lots(accounts, lots)
    grace_end = pl.col("due_date") + pl.duration(days=terms.grace_days)
    frame = accounts.with_columns(grace_end.alias("grace_end"))
    per_account = frame.select("account_id", "idx", "period_start", "period_end", "grace_end")
    txns = txns.with_row_index("row")
    joined = txns.join(per_account, on="account_id", how="left")
    _check_txns(joined)
    frame = frame.join(txn_sums(joined), on="idx", how="left").with_columns(
        pl.col(c).fill_null(0) for c in TXN_SUM_COLUMNS
    )
    frame = frame.with_columns(late_fee_expr(terms).alias("late_fee_fen"))
    events = ordered_events(joined, frame)
    state = initial_state(frame)
    by_rank = events.partition_by("rank", as_dict=True)
    netted = [apply_rank(by_rank[rank], frame, state, terms) for rank in sorted(by_rank)]
    net_by_row = pl.concat(netted) if netted else pl.DataFrame(schema=NET_SCHEMA)
    frame = frame.with_columns(pl.Series(name, values) for name, values in state.items())
    frame = bill_instalments(frame)
    lot_columns = ("lots_fen_days", "lots_unpaid", "lots_total")
    if terms.interest_mode == "unpaid_only":
        frame = frame.join(lots_fen_days(lots, frame), on="idx", how="left")
        frame = frame.with_columns(pl.col(c).fill_null(0) for c in lot_columns)
    else:  # full_balance needs no per-lot view: the retro balance-days cover the lots
        frame = frame.with_columns(pl.lit(0, pl.Int64).alias(c) for c in lot_columns)
    frame = post_interest(frame, terms)
    frame = close_period(frame, terms)
    return CycleResult(
        statements=statement_frame(frame, terms),
        accounts=next_accounts(frame, terms),
        lots=next_lots(txns, net_by_row, frame, terms),
    )


# -- delinquency and auto-repayment for any business date ---------------------------

DELINQUENCY_INPUT: tuple[str, ...] = (
    "account_id",
    "due_date",
    "statement_balance_fen",
    "minimum_fen",
    "arrears_fen",
    "arrears_since",
    "paid_fen",
)


def delinquency_as_of(
    frame: pl.DataFrame, business_date: date, terms: ProductTerms
) -> pl.DataFrame:
    """DPD, bucket and five-category class of every account on ``business_date``.

    ``frame`` has the columns of :data:`DELINQUENCY_INPUT`: the last statement's due
    state (as in the accounts frame) and ``paid_fen``, the payments and credits
    received since that statement up to ``business_date``.
    """
    missing = [c for c in DELINQUENCY_INPUT if c not in frame.columns]
    if missing:
        raise KernelInputError(f"delinquency frame lacks column(s): {', '.join(missing)}")
    dpd = dpd_expr(pl.lit(business_date), pl.col("paid_fen"), terms)
    return frame.select("account_id", dpd.alias("dpd")).with_columns(
        bucket_expr(pl.col("dpd"), terms).alias("bucket"),
        five_category_expr(pl.col("dpd"), terms).alias("five_category"),
    )


AUTOPAY_INPUT: tuple[str, ...] = (
    "account_id",
    "autopay_choice",
    "statement_balance_fen",
    "minimum_fen",
    "paid_fen",
    "available_fen",
    "deposit_status",
)


def autopay_decisions(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    """One auto-repayment attempt per account (see :func:`cardbatch.domain.cycle.autopay.decide`).

    ``frame`` has the columns of :data:`AUTOPAY_INPUT` (choice ``full`` or ``minimum``;
    deposit status ``active``, ``closed`` or ``frozen``). Returns account_id, outcome,
    amount_fen, basis, reason_code.
    """
    missing = [c for c in AUTOPAY_INPUT if c not in frame.columns]
    if missing:
        raise KernelInputError(f"autopay frame lacks column(s): {', '.join(missing)}")
    full_due = clip0(pl.col("statement_balance_fen") - pl.col("paid_fen"))
    minimum_due = pl.min_horizontal(clip0(pl.col("minimum_fen") - pl.col("paid_fen")), full_due)
    wants_full = pl.col("autopay_choice") == "full"
    target = pl.when(wants_full).then(full_due).otherwise(minimum_due)
    funds = clip0(pl.col("available_fen"))
    fallback = wants_full & pl.lit(terms.autopay_fallback_to_minimum)
    status = pl.col("deposit_status")
    decision = (
        pl.when(target == 0)
        .then(pl.struct(o=pl.lit("nothing_due"), a=0, b=pl.lit("none"), r=pl.lit(None, pl.Utf8)))
        .when(status == "closed")
        .then(pl.struct(o=pl.lit("declined"), a=0, b=pl.lit("none"), r=pl.lit("AC04")))
        .when(status == "frozen")
        .then(pl.struct(o=pl.lit("declined"), a=0, b=pl.lit("none"), r=pl.lit("AC06")))
        .when(funds >= target)
        .then(pl.struct(o=pl.lit("debited"), a=target, b=pl.col("autopay_choice"), r=None))
        .when(fallback & (minimum_due == 0))
        .then(pl.struct(o=pl.lit("nothing_due"), a=0, b=pl.lit("none"), r=None))
        .when(fallback & (funds >= minimum_due))
        .then(pl.struct(o=pl.lit("debited"), a=minimum_due, b=pl.lit("minimum"), r=None))
        .when(pl.lit(terms.autopay_allow_partial) & (funds > 0))
        .then(pl.struct(o=pl.lit("debited"), a=funds, b=pl.lit("partial"), r=None))
        .otherwise(pl.struct(o=pl.lit("declined"), a=0, b=pl.lit("none"), r=pl.lit("AM04")))
    )
    return frame.select("account_id", decision.alias("d")).select(
        "account_id",
        pl.col("d").struct.field("o").alias("outcome"),
        pl.col("d").struct.field("a").cast(pl.Int64).alias("amount_fen"),
        pl.col("d").struct.field("b").alias("basis"),
        pl.col("d").struct.field("r").cast(pl.Utf8).alias("reason_code"),
    )


# -- the nightly steps between statements -------------------------------------------

LATE_FEE_INPUT: tuple[str, ...] = (
    "account_id",
    "due_date",
    "statement_balance_fen",
    "minimum_fen",
    "paid_by_grace_fen",
)


def late_fees_on(frame: pl.DataFrame, business_date: date, terms: ProductTerms) -> pl.DataFrame:
    """Late fees charged on ``business_date``: accounts whose due date + grace + 1 is today.

    ``frame`` has the columns of :data:`LATE_FEE_INPUT`: the last statement's due date,
    balance and minimum, and what was paid from that statement up to due date + grace.
    Returns account_id and late_fee_fen, for the accounts charged (fee > 0).
    """
    _require(frame, LATE_FEE_INPUT, "late fee")
    fee_day = pl.col("due_date") + pl.duration(days=terms.grace_days + 1)
    return (
        frame.filter(fee_day == pl.lit(business_date))
        .with_columns(pl.col("paid_by_grace_fen").alias("paid_by_grace"))
        .select("account_id", late_fee_expr(terms).alias("late_fee_fen"))
        .filter(pl.col("late_fee_fen") > 0)
    )


BALANCE_INPUT: tuple[str, ...] = (
    "account_id",
    *(f"balance_{c}_fen" for c in COMPONENTS),
    "overpaid_fen",
)
PAYMENT_INPUT: tuple[str, ...] = ("account_id", "seq", "amount_fen", "dpd")


@dataclass(frozen=True, slots=True)
class Allocated:
    """Per payment, what each component received; and the balances afterwards."""

    payments: pl.DataFrame
    balances: pl.DataFrame


def allocate_payments(
    balances: pl.DataFrame, payments: pl.DataFrame, terms: ProductTerms
) -> Allocated:
    """Apply the day's payments and credits to component balances in the product's order.

    ``balances`` has :data:`BALANCE_INPUT` (one row per account); ``payments`` has
    :data:`PAYMENT_INPUT` (``dpd`` as of the payment, before it; an account's payments are
    applied in ``seq`` order). The result gives, per payment, ``<component>_fen`` taken
    and ``overpaid_fen`` (the rest, held as a credit), and the balances afterwards.
    """
    _require(balances, BALANCE_INPUT, "balances")
    _require(payments, PAYMENT_INPUT, "payments")
    state = {name: balances[name].cast(pl.Int64).clone() for name in BALANCE_INPUT[1:]}
    index = balances.select("account_id").with_row_index("idx")
    ranked = (
        payments.join(index, on="account_id")
        .sort("idx", "seq")
        .with_columns(rank_in_sorted_groups(["idx"]).alias("rank"))
    )
    done: list[pl.DataFrame] = []
    by_rank = ranked.partition_by("rank", as_dict=True)
    for rank in sorted(by_rank):
        rows = by_rank[rank]
        idx = rows["idx"]
        step = rows.with_columns(
            *(state[f"balance_{c}_fen"].gather(idx).alias(f"old_{c}") for c in COMPONENTS),
            *(pl.lit(0, pl.Int64).alias(f"new_{c}") for c in COMPONENTS),
        )
        taken = _take_in_order(step, terms)
        for c in COMPONENTS:
            state[f"balance_{c}_fen"].scatter(idx, step[f"old_{c}"] - taken[f"{c}_fen"])
        state["overpaid_fen"].scatter(
            idx, state["overpaid_fen"].gather(idx) + taken["overpaid_fen"]
        )
        done.append(taken)
    columns = ["account_id", "seq", "amount_fen", *(f"{c}_fen" for c in COMPONENTS), "overpaid_fen"]
    paid = pl.concat(done) if done else pl.DataFrame(schema={c: pl.Int64 for c in columns})
    after = balances.select("account_id").with_columns(pl.Series(n, s) for n, s in state.items())
    return Allocated(payments=paid.select(columns), balances=after)


def _take_in_order(step: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    amount = pl.col("amount_fen")
    delinquent = pl.col("dpd") >= terms.delinquent_from_dpd
    current = allocation_takes(terms.allocation_order_current, amount)
    late = allocation_takes(terms.allocation_order_delinquent, amount)
    takes = [
        pl.when(delinquent).then(late[f"old_{c}"]).otherwise(current[f"old_{c}"]).alias(f"{c}_fen")
        for c in COMPONENTS
    ]
    return step.select("account_id", "seq", "amount_fen", *takes).with_columns(
        (amount - sum_exprs([pl.col(f"{c}_fen") for c in COMPONENTS])).alias("overpaid_fen")
    )


def _require(frame: pl.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KernelInputError(f"{name} frame lacks column(s): {', '.join(missing)}")


# -- one account, item by item (for explanations) ------------------------------------


def account_period_inputs(
    accounts: pl.DataFrame, lots: pl.DataFrame, txns: pl.DataFrame, account_id: int
) -> tuple[CarriedState, list[Lot], list[PeriodTxn]]:
    """One account's rows of the kernels' input frames, as per-account domain records."""
    rows = accounts.filter(pl.col("account_id") == account_id)
    if rows.height != 1:
        raise KernelInputError(f"accounts frame has {rows.height} rows for account {account_id}")
    row = rows.row(0, named=True)
    due = None
    if row["due_date"] is not None:
        arrears = Arrears(row["arrears_fen"], row["arrears_since"])
        due = DueState(row["due_date"], row["minimum_fen"], row["statement_balance_fen"], arrears)
    state = CarriedState(
        account_id=account_id,
        credit_limit_fen=row["credit_limit_fen"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        due=due,
        overpaid_fen=row["overpaid_fen"],
        balances_fen={c: row[f"balance_{c}_fen"] for c in COMPONENTS},
        retro_fen_days=row["retro_fen_days"],
        unbilled_instalment_fen=row["unbilled_instalment_fen"],
        instalment_principal_fen=row["instalment_principal_fen"],
        instalment_fee_fen=row["instalment_fee_fen"],
    )
    own_lots = [
        Lot(r["component"], r["post_date"], r["seq"], r["remaining_fen"])
        for r in lots.filter(pl.col("account_id") == account_id).iter_rows(named=True)
    ]
    own_txns = [
        PeriodTxn(r["txn_date"], r["seq"], r["kind"], r["amount_fen"])
        for r in txns.filter(pl.col("account_id") == account_id).iter_rows(named=True)
    ]
    return state, own_lots, own_txns
