"""After the events: instalments billed, interest, closing balances, minimum, next state."""

from __future__ import annotations

import polars as pl

from cardbatch.domain.cycle.interest import bearing_components
from cardbatch.domain.cycle.statement import STATEMENT_FIELDS
from cardbatch.domain.product import (
    CASH,
    COMPONENTS,
    FEE,
    INSTALMENT,
    INTEREST,
    OVER_LIMIT,
    PREVIOUS_UNPAID_MINIMUM,
    PURCHASE,
    ProductTerms,
)
from cardbatch.jobs.cycle_schema import (
    ACCOUNT_SCHEMA,
    KIND_COMPONENT,
    LOT_COMPONENTS,
    bucket_expr,
    clip0,
    days_expr,
    dpd_expr,
    five_category_expr,
    fraction,
    sum_before_in_sorted_groups,
    sum_exprs,
    times_fraction_half_up,
)

# -- after the events: instalments, interest, close ---------------------------------


def _net_charge(frame: pl.DataFrame, amount: str, component: str) -> pl.DataFrame:
    """Post a charge dated period_end to ``new_<component>``, netting any overpayment first."""
    net = pl.min_horizontal(pl.col(amount), pl.col("overpaid"))
    return frame.with_columns(
        (pl.col("overpaid") - net).alias("overpaid"),
        (pl.col(f"new_{component}") + pl.col(amount) - net).alias(f"new_{component}"),
    )


def bill_instalments(frame: pl.DataFrame) -> pl.DataFrame:
    frame = _net_charge(frame, "instalment_principal_fen", INSTALMENT)
    return _net_charge(frame, "instalment_fee_fen", FEE)


