"""Benchmark: screen 1,000,000 accounts with a five-clause expression (target: under 1 s).

    python -m bench.screening --accounts 1000000

Prints one JSON document.
The accounts frame is synthetic (same schema as the store's), built before timing starts.
"""

from __future__ import annotations

import argparse
from datetime import date

import polars as pl

from bench.common import Timer, emit, peak_rss_mb
from cardbatch.segments.compile import select_rows
from cardbatch.segments.fields import frame_schema
from cardbatch.segments.typecheck import compile_check

BUSINESS_DATE = date(2024, 6, 30)
EXPRESSION = (
    "dpd >= 1 and dpd <= 30 and credit_score >= 650"
    ' and city in ("上海", "北京", "深圳") and last_payment_date < today - 30'
)
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京"]
PRODUCTS = ["STD", "CCB_LIKE"]
AUTOPAY = ["none", "full", "minimum"]


def _draw(seed: int, low: int, high: int) -> pl.Expr:
    """A deterministic pseudo-random int in [low, high) per row (hash of the row number)."""
    return (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed) % (high - low)).cast(pl.Int64) + low


def _pick(seed: int, values: list[str]) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(_draw(seed, 0, len(values)))


def synthetic_frame(accounts: int, seed: int) -> pl.DataFrame:
    base = pl.DataFrame({"n": pl.int_range(accounts, eager=True)})
    frame = base.select(
        pl.format("CA{}", pl.col("n").cast(pl.String).str.zfill(10)).alias("account_id"),
        pl.format("C{}", pl.col("n").cast(pl.String).str.zfill(9)).alias("customer_id"),
        _pick(seed + 1, PRODUCTS).alias("product"),
        pl.lit("active").alias("status"),
        _pick(seed + 2, CITIES).alias("city"),
        _pick(seed + 3, ["M", "F"]).alias("gender"),
        _draw(seed + 4, 18, 80).alias("age"),
        _draw(seed + 5, 350, 900).alias("credit_score"),
        (_draw(seed + 6, 1, 50) * 100_000).alias("credit_limit_fen"),
        _draw(seed + 7, 0, 1000).alias("permille"),
        _draw(seed + 8, 1, 29).alias("statement_day"),
        _pick(seed + 9, AUTOPAY).alias("autopay_mode"),
        (pl.lit(date(2010, 1, 1)) + pl.duration(days=_draw(seed + 10, 0, 5000))).alias("open_date"),
        _draw(seed + 11, 0, 170).alias("months_on_book"),
        (pl.lit(date(2024, 1, 1)) + pl.duration(days=_draw(seed + 12, 0, 181))).alias(
            "last_payment_date"
        ),
        pl.when(_draw(seed + 13, 0, 10) < 8)
        .then(pl.lit(0))
        .otherwise(_draw(seed + 14, 1, 200))
        .alias("dpd"),
        pl.lit("M0").alias("bucket"),
        pl.lit("normal").alias("five_class"),
    )
    frame = frame.with_columns(
        (pl.col("credit_limit_fen") * pl.col("permille") // 1000).alias("balance_fen")
    ).with_columns((pl.col("balance_fen") / pl.col("credit_limit_fen")).alias("utilisation"))
    schema = frame_schema()
    return frame.select(list(schema)).cast(dict(schema))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    build = Timer()
    with build.measure():
        frame = synthetic_frame(args.accounts, args.seed)
    timings: list[float] = []
    selected = 0
    for _ in range(args.repeat):
        run = Timer()
        with run.measure():
            checked = compile_check(EXPRESSION)
            selected = select_rows(frame, checked, BUSINESS_DATE).height
        timings.append(run.seconds)
    timings.sort()
    emit(
        {
            "benchmark": "screening",
            "accounts": args.accounts,
            "expression": EXPRESSION,
            "clauses": 5,
            "selected": selected,
            "frame_build_s": round(build.seconds, 3),
            "screen_best_s": round(timings[0], 4),
            "screen_median_s": round(timings[len(timings) // 2], 4),
            "accounts_per_s": int(args.accounts / timings[len(timings) // 2]),
            "target_s": 1.0,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
