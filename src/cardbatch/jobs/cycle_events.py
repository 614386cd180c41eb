"""The event loop of the cycle kernel: payments and charges applied in order.

Every account's events of the period (transactions and the late fee) are ranked
by date and sequence; rank k of every account is applied at once, as columns,
so the loop runs as often as the busiest account has events, never per account.
Per account the loop keeps the balances of each component (carried from the last
statement, ``old_``, and posted in this period, ``new_``), the overpayment, and
the balance-day sums that interest needs (see ``docs/cycle.md``).
"""

from __future__ import annotations

import polars as pl

from cardbatch.domain.cycle.allocation import CREDIT_ORDER
from cardbatch.domain.cycle.interest import bearing_components
from cardbatch.domain.product import (
    CASH,
    COMPONENTS,
    PURCHASE,
    ProductTerms,
)
from cardbatch.jobs.cycle_schema import (
    BEARING_CANDIDATES,
    EVENT_CONTEXT,
    KIND_COMPONENT,
    LOT_COMPONENTS,
    PAYMENT_KINDS,
    SEQ_LATE_FEE,
    STATE_COLUMNS,
    clip0,
    days_expr,
    dpd_expr,
    fraction,
    rank_in_sorted_groups,
    sum_exprs,
    times_fraction_half_up,
)

TXN_SUM_COLUMNS = (
    "purchases_sum",
    "cash_sum",
    "fee_sum",
    "payments_sum",
    "credits_sum",
    "paid_by_grace",
)


def txn_sums(txns: pl.DataFrame) -> pl.DataFrame:
    """Per account (``idx``): the period's totals by kind, and what was paid up to grace.

    ``txns`` carries each account's ``idx`` and ``grace_end`` (joined once by the caller).
    """
    amount = pl.col("amount_fen")
    zero = pl.lit(0, pl.Int64)
    on_time = pl.col("kind").is_in(PAYMENT_KINDS) & (pl.col("txn_date") <= pl.col("grace_end"))
    by_kind = {
        "purchases_sum": "purchase",
        "cash_sum": "cash_advance",
        "fee_sum": "fee",
        "payments_sum": "payment",
        "credits_sum": "credit",
    }
    return (
        txns.select(
            "idx",
            *(
                pl.when(pl.col("kind") == kind).then(amount).otherwise(zero).alias(name)
                for name, kind in by_kind.items()
            ),
            pl.when(on_time).then(amount).otherwise(zero).alias("paid_by_grace"),
        )
        .group_by("idx")
        .sum()
    )


def late_fee_expr(terms: ProductTerms) -> pl.Expr:
    """Late fee from what was paid by due date + grace (see late_fee.late_fee)."""
    paid = pl.col("paid_by_grace")
    unpaid_minimum = clip0(pl.col("minimum_fen") - paid)
    numerator, denominator = fraction(terms.late_fee_percent, 100)
    fee = pl.max_horizontal(
        times_fraction_half_up(unpaid_minimum, numerator, denominator),
        pl.lit(terms.late_fee_floor_fen, pl.Int64),
    )
    if terms.late_fee_cap_fen is not None:
        fee = pl.min_horizontal(fee, pl.lit(terms.late_fee_cap_fen, pl.Int64))
    waived = pl.col("statement_balance_fen") - paid <= terms.waiver_threshold_fen
    return (
        pl.when(pl.col("due_date").is_null() | (unpaid_minimum == 0) | waived)
        .then(pl.lit(0, pl.Int64))
        .otherwise(fee)
    )