def lots_fen_days(lots: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Mode B: balance-days, to period_end, of what stays unpaid of each lot after grace.

    Payments up to due date + grace pay a component's revolving (older) balance
    first, then its lots oldest first.
    """
    wide = frame.select(
        "idx",
        "account_id",
        "period_end",
        *(pl.col(f"balance_{c}_fen").alias(f"carried_{c}") for c in LOT_COMPONENTS),
        *(pl.col(f"paid_by_grace_{c}").alias(f"paid_{c}") for c in LOT_COMPONENTS),
    )

    def of(prefix: str) -> pl.Expr:
        return (
            pl.when(pl.col("component") == PURCHASE)
            .then(pl.col(f"{prefix}_{PURCHASE}"))
            .otherwise(pl.col(f"{prefix}_{CASH}"))
        )

    fifo = (
        lots.join(wide, on="account_id")
        .sort("idx", "component", "post_date", "seq")
        .with_columns(
            sum_before_in_sorted_groups("remaining_fen", ["idx", "component"]).alias("ahead"),
            pl.col("remaining_fen").sum().over("idx", "component").alias("lots_sum"),
        )
        .with_columns(
            # what the payments up to grace left for the lots after the older balance
            clip0(of("paid") - (of("carried") - pl.col("lots_sum"))).alias("lots_paid")
        )
        .with_columns(
            (
                pl.col("remaining_fen")
                - pl.min_horizontal(clip0(pl.col("lots_paid") - pl.col("ahead")), "remaining_fen")
            ).alias("unpaid")
        )
    )
    return fifo.group_by("idx").agg(
        (pl.col("unpaid") * days_expr(pl.col("post_date"), pl.col("period_end")))
        .sum()
        .alias("lots_fen_days"),
        pl.col("unpaid").sum().alias("lots_unpaid"),
        pl.col("remaining_fen").sum().alias("lots_total"),
    )


def _carried_fen_days(terms: ProductTerms) -> pl.Expr:
    """Balance-days of the last statement's balance in this period (if it bears interest)."""
    bearing = sorted(bearing_components(terms))
    period_days = days_expr(pl.col("period_start"), pl.col("period_end"))
    carried = sum_exprs([pl.col(f"balance_{c}_fen") for c in bearing])
    if terms.interest_mode == "full_balance":
        return pl.col("retro_fen_days") + carried * period_days - pl.col("fd_old_paid")
    # unpaid_only: what stays unpaid after grace, from the posting date (lots) or from
    # period_start (older balances), less payments after grace from their date on
    paid_by_grace = sum_exprs([pl.col(f"paid_by_grace_{c}") for c in bearing])
    lots_paid_by_grace = pl.col("lots_total") - pl.col("lots_unpaid")
    older_unpaid = carried - pl.col("lots_total") - (paid_by_grace - lots_paid_by_grace)
    return older_unpaid * period_days + pl.col("lots_fen_days") - pl.col("fd_after_grace")


def post_interest(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
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
    general = sum_exprs([pl.col(f"bal_{c}") for c in COMPONENTS if c not in full])
    full_parts = [pl.col(f"bal_{c}") for c in COMPONENTS if c in full]
    if PREVIOUS_UNPAID_MINIMUM in full:
        full_parts.append(pl.col("previous_unpaid_minimum"))
    if OVER_LIMIT in full:
        over = pl.min_horizontal(
            clip0(pl.col("closing_balance_fen") - pl.col("credit_limit_fen")), general
        )
        full_parts.append(over)
        general = general - over
    numerator, denominator = fraction(terms.min_payment_percent, 100)
    computed = sum_exprs(full_parts) + times_fraction_half_up(general, numerator, denominator)
    floored = pl.max_horizontal(computed, pl.lit(terms.min_payment_floor_fen, pl.Int64))
    return clip0(pl.min_horizontal(floored, pl.col("closing_balance_fen")))


def close_period(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    """Closing balances, statement lines and their identity, minimum, DPD and arrears."""
    paid_total = pl.col("payments_sum") + pl.col("credits_sum")
    frame = frame.with_columns(
        *((pl.col(f"old_{c}") + pl.col(f"new_{c}")).alias(f"bal_{c}") for c in COMPONENTS),
        pl.col("statement_balance_fen").alias("opening_balance_fen"),
        paid_total.alias("paid_total"),
        pl.when(pl.col("due_date").is_null())
        .then(0)
        .otherwise(clip0(pl.col("minimum_fen") - paid_total))
        .alias("previous_unpaid_minimum"),
    ).with_columns(
        (sum_exprs([pl.col(f"bal_{c}") for c in COMPONENTS]) - pl.col("overpaid")).alias(
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
        .then(clip0(pl.col("minimum_fen") - pl.col("paid_total")))
        .otherwise(0)
        .alias("next_arrears_fen"),
        (pl.col("period_end") + pl.duration(days=terms.due_days)).alias("next_due_date"),
        (pl.col("unbilled_instalment_fen") - pl.col("instalment_principal_fen")).alias(
            "next_unbilled_instalment_fen"
        ),
    )


def statement_frame(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
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


def next_accounts(frame: pl.DataFrame, terms: ProductTerms) -> pl.DataFrame:
    named = {
        "period_start": pl.col("period_end") + pl.duration(days=1),
        "period_end": next_statement_date_expr(pl.col("period_end"), pl.col("statement_day")),
        "due_date": pl.col("next_due_date"),
        "statement_balance_fen": pl.col("closing_balance_fen"),
        "minimum_fen": pl.col("minimum_payment_fen"),
        "arrears_fen": pl.col("next_arrears_fen"),
        "arrears_since": pl.col("next_arrears_since"),
        "overpaid_fen": pl.col("overpaid"),
        **{f"balance_{c}_fen": pl.col(f"bal_{c}") for c in COMPONENTS},
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


def next_lots(
    txns: pl.DataFrame, net_by_row: pl.DataFrame, frame: pl.DataFrame, terms: ProductTerms
) -> pl.DataFrame:
    """This period's interest-free items, less what was paid of them.

    ``txns`` carries its ``row``; ``net_by_row`` says what an overpayment paid of a
    charge as it posted, so the item starts at amount - net. Payments then pay the
    items oldest first (``xpaid_<component>``: what payments took from this period's
    items). An overpayment pays the charge it meets, not the oldest item: after a
    credit (which lowers purchases only) an overpayment can stand beside unpaid cash.
    """
    kinds = ["purchase"] + ([] if terms.cash_from_transaction_date else ["cash_advance"])
    paid = frame.select("account_id", *(f"xpaid_{c}" for c in LOT_COMPONENTS))
    paid_new = (
        pl.when(pl.col("component") == PURCHASE)
        .then(pl.col(f"xpaid_{PURCHASE}"))
        .otherwise(pl.col(f"xpaid_{CASH}"))
    )
    return (
        txns.filter(pl.col("kind").is_in(kinds))
        .join(net_by_row, on="row", how="left")
        .with_columns(
            pl.col("kind").replace_strict(KIND_COMPONENT).alias("component"),
            (pl.col("amount_fen") - pl.col("net_fen").fill_null(0)).alias("kept_fen"),
        )
        .sort("account_id", "component", "txn_date", "seq")
        .join(paid, on="account_id", maintain_order="left")
        .with_columns(
            sum_before_in_sorted_groups("kept_fen", ["account_id", "component"]).alias("ahead")
        )
        .select(
            "account_id",
            "component",
            pl.col("txn_date").alias("post_date"),
            "seq",
            (
                pl.col("kept_fen")
                - pl.min_horizontal(clip0(paid_new - pl.col("ahead")), "kept_fen")
            ).alias("remaining_fen"),
        )
        .filter(pl.col("remaining_fen") > 0)
    )
