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
    interest_fen, fees_fen, cash_advances_fen, purchases_fen, instalments_fen Int64
    (component balances carried from the last statement);
    retro_fen_days Int64 (balance-days of the last statement's own purchases, from
    their posting dates to that statement: charged when it is not paid);
    unbilled_instalment_fen, instalment_principal_fen, instalment_fee_fen Int64
    (instalment principal not yet billed; the principal and fee billed on period_end).

``lots`` -- items billed on the last statement that waited for the interest-free
    period and are still unpaid: account_id Int64, component Utf8 (purchases, or
    cash_advances when cash does not accrue from the transaction date),
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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from cardbatch.domain.cycle.delinquency import FIVE_CATEGORIES
from cardbatch.domain.cycle.interest import bearing_components
from cardbatch.domain.cycle.statement import STATEMENT_FIELDS
from cardbatch.domain.product import (
    CASH,
    COMPONENTS,
    FEES,
    INSTALMENTS,
    INTEREST,
    OVER_LIMIT,
    PREVIOUS_UNPAID_MINIMUM,
    PURCHASES,
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
    **{f"{c}_fen": pl.Int64() for c in COMPONENTS},
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
    "purchase": PURCHASES,
    "cash_advance": CASH,
    "fee": FEES,
    "late_fee": FEES,
}
PAYMENT_KINDS: tuple[str, ...] = ("payment", "credit")
TXN_KINDS: tuple[str, ...] = ("purchase", "cash_advance", "fee", *PAYMENT_KINDS)
SEQ_LATE_FEE = -1
# Accumulators kept per account while events are applied.
_BEARING_CANDIDATES = (CASH, PURCHASES, INSTALMENTS, FEES)
_LOT_COMPONENTS = (PURCHASES, CASH)
STATE_COLUMNS: tuple[str, ...] = (
    *(f"old_{c}" for c in COMPONENTS),
    *(f"new_{c}" for c in COMPONENTS),
    "overpaid",
    "paid_sum",
    "fd_old_paid",
    "fd_after_grace",
    *(f"paid_by_grace_{c}" for c in _BEARING_CANDIDATES),
    "fd_new_cash",
    "fd_new_free",
    *(f"xpaid_{c}" for c in _LOT_COMPONENTS),
)
_EVENT_CONTEXT = (
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


@dataclass(frozen=True, slots=True)
class CycleResult:
    """The statements of a period and the state for the next one."""

    statements: pl.DataFrame
    accounts: pl.DataFrame
    lots: pl.DataFrame


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


def _days(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """Days from ``first`` to ``last``, both included."""
    return (last - first).dt.total_days() + 1


def _clip0(expr: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(expr, pl.lit(0, pl.Int64))


def _sum(exprs: list[pl.Expr]) -> pl.Expr:
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
        .then(_clip0((day - since).dt.total_days()))
        .when((day > pl.col("due_date")) & (paid < pl.col("minimum_fen")))
        .then((day - pl.col("due_date")).dt.total_days())
        .otherwise(0)
        .cast(pl.Int64)
    )


def bucket_expr(dpd: pl.Expr, terms: ProductTerms) -> pl.Expr:
    """``M0``..``M7`` from the product's bucket edges."""
    index = _sum([(dpd >= edge).cast(pl.Int64) for edge in terms.bucket_edges])
    return pl.lit("M") + index.cast(pl.Utf8)


def five_category_expr(dpd: pl.Expr, terms: ProductTerms) -> pl.Expr:
    """Five-category class name from the product's edges."""
    expr: pl.Expr = pl.lit(FIVE_CATEGORIES[0])
    for edge, name in zip(terms.five_category_edges, FIVE_CATEGORIES[1:], strict=True):
        expr = pl.when(dpd >= edge).then(pl.lit(name)).otherwise(expr)
    return expr


# -- input checks -------------------------------------------------------------------


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], name: str) -> pl.DataFrame:
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise KernelInputError(f"{name} frame lacks column(s): {', '.join(missing)}")
    return frame.select([pl.col(c).cast(t, strict=True) for c, t in schema.items()])


