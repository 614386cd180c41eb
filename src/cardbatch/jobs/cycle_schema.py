"""Frame schemas, exact integer arithmetic and shared expressions of the cycle kernels.

See :mod:`cardbatch.jobs.cycle_kernels` for what the frames hold.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from cardbatch.domain.cycle.delinquency import FIVE_CATEGORIES
from cardbatch.domain.product import (
    CASH,
    COMPONENTS,
    FEE,
    INSTALMENT,
    LATE_FEE,
    PURCHASE,
    ProductTerms,
)

ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "statement_day": pl.Int64(),
    "credit_limit_fen": pl.Int64(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "due_date": pl.Date(),
    "statement_balance_fen": pl.Int64(),
    "minimum_fen": pl.Int64(),
    "arrears_fen": pl.Int64(),
    "arrears_since": pl.Date(),
    "overpaid_fen": pl.Int64(),
    **{f"balance_{c}_fen": pl.Int64() for c in COMPONENTS},
    "retro_fen_days": pl.Int64(),
    "unbilled_instalment_fen": pl.Int64(),
    "instalment_principal_fen": pl.Int64(),
    "instalment_fee_fen": pl.Int64(),
}
LOT_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "component": pl.Utf8(),
    "post_date": pl.Date(),
    "seq": pl.Int64(),
    "remaining_fen": pl.Int64(),
}
TXN_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "txn_date": pl.Date(),
    "seq": pl.Int64(),
    "kind": pl.Utf8(),
    "amount_fen": pl.Int64(),
}
KIND_COMPONENT: dict[str, str] = {
    "purchase": PURCHASE,
    "cash_advance": CASH,
    "fee": FEE,
    "late_fee": LATE_FEE,
}
PAYMENT_KINDS: tuple[str, ...] = ("payment", "credit")
TXN_KINDS: tuple[str, ...] = ("purchase", "cash_advance", "fee", *PAYMENT_KINDS)
SEQ_LATE_FEE = -1
# Accumulators kept per account while events are applied.
BEARING_CANDIDATES = (CASH, PURCHASE, INSTALMENT, FEE, LATE_FEE)
LOT_COMPONENTS = (PURCHASE, CASH)
STATE_COLUMNS: tuple[str, ...] = (
    *(f"old_{c}" for c in COMPONENTS),
    *(f"new_{c}" for c in COMPONENTS),
    "overpaid",
    "paid_sum",
    "fd_old_paid",
    "fd_after_grace",
    *(f"paid_by_grace_{c}" for c in BEARING_CANDIDATES),
    "fd_new_cash",
    "fd_new_free",
    *(f"xpaid_{c}" for c in LOT_COMPONENTS),
)
EVENT_CONTEXT = (
    "period_end",
    "due_date",
    "grace_end",
    "statement_balance_fen",
    "minimum_fen",
    "arrears_fen",
    "arrears_since",
)


class KernelInputError(ValueError):
    """A frame that does not have the documented schema or values."""


# -- exact arithmetic ---------------------------------------------------------------


def fraction(value: Decimal, scale: int = 1) -> tuple[int, int]:
    """``value / scale`` as an exact integer fraction (numerator, denominator)."""
    sign, digits, exponent = value.normalize().as_tuple()
    if sign or not isinstance(exponent, int):
        raise KernelInputError(f"rate must be a finite non-negative decimal: {value}")
    numerator = int("".join(map(str, digits)) or "0")
    if exponent >= 0:
        return numerator * 10**exponent, scale
    return numerator, scale * 10**-exponent


def times_fraction_half_up(amount: pl.Expr, numerator: int, denominator: int) -> pl.Expr:
    """``amount x numerator / denominator`` (amount >= 0), rounded half-up, as Int64."""
    product = amount.cast(pl.Int128) * numerator
    return ((product * 2 + denominator) // (denominator * 2)).cast(pl.Int64)


def days_expr(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """Days from ``first`` to ``last``, both included."""
    return (last - first).dt.total_days() + 1


def clip0(expr: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(expr, pl.lit(0, pl.Int64))


def sum_exprs(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.sum_horizontal(exprs) if exprs else pl.lit(0, pl.Int64)


# -- delinquency --------------------------------------------------------------------


def dpd_expr(day: pl.Expr, paid: pl.Expr, terms: ProductTerms) -> pl.Expr:
    """DPD on ``day`` with ``paid`` received since the last statement (see delinquency.dpd_on)."""
    unpaid = pl.col("statement_balance_fen") - paid
    since = pl.col("arrears_since")
    return (
        pl.when(pl.col("due_date").is_null() | (unpaid <= terms.waiver_threshold_fen))
        .then(0)
        .when(since.is_not_null() & (paid < pl.col("arrears_fen")))
        .then(clip0((day - since).dt.total_days()))
        .when((day > pl.col("due_date")) & (paid < pl.col("minimum_fen")))
        .then((day - pl.col("due_date")).dt.total_days())
        .otherwise(0)
        .cast(pl.Int64)
    )


def bucket_expr(dpd: pl.Expr, terms: ProductTerms) -> pl.Expr:
    """``M0``..``M7`` from the product's bucket edges."""
    index = sum_exprs([(dpd >= edge).cast(pl.Int64) for edge in terms.bucket_edges])
    return pl.lit("M") + index.cast(pl.Utf8)


def five_category_expr(dpd: pl.Expr, terms: ProductTerms) -> pl.Expr:
    """Five-category class name from the product's edges."""
    expr: pl.Expr = pl.lit(FIVE_CATEGORIES[0])
    for edge, name in zip(terms.five_category_edges, FIVE_CATEGORIES[1:], strict=True):
        expr = pl.when(dpd >= edge).then(pl.lit(name)).otherwise(expr)
    return expr


def _group_starts(keys: list[str]) -> pl.Expr:
    """True on the first row of each run of equal ``keys`` (the frame is sorted by them)."""
    changed = [pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys]
    return pl.any_horizontal(changed)


def rank_in_sorted_groups(keys: list[str]) -> pl.Expr:
    """0, 1, 2, ... within each group of a frame sorted by ``keys`` (a scan, no window)."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    start = pl.when(_group_starts(keys)).then(row).otherwise(None).forward_fill()
    return row - start


def sum_before_in_sorted_groups(amount: str, keys: list[str]) -> pl.Expr:
    """Sum of ``amount`` over the earlier rows of the same group (frame sorted by ``keys``)."""
    total_before = pl.col(amount).cum_sum() - pl.col(amount)
    start = pl.when(_group_starts(keys)).then(total_before).otherwise(None).forward_fill()
    return total_before - start
