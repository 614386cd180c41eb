"""Benchmark: the columnar cycle kernels against the per-account reference.

    python -m bench.cycle_kernels --accounts 1000000 --reference-sample 2000

Builds a synthetic portfolio (statement days 1..28, purchases, cash advances,
fees and refunds in a first period; payments of every kind -- full, minimum,
partial, none, late -- and new spending in a second), runs both periods through
:func:`cardbatch.jobs.cycle_kernels.run_period`, and runs the same transactions
of the first ``--reference-sample`` accounts through the plain-Python reference
(tests/reference) to compare speed and check that the fen agree. Prints JSON.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

import polars as pl
from tests.reference.cycle_reference import RefAccount, Txn, run_period

from bench.common import emit, peak_rss_mb
from cardbatch.domain.product import ProductTerms, cmb_like
from cardbatch.jobs import cycle_kernels

FIRST_END_MONTH = (2024, 3)
TXNS_PER_ACCOUNT_MAX = 8
KINDS = ("purchase", "purchase", "purchase", "cash_advance", "fee", "credit")


def _random(expr: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    return (expr.hash(seed) % modulo).cast(pl.Int64)


def new_accounts(accounts_n: int) -> pl.DataFrame:
    index = pl.int_range(accounts_n, dtype=pl.Int64)
    day = 1 + _random(index, 1, 28)
    end = pl.date(FIRST_END_MONTH[0], FIRST_END_MONTH[1], day)
    zero = pl.lit(0, pl.Int64)
    columns: dict[str, pl.Expr] = {name: zero for name in cycle_kernels.ACCOUNT_SCHEMA}
    columns.update(
        account_id=index,
        statement_day=day,
        credit_limit_fen=pl.lit(5_000_000, pl.Int64),
        period_start=end.dt.offset_by("-1mo") + pl.duration(days=1),
        period_end=end,
        due_date=pl.lit(None, pl.Date),
        arrears_since=pl.lit(None, pl.Date),
    )
    frame = pl.select(*(expr.alias(name) for name, expr in columns.items()))
    return frame.cast(cycle_kernels.ACCOUNT_SCHEMA)  # type: ignore[arg-type]


def spending(accounts: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Up to TXNS_PER_ACCOUNT_MAX charges and refunds per account, inside its period."""
    slots = accounts.select("account_id", "period_start", "period_end").join(
        pl.DataFrame({"slot": list(range(TXNS_PER_ACCOUNT_MAX))}), how="cross"
    )
    span = (pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1
    key = pl.col("account_id") * TXNS_PER_ACCOUNT_MAX + pl.col("slot")
    kinds = pl.Series(KINDS)
    day_offset = (key.hash(seed + 2) % span.cast(pl.UInt64)).cast(pl.Int64)
    return (
        slots.filter(pl.col("slot") < _random(pl.col("account_id"), seed, TXNS_PER_ACCOUNT_MAX))
        .select(
            "account_id",
            (pl.col("period_start") + pl.duration(days=day_offset)).alias("txn_date"),
            pl.col("slot").cast(pl.Int64).alias("seq"),
            pl.lit(kinds).gather(_random(key, seed + 3, len(KINDS))).alias("kind"),
            (1 + _random(key, seed + 4, 300_000)).alias("amount_fen"),
        )
    )  # fmt: skip


def payments(accounts: pl.DataFrame, statements: pl.DataFrame, seed: int) -> pl.DataFrame:
    """One payment per account (or none): full, minimum, partial, late, or nothing."""
    choice = _random(pl.col("account_id"), seed, 6)
    offset = _random(pl.col("account_id"), seed + 1, 8) - 2
    balance = pl.col("closing_balance_fen").clip(lower_bound=0)
    amount = (
        pl.when(choice <= 1).then(balance)
        .when(choice == 2).then(pl.col("minimum_payment_fen"))
        .when(choice == 3).then(balance // 3)
        .when(choice == 4).then(pl.col("minimum_payment_fen"))
        .otherwise(0)
    )  # fmt: skip
    day = pl.col("due_date") + pl.duration(days=pl.when(choice == 4).then(10).otherwise(offset))
    return (
        statements.join(accounts.select("account_id", "period_start", "period_end"), "account_id")
        .select(
            "account_id",
            pl.max_horizontal(pl.col("period_start"), pl.min_horizontal(day, "period_end")).alias(
                "txn_date"
            ),
            pl.lit(100, pl.Int64).alias("seq"),
            pl.lit("payment").alias("kind"),
            amount.cast(pl.Int64).alias("amount_fen"),
        )
        .filter(pl.col("amount_fen") > 0)
    )


def run_kernels(accounts_n: int, terms: ProductTerms) -> dict[str, Any]:
    accounts = new_accounts(accounts_n)
    lots = pl.DataFrame(schema=cycle_kernels.LOT_SCHEMA)
    first_txns = spending(accounts, seed=10)
    start, cpu = time.perf_counter(), time.process_time()
    first = cycle_kernels.run_period(accounts, lots, first_txns, terms)
    first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    second_txns = pl.concat(
        [payments(first.accounts, first.statements, seed=20), spending(first.accounts, seed=30)]
    )
    start, cpu = time.perf_counter(), time.process_time()
    second = cycle_kernels.run_period(first.accounts, first.lots, second_txns, terms)
    second_s, second_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "accounts": accounts_n,
        "txns": [first_txns.height, second_txns.height],
        "seconds": [round(first_s, 3), round(second_s, 3)],
        "cpu_seconds": [round(first_cpu, 3), round(second_cpu, 3)],
        "accounts_per_second": [round(accounts_n / first_s), round(accounts_n / second_s)],
        "frames": (accounts, first_txns, second_txns, first, second),
    }


def _txn_lists(txns: pl.DataFrame, ids: set[int]) -> dict[int, list[Txn]]:
    out: dict[int, list[Txn]] = {i: [] for i in ids}
    for row in txns.filter(pl.col("account_id").is_in(list(ids))).iter_rows(named=True):
        out[row["account_id"]].append(
            Txn(row["txn_date"], row["seq"], row["kind"], row["amount_fen"])
        )
    return out


def run_reference(frames: tuple[Any, ...], sample_n: int, terms: ProductTerms) -> dict[str, Any]:
    accounts, first_txns, second_txns, first, second = frames
    sample = accounts.head(sample_n)
    ids = set(sample["account_id"].to_list())
    periods = [_txn_lists(first_txns, ids), _txn_lists(second_txns, ids)]
    refs = {
        row["account_id"]: RefAccount(
            row["account_id"], row["statement_day"], row["credit_limit_fen"], terms,
            opened=row["period_start"],
        )
        for row in sample.iter_rows(named=True)
    }  # fmt: skip
    mismatches = 0
    start, cpu = time.perf_counter(), time.process_time()
    results = [{i: run_period(refs[i], periods[k][i]) for i in sorted(ids)} for k in range(2)]
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    for k, kernel in enumerate((first.statements, second.statements)):
        for row in kernel.filter(pl.col("account_id").is_in(list(ids))).iter_rows(named=True):
            expected = results[k][row["account_id"]].statement.as_dict()
            got = {n: row[n] for n in expected}
            got["statement_date"] = row["statement_date"].isoformat()
            got["due_date"] = row["due_date"].isoformat()
            mismatches += got != expected
    per_account_s = cpu_seconds / (2 * sample_n)
    return {
        "sample_accounts": sample_n,
        "seconds_two_periods": round(seconds, 3),
        "cpu_seconds_two_periods": round(cpu_seconds, 3),
        "cpu_seconds_per_account_period": per_account_s,
        "extrapolated_cpu_seconds_per_period": round(per_account_s * len(accounts), 1),
        "statements_differing_from_kernels": mismatches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--reference-sample", type=int, default=2000)
    parser.add_argument("--mode", choices=["full_balance", "unpaid_only"], default="full_balance")
    args = parser.parse_args()
    terms = cmb_like(interest_mode=args.mode)
    kernels = run_kernels(args.accounts, terms)
    reference = run_reference(kernels.pop("frames"), args.reference_sample, terms)
    per_period_cpu = sum(kernels["cpu_seconds"]) / 2
    emit(
        {
            "benchmark": "cycle_kernels",
            "interest_mode": args.mode,
            "kernels": kernels,
            "reference": reference,
            "cpu_speedup_vs_reference": round(
                reference["extrapolated_cpu_seconds_per_period"] / per_period_cpu, 1
            ),
            "peak_rss_mb": peak_rss_mb(),
            "first_period_end": str(date(*FIRST_END_MONTH, 1)),
        }
    )


if __name__ == "__main__":
    main()