def _check_txns(txns: pl.DataFrame, accounts: pl.DataFrame) -> None:
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
    joined = txns.join(accounts, on="account_id", how="left")
    outside = joined.filter(
        pl.col("period_start").is_null()
        | (pl.col("txn_date") < pl.col("period_start"))
        | (pl.col("txn_date") > pl.col("period_end"))
    )
    if outside.height:
        row = outside.row(0, named=True)
        raise KernelInputError(
            f"txns: account {row['account_id']} txn_date {row['txn_date']} is outside its period"
        )


# -- the period kernel --------------------------------------------------------------


def run_period(
    accounts: pl.DataFrame, lots: pl.DataFrame, txns: pl.DataFrame, terms: ProductTerms
) -> CycleResult:
    """Compute one statement period for every account of the partition."""
    accounts = _conform(accounts, ACCOUNT_SCHEMA, "accounts").with_row_index("idx")
    lots = _conform(lots, LOT_SCHEMA, "lots")
    txns = _conform(txns, TXN_SCHEMA, "txns")
    _check_txns(txns, accounts)
    grace_end = pl.col("due_date") + pl.duration(days=terms.grace_days)
    frame = accounts.with_columns(grace_end.alias("grace_end"))
    frame = frame.join(_txn_sums(txns, frame), on="account_id", how="left").with_columns(
        pl.col(c).fill_null(0) for c in _TXN_SUM_COLUMNS
    )
    frame = frame.with_columns(_late_fee_expr(terms).alias("late_fee_fen"))
    events = _events(txns, frame)
    state = _initial_state(frame)
    by_rank = events.partition_by("rank", as_dict=True)
    for rank in sorted(by_rank):
        _apply_rank(by_rank[rank], frame, state, terms)
    frame = frame.with_columns(pl.Series(name, values) for name, values in state.items())
    frame = _bill_instalments(frame)
    frame = frame.join(_lots_fen_days(lots, frame, terms), on="idx", how="left")
    frame = frame.with_columns(
        pl.col(c).fill_null(0) for c in ("lots_fen_days", "lots_unpaid", "lots_total")
    )
    frame = _post_interest(frame, terms)
    frame = _close(frame, terms)
    return CycleResult(
        statements=_statements(frame, terms),
        accounts=_next_accounts(frame, terms),
        lots=_next_lots(txns, frame, terms),
    )


_TXN_SUM_COLUMNS = (
    "purchases_sum",
    "cash_sum",
    "fee_sum",
    "payments_sum",
    "credits_sum",
    "paid_by_grace",
)