def ordered_events(txns: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Transactions (with ``idx`` and their ``row`` in the txns frame) and late fees
    (``row`` null) of the period, in order, ranked per account."""
    late = frame.filter(pl.col("late_fee_fen") > 0).select(
        "idx",
        pl.lit(None, pl.UInt32).alias("row"),
        (pl.col("grace_end") + pl.duration(days=1)).alias("txn_date"),
        pl.lit(SEQ_LATE_FEE, pl.Int64).alias("seq"),
        pl.lit("late_fee").alias("kind"),
        pl.col("late_fee_fen").alias("amount_fen"),
    )
    events = pl.concat([txns.select(late.columns), late])
    return events.sort("idx", "txn_date", "seq").with_columns(
        pl.col("kind").replace_strict(KIND_COMPONENT, default=None).alias("component"),
        rank_in_sorted_groups(["idx"]).alias("rank"),
    )


def initial_state(frame: pl.DataFrame) -> dict[str, pl.Series]:
    zeros = pl.zeros(frame.height, pl.Int64, eager=True)
    state = {name: zeros.clone().rename(name) for name in STATE_COLUMNS}
    for component in COMPONENTS:
        state[f"old_{component}"] = (
            frame[f"balance_{component}_fen"].clone().rename(f"old_{component}")
        )
    state["overpaid"] = frame["overpaid_fen"].clone().rename("overpaid")
    return state


def apply_rank(
    events: pl.DataFrame, frame: pl.DataFrame, state: dict[str, pl.Series], terms: ProductTerms
) -> pl.DataFrame:
    """Apply each account's event of one rank, for all accounts that have one.

    Returns, per transaction ``row``, ``net_fen``: what the overpayment paid of a charge
    as it posted (the charge's item starts at amount - net_fen).
    """
    idx = events["idx"]
    gathered = events.with_columns(
        *(frame[name].gather(idx).alias(name) for name in EVENT_CONTEXT),
        *(series.gather(idx).alias(name) for name, series in state.items()),
    )
    updated = _step(gathered, terms)
    for name in STATE_COLUMNS:
        state[name].scatter(idx, updated[name])
    return updated.filter(pl.col("row").is_not_null()).select(
        "row", pl.col("net").cast(pl.Int64).alias("net_fen")
    )


def allocation_takes(order: tuple[str, ...], amount: pl.Expr) -> dict[str, pl.Expr]:
    """Per slot (old/new of each component, in ``order``), what the payment takes."""
    takes: dict[str, pl.Expr] = {}
    ahead: pl.Expr = pl.lit(0, pl.Int64)
    for component in order:
        for age in ("old", "new"):
            balance = pl.col(f"{age}_{component}")
            takes[f"{age}_{component}"] = pl.min_horizontal(clip0(amount - ahead), balance)
            ahead = ahead + balance
    return takes


def _step(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    paying = pl.col("kind").is_in(PAYMENT_KINDS)
    amount = pl.col("amount_fen")
    dpd = dpd_expr(pl.col("txn_date"), pl.col("paid_sum"), terms)
    delinquent = dpd >= terms.delinquent_from_dpd
    pay = pl.when(paying).then(amount).otherwise(0)
    current = allocation_takes(terms.allocation_order_current, pay)
    late = allocation_takes(terms.allocation_order_delinquent, pay)
    refund = allocation_takes(CREDIT_ORDER, pay)
    zero = pl.lit(0, pl.Int64)
    is_credit = pl.col("kind") == "credit"
    lazy = (
        frame.lazy()
        .with_columns(
            pl.when(is_credit)
            .then(refund.get(slot, zero))
            .when(delinquent)
            .then(late[slot])
            .otherwise(current[slot])
            .alias(f"take_{slot}")
            for slot in current
        )
        .with_columns(
            pl.when(paying)
            .then(0)
            .otherwise(pl.min_horizontal(amount, pl.col("overpaid")))
            .alias("net"),
            (days_expr(pl.col("txn_date"), pl.col("period_end"))).alias("days"),
        )
    )
    return lazy.with_columns(_updates(terms)).collect()


def _updates(terms: ProductTerms) -> list[pl.Expr]:
    paying = pl.col("kind").is_in(PAYMENT_KINDS)
    pay = pl.when(paying).then(pl.col("amount_fen")).otherwise(0)
    keep = pl.when(paying).then(0).otherwise(pl.col("amount_fen") - pl.col("net"))
    days = pl.col("days")
    taken = sum_exprs([pl.col(f"take_{age}_{c}") for c in COMPONENTS for age in ("old", "new")])

    def charged(component: str, value: pl.Expr) -> pl.Expr:
        return pl.when(pl.col("component") == component).then(value).otherwise(0)

    bearing = sorted(bearing_components(terms))
    old_paid = sum_exprs([pl.col(f"take_old_{c}") for c in bearing])
    on_time = (pl.col("txn_date") <= pl.col("grace_end")).fill_null(False)
    free = [PURCHASE] + ([] if terms.cash_from_transaction_date else [CASH])
    fd_new_free = sum_exprs(
        [charged(c, keep * days) - pl.col(f"take_new_{c}") * days for c in free]
    )
    fd_new_cash: pl.Expr = pl.lit(0, pl.Int64)
    if terms.cash_from_transaction_date:
        fd_new_cash = charged(CASH, keep * days) - pl.col(f"take_new_{CASH}") * days
    exprs = [
        *(pl.col(f"old_{c}") - pl.col(f"take_old_{c}") for c in COMPONENTS),
        *(
            (pl.col(f"new_{c}") - pl.col(f"take_new_{c}") + charged(c, keep)).alias(f"new_{c}")
            for c in COMPONENTS
        ),
        (pl.col("overpaid") - pl.col("net") + pay - taken).alias("overpaid"),
        (pl.col("paid_sum") + pay).alias("paid_sum"),
        (pl.col("fd_old_paid") + old_paid * days).alias("fd_old_paid"),
        (pl.col("fd_after_grace") + pl.when(on_time).then(0).otherwise(old_paid * days)).alias(
            "fd_after_grace"
        ),
        *(
            (
                pl.col(f"paid_by_grace_{c}")
                + pl.when(on_time).then(pl.col(f"take_old_{c}")).otherwise(0)
            ).alias(f"paid_by_grace_{c}")
            for c in BEARING_CANDIDATES
        ),
        (pl.col("fd_new_cash") + fd_new_cash).alias("fd_new_cash"),
        (pl.col("fd_new_free") + fd_new_free).alias("fd_new_free"),
        *(
            (pl.col(f"xpaid_{c}") + pl.col(f"take_new_{c}")).alias(f"xpaid_{c}")
            for c in LOT_COMPONENTS
        ),
    ]
    return exprs