def _txn_sums(txns: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    amount = pl.col("amount_fen")
    paying = pl.col("kind").is_in(PAYMENT_KINDS)

    def of(kind: str) -> pl.Expr:
        return amount.filter(pl.col("kind") == kind).sum()

    return (
        txns.join(frame.select("account_id", "grace_end"), on="account_id")
        .group_by("account_id")
        .agg(
            of("purchase").alias("purchases_sum"),
            of("cash_advance").alias("cash_sum"),
            of("fee").alias("fee_sum"),
            of("payment").alias("payments_sum"),
            of("credit").alias("credits_sum"),
            amount.filter(paying & (pl.col("txn_date") <= pl.col("grace_end")))
            .sum()
            .alias("paid_by_grace"),
        )
    )


def _late_fee_expr(terms: ProductTerms) -> pl.Expr:
    """Late fee from what was paid by due date + grace (see late_fee.late_fee)."""
    paid = pl.col("paid_by_grace")
    unpaid_minimum = _clip0(pl.col("minimum_fen") - paid)
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


def _events(txns: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Transactions and late fees of the period, in order, ranked per account."""
    late = frame.filter(pl.col("late_fee_fen") > 0).select(
        "account_id",
        (pl.col("grace_end") + pl.duration(days=1)).alias("txn_date"),
        pl.lit(SEQ_LATE_FEE, pl.Int64).alias("seq"),
        pl.lit("late_fee").alias("kind"),
        pl.col("late_fee_fen").alias("amount_fen"),
    )
    events = pl.concat([txns, late]).join(frame.select("account_id", "idx"), on="account_id")
    return events.sort("idx", "txn_date", "seq").with_columns(
        pl.col("kind").replace_strict(KIND_COMPONENT, default=None).alias("component"),
        pl.int_range(pl.len()).over("idx").alias("rank"),
    )


def _initial_state(frame: pl.DataFrame) -> dict[str, pl.Series]:
    zeros = pl.zeros(frame.height, pl.Int64, eager=True)
    state = {name: zeros.clone().rename(name) for name in STATE_COLUMNS}
    for component in COMPONENTS:
        state[f"old_{component}"] = frame[f"{component}_fen"].clone().rename(f"old_{component}")
    state["overpaid"] = frame["overpaid_fen"].clone().rename("overpaid")
    return state


def _apply_rank(
    events: pl.DataFrame, frame: pl.DataFrame, state: dict[str, pl.Series], terms: ProductTerms
) -> None:
    """Apply each account's event of one rank, for all accounts that have one."""
    idx = events["idx"]
    gathered = events.with_columns(
        *(frame[name].gather(idx).alias(name) for name in _EVENT_CONTEXT),
        *(series.gather(idx).alias(name) for name, series in state.items()),
    )
    updated = _step(gathered, terms)
    for name in STATE_COLUMNS:
        state[name].scatter(idx, updated[name])


def _allocation_takes(order: tuple[str, ...], amount: pl.Expr) -> dict[str, pl.Expr]:
    """Per slot (old/new of each component, in ``order``), what the payment takes."""
    takes: dict[str, pl.Expr] = {}
    ahead: pl.Expr = pl.lit(0, pl.Int64)
    for component in order:
        for age in ("old", "new"):
            balance = pl.col(f"{age}_{component}")
            takes[f"{age}_{component}"] = pl.min_horizontal(_clip0(amount - ahead), balance)
            ahead = ahead + balance
    return takes


def _step(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    paying = pl.col("kind").is_in(PAYMENT_KINDS)
    amount = pl.col("amount_fen")
    dpd = dpd_expr(pl.col("txn_date"), pl.col("paid_sum"), terms)
    delinquent = dpd >= terms.delinquent_from_dpd
    pay = pl.when(paying).then(amount).otherwise(0)
    current = _allocation_takes(terms.allocation_order_current, pay)
    late = _allocation_takes(terms.allocation_order_delinquent, pay)
    lazy = (
        frame.lazy()
        .with_columns(
            pl.when(delinquent).then(late[slot]).otherwise(current[slot]).alias(f"take_{slot}")
            for slot in current
        )
        .with_columns(
            pl.when(paying)
            .then(0)
            .otherwise(pl.min_horizontal(amount, pl.col("overpaid")))
            .alias("net"),
            (_days(pl.col("txn_date"), pl.col("period_end"))).alias("days"),
        )
    )
    return lazy.with_columns(_updates(terms)).collect()


def _updates(terms: ProductTerms) -> list[pl.Expr]:
    paying = pl.col("kind").is_in(PAYMENT_KINDS)
    pay = pl.when(paying).then(pl.col("amount_fen")).otherwise(0)
    keep = pl.when(paying).then(0).otherwise(pl.col("amount_fen") - pl.col("net"))
    days = pl.col("days")
    taken = _sum([pl.col(f"take_{age}_{c}") for c in COMPONENTS for age in ("old", "new")])

    def charged(component: str, value: pl.Expr) -> pl.Expr:
        return pl.when(pl.col("component") == component).then(value).otherwise(0)

    bearing = sorted(bearing_components(terms))
    old_paid = _sum([pl.col(f"take_old_{c}") for c in bearing])
    on_time = (pl.col("txn_date") <= pl.col("grace_end")).fill_null(False)
    free = [PURCHASES] + ([] if terms.cash_from_transaction_date else [CASH])
    fd_new_free = _sum([charged(c, keep * days) - pl.col(f"take_new_{c}") * days for c in free])
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
            for c in _BEARING_CANDIDATES
        ),
        (pl.col("fd_new_cash") + fd_new_cash).alias("fd_new_cash"),
        (pl.col("fd_new_free") + fd_new_free).alias("fd_new_free"),
        *(
            (pl.col(f"xpaid_{c}") + pl.col(f"take_new_{c}") + charged(c, pl.col("net"))).alias(
                f"xpaid_{c}"
            )
            for c in _LOT_COMPONENTS
        ),
    ]
    return exprs


# -- after the events: instalments, interest, close ---------------------------------


def _net_charge(frame: pl.DataFrame, amount: str, component: str) -> pl.DataFrame:
    """Post a charge dated period_end to ``new_<component>``, netting any overpayment first."""
    net = pl.min_horizontal(pl.col(amount), pl.col("overpaid"))
    return frame.with_columns(
        (pl.col("overpaid") - net).alias("overpaid"),
        (pl.col(f"new_{component}") + pl.col(amount) - net).alias(f"new_{component}"),
    )


def _bill_instalments(frame: pl.DataFrame) -> pl.DataFrame:
    frame = _net_charge(frame, "instalment_principal_fen", INSTALMENTS)
    return _net_charge(frame, "instalment_fee_fen", FEES)


def _lots_fen_days(lots: pl.DataFrame, frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    """Mode B: balance-days, to period_end, of what stays unpaid of each lot after grace.

    Payments up to due date + grace pay a component's revolving (older) balance
    first, then its lots oldest first.
    """
    lot_sums = lots.group_by("account_id", "component").agg(
        pl.col("remaining_fen").sum().alias("lots_sum")
    )
    paid = frame.select(
        "idx",
        "account_id",
        "period_end",
        *(
            pl.struct(carried=pl.col(f"{c}_fen"), paid=pl.col(f"paid_by_grace_{c}")).alias(c)
            for c in _LOT_COMPONENTS
        ),
    ).unpivot(index=["idx", "account_id", "period_end"], variable_name="component")
    paid = (
        paid.join(lot_sums, on=["account_id", "component"], how="left")
        .with_columns(pl.col("lots_sum").fill_null(0))
        .with_columns(
            _clip0(
                pl.col("value").struct.field("paid")
                - (pl.col("value").struct.field("carried") - pl.col("lots_sum"))
            ).alias("lots_paid")
        )
    )
    fifo = (
        lots.join(
            paid.select("account_id", "component", "idx", "period_end", "lots_paid"),
            on=["account_id", "component"],
        )
        .sort("idx", "component", "post_date", "seq")
        .with_columns(
            (
                pl.col("remaining_fen").cum_sum().over("idx", "component") - pl.col("remaining_fen")
            ).alias("ahead")
        )
        .with_columns(
            (
                pl.col("remaining_fen")
                - pl.min_horizontal(_clip0(pl.col("lots_paid") - pl.col("ahead")), "remaining_fen")
            ).alias("unpaid")
        )
    )
    return (
        fifo.group_by("idx")
        .agg(
            (pl.col("unpaid") * _days(pl.col("post_date"), pl.col("period_end")))
            .sum()
            .alias("lots_fen_days"),
            pl.col("unpaid").sum().alias("lots_unpaid"),
            pl.col("remaining_fen").sum().alias("lots_total"),
        )
        .with_columns(pl.col("idx").cast(pl.UInt32))
    )


def _carried_fen_days(terms: ProductTerms) -> pl.Expr:
    """Balance-days of the last statement's balance in this period (if it bears interest)."""
    bearing = sorted(bearing_components(terms))
    period_days = _days(pl.col("period_start"), pl.col("period_end"))
    carried = _sum([pl.col(f"{c}_fen") for c in bearing])
    if terms.interest_mode == "full_balance":
        return pl.col("retro_fen_days") + carried * period_days - pl.col("fd_old_paid")
    # unpaid_only: what stays unpaid after grace, from the posting date (lots) or from
    # period_start (older balances), less payments after grace from their date on
    paid_by_grace = _sum([pl.col(f"paid_by_grace_{c}") for c in bearing])
    lots_paid_by_grace = pl.col("lots_total") - pl.col("lots_unpaid")
    older_unpaid = carried - pl.col("lots_total") - (paid_by_grace - lots_paid_by_grace)
    return older_unpaid * period_days + pl.col("lots_fen_days") - pl.col("fd_after_grace")


def _post_interest(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    applies = pl.col("due_date").is_not_null() & (
        pl.col("statement_balance_fen") - pl.col("paid_by_grace") > terms.waiver_threshold_fen
    )
    fen_days = pl.col("fd_new_cash") + pl.when(applies).then(_carried_fen_days(terms)).otherwise(0)
    numerator, denominator = fraction(terms.daily_rate)
    frame = frame.with_columns(fen_days.alias("interest_fen_days")).with_columns(
        times_fraction_half_up(pl.col("interest_fen_days"), numerator, denominator).alias(
            "interest_fen"
        )
    )
    return _net_charge(frame, "interest_fen", INTEREST)


def _minimum_expr(terms: ProductTerms) -> pl.Expr:
    """Minimum payment (see minimum.minimum_payment), from the closing component balances."""
    full = set(terms.min_payment_full_components)
    general = _sum([pl.col(f"bal_{c}") for c in COMPONENTS if c not in full])
    full_parts = [pl.col(f"bal_{c}") for c in COMPONENTS if c in full]
    if PREVIOUS_UNPAID_MINIMUM in full:
        full_parts.append(pl.col("previous_unpaid_minimum"))
    if OVER_LIMIT in full:
        over = pl.min_horizontal(
            _clip0(pl.col("closing_balance_fen") - pl.col("credit_limit_fen")), general
        )
        full_parts.append(over)
        general = general - over
    numerator, denominator = fraction(terms.min_payment_percent, 100)
    computed = _sum(full_parts) + times_fraction_half_up(general, numerator, denominator)
    floored = pl.max_horizontal(computed, pl.lit(terms.min_payment_floor_fen, pl.Int64))
    return _clip0(pl.min_horizontal(floored, pl.col("closing_balance_fen")))


def _close(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    """Closing balances, statement lines and their identity, minimum, DPD and arrears."""
    paid_total = pl.col("payments_sum") + pl.col("credits_sum")
    frame = frame.with_columns(
        *((pl.col(f"old_{c}") + pl.col(f"new_{c}")).alias(f"bal_{c}") for c in COMPONENTS),
        pl.col("statement_balance_fen").alias("opening_balance_fen"),
        paid_total.alias("paid_total"),
        pl.when(pl.col("due_date").is_null())
        .then(0)
        .otherwise(_clip0(pl.col("minimum_fen") - paid_total))
        .alias("previous_unpaid_minimum"),
    ).with_columns(
        (_sum([pl.col(f"bal_{c}") for c in COMPONENTS]) - pl.col("overpaid")).alias(
            "closing_balance_fen"
        ),
        (
            pl.col("opening_balance_fen")
            + pl.col("purchases_sum")
            + pl.col("cash_sum")
            + pl.col("instalment_principal_fen")
            + pl.col("interest_fen")
            + pl.col("fee_sum")
            + pl.col("instalment_fee_fen")
            + pl.col("late_fee_fen")
            - pl.col("payments_sum")
            - pl.col("credits_sum")
        ).alias("closing_from_lines"),
    )
    broken = frame.filter(pl.col("closing_balance_fen") != pl.col("closing_from_lines"))
    if broken.height:
        raise AssertionError(f"statement identity broken for account {broken['account_id'][0]}")
    dpd = dpd_expr(pl.col("period_end"), pl.col("paid_total"), terms)
    since = pl.col("arrears_since")
    old_unpaid = since.is_not_null() & (pl.col("paid_total") < pl.col("arrears_fen"))
    frame = frame.with_columns(_minimum_expr(terms).alias("minimum_payment_fen"), dpd.alias("dpd"))
    return frame.with_columns(
        pl.when(pl.col("dpd") > 0)
        .then(pl.when(old_unpaid).then(since).otherwise(pl.col("due_date")))
        .otherwise(None)
        .alias("next_arrears_since"),
        pl.when(pl.col("dpd") > 0)
        .then(_clip0(pl.col("minimum_fen") - pl.col("paid_total")))
        .otherwise(0)
        .alias("next_arrears_fen"),
        (pl.col("period_end") + pl.duration(days=terms.due_days)).alias("next_due_date"),
        (pl.col("unbilled_instalment_fen") - pl.col("instalment_principal_fen")).alias(
            "next_unbilled_instalment_fen"
        ),
    )


def _statements(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    named = {
        "statement_date": pl.col("period_end"),
        "due_date": pl.col("next_due_date"),
        "purchases_fen": pl.col("purchases_sum"),
        "cash_fen": pl.col("cash_sum"),
        "instalment_fen": pl.col("instalment_principal_fen"),
        "payments_fen": pl.col("payments_sum"),
        "credits_fen": pl.col("credits_sum"),
        "fees_fen": pl.col("fee_sum") + pl.col("instalment_fee_fen"),
        "unbilled_instalment_fen": pl.col("next_unbilled_instalment_fen"),
    }
    return frame.sort("idx").select(
        *(named[name].alias(name) if name in named else pl.col(name) for name in STATEMENT_FIELDS),
        "interest_fen_days",
        "dpd",
        bucket_expr(pl.col("dpd"), terms).alias("bucket"),
        five_category_expr(pl.col("dpd"), terms).alias("five_category"),
    )


def next_statement_date_expr(after: pl.Expr, statement_day: pl.Expr) -> pl.Expr:
    """The statement date in the month after ``after`` for ``statement_day`` (month-end clamp)."""
    first = pl.date(after.dt.year(), after.dt.month(), 1).dt.offset_by("1mo")
    last_day = first.dt.month_end().dt.day().cast(pl.Int64)
    return pl.date(first.dt.year(), first.dt.month(), pl.min_horizontal(statement_day, last_day))


def _next_accounts(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    named = {
        "period_start": pl.col("period_end") + pl.duration(days=1),
        "period_end": next_statement_date_expr(pl.col("period_end"), pl.col("statement_day")),
        "due_date": pl.col("next_due_date"),
        "statement_balance_fen": pl.col("closing_balance_fen"),
        "minimum_fen": pl.col("minimum_payment_fen"),
        "arrears_fen": pl.col("next_arrears_fen"),
        "arrears_since": pl.col("next_arrears_since"),
        "overpaid_fen": pl.col("overpaid"),
        **{f"{c}_fen": pl.col(f"bal_{c}") for c in COMPONENTS},
        "retro_fen_days": pl.col("fd_new_free"),
        "unbilled_instalment_fen": pl.col("next_unbilled_instalment_fen"),
        "instalment_principal_fen": pl.lit(0, pl.Int64),
        "instalment_fee_fen": pl.lit(0, pl.Int64),
    }
    del terms
    return frame.sort("idx").select(
        (named[name] if name in named else pl.col(name)).cast(dtype).alias(name)
        for name, dtype in ACCOUNT_SCHEMA.items()
    )


def _next_lots(txns: pl.DataFrame, frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    """This period's interest-free items, less what was paid of them (oldest first)."""
    kinds = ["purchase"] + ([] if terms.cash_from_transaction_date else ["cash_advance"])
    paid = frame.select(
        "account_id",
        pl.col(f"xpaid_{PURCHASES}").alias(PURCHASES),
        pl.col(f"xpaid_{CASH}").alias(CASH),
    ).unpivot(index="account_id", variable_name="component", value_name="paid_new")
    return (
        txns.filter(pl.col("kind").is_in(kinds))
        .with_columns(pl.col("kind").replace_strict(KIND_COMPONENT).alias("component"))
        .join(paid, on=["account_id", "component"])
        .sort("account_id", "component", "txn_date", "seq")
        .with_columns(
            (
                pl.col("amount_fen").cum_sum().over("account_id", "component")
                - pl.col("amount_fen")
            ).alias("ahead")
        )
        .select(
            "account_id",
            "component",
            pl.col("txn_date").alias("post_date"),
            "seq",
            (
                pl.col("amount_fen")
                - pl.min_horizontal(_clip0(pl.col("paid_new") - pl.col("ahead")), "amount_fen")
            ).alias("remaining_fen"),
        )
        .filter(pl.col("remaining_fen") > 0)
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
    full_due = _clip0(pl.col("statement_balance_fen") - pl.col("paid_fen"))
    minimum_due = pl.min_horizontal(_clip0(pl.col("minimum_fen") - pl.col("paid_fen")), full_due)
    wants_full = pl.col("autopay_choice") == "full"
    target = pl.when(wants_full).then(full_due).otherwise(minimum_due)
    funds = _clip0(pl.col("available_fen"))
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
