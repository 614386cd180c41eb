"""The accounts frame: one row per card account with every screening attribute.

:func:`accounts_frame` reads the store once (card accounts, customers, balances,
payments) and :func:`derive_columns` computes the derived attributes in Polars
for a business date. The columns are exactly those of
:data:`cardbatch.segments.fields.FIELDS`, plus the private columns in
:data:`PRIVATE_COLUMNS` used only by exports (never by expressions).

Delinquency: ``dpd`` is read from a ``dpd`` column of ``card_accounts`` when the
schema has one (the nightly cycle maintains it); otherwise every account counts
as current (dpd 0). ``bucket`` and ``five_class`` are derived from ``dpd`` with
the edges of the product's rule version in force on the business date, or the
standard edges of DOMAIN.md when the product has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import (
    Connection,
    Integer,
    Select,
    func,
    inspect,
    literal,
    literal_column,
    select,
)

from cardbatch.domain.ledger import CARD_COMPONENTS, EntryKind
from cardbatch.rules.model import STANDARD_BUCKET_EDGES, STANDARD_FIVE_CATEGORY_EDGES
from cardbatch.rules.versions import version_in_force
from cardbatch.segments.fields import FIELDS, frame_schema
from cardbatch.store.tables import balances, card_accounts, customers, journal_entries, postings

PRIVATE_COLUMNS = ("name", "id_number", "phone", "card_number")
FIVE_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
PAYMENT_KINDS = (str(EntryKind.PAYMENT), str(EntryKind.AUTOPAY))
Edges = tuple[Sequence[int], Sequence[int]]
STANDARD_EDGES: Edges = (STANDARD_BUCKET_EDGES, STANDARD_FIVE_CATEGORY_EDGES)

_RAW_SCHEMA = pl.Schema(
    {
        "account_id": pl.String(),
        "customer_id": pl.String(),
        "product": pl.String(),
        "status": pl.String(),
        "city": pl.String(),
        "credit_score": pl.Int64(),
        "credit_limit_fen": pl.Int64(),
        "balance_fen": pl.Int64(),
        "statement_day": pl.Int64(),
        "autopay_mode": pl.String(),
        "open_date": pl.Date(),
        "last_payment_date": pl.Date(),
        "dpd": pl.Int64(),
        "birth_date": pl.Date(),
        "name": pl.String(),
        "id_number": pl.String(),
        "phone": pl.String(),
        "card_number": pl.String(),
    }
)


def _bucket(dpd: pl.Expr, edges: Sequence[int]) -> pl.Expr:
    label: pl.Expr = pl.lit("M0")
    for index, edge in enumerate(edges, start=1):
        label = pl.when(dpd >= edge).then(pl.lit(f"M{index}")).otherwise(label)
    return label


def _five_class(dpd: pl.Expr, edges: Sequence[int]) -> pl.Expr:
    label: pl.Expr = pl.lit(FIVE_CLASSES[0])
    for edge, name in zip(edges, FIVE_CLASSES[1:], strict=True):
        label = pl.when(dpd >= edge).then(pl.lit(name)).otherwise(label)
    return label


def _per_product(build: str, edges_by_product: Mapping[str, Edges], dpd: pl.Expr) -> pl.Expr:
    index = 0 if build == "bucket" else 1
    make = _bucket if build == "bucket" else _five_class
    expr = make(dpd, STANDARD_EDGES[index])
    for code, edges in edges_by_product.items():
        expr = pl.when(pl.col("product") == code).then(make(dpd, edges[index])).otherwise(expr)
    return expr


def _parts(day: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Year, month and day as Int64 (Polars gives Int8 months and days, which overflow)."""
    return (
        day.dt.year().cast(pl.Int64),
        day.dt.month().cast(pl.Int64),
        day.dt.day().cast(pl.Int64),
    )


def _whole_years(start: pl.Expr, end: date) -> pl.Expr:
    year, month, day = _parts(start)
    before_birthday = (month * 100 + day) > end.month * 100 + end.day
    return end.year - year - before_birthday.cast(pl.Int64)


def _whole_months(start: pl.Expr, end: date) -> pl.Expr:
    year, month, day = _parts(start)
    months = (end.year - year) * 12 + (end.month - month) - (day > end.day).cast(pl.Int64)
    return pl.when(months < 0).then(pl.lit(0)).otherwise(months).cast(pl.Int64)


def derive_columns(
    raw: pl.DataFrame, business_date: date, edges_by_product: Mapping[str, Edges] | None = None
) -> pl.DataFrame:
    """The accounts frame for ``business_date`` from raw store columns (see module doc)."""
    ric = pl.col("id_number")
    birth_in_ric = ric.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    birth = pl.coalesce(pl.col("birth_date"), birth_in_ric)
    dpd = pl.col("dpd").fill_null(0)
    limit = pl.col("credit_limit_fen")
    derived = raw.cast(dict(_RAW_SCHEMA)).with_columns(  # type: ignore[arg-type]
        pl.when(ric.str.len_chars() == 18)
        .then(
            pl.when(ric.str.slice(16, 1).cast(pl.Int64, strict=False) % 2 == 1)
            .then(pl.lit("M"))
            .otherwise(pl.lit("F"))
        )
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("gender"),
        _whole_years(birth, business_date).alias("age"),
        pl.when(limit > 0)
        .then(pl.col("balance_fen").cast(pl.Float64) / limit.cast(pl.Float64))
        .otherwise(pl.lit(None, dtype=pl.Float64))
        .alias("utilisation"),
        _whole_months(pl.col("open_date"), business_date).alias("months_on_book"),
        dpd.alias("dpd"),
        _per_product("bucket", edges_by_product or {}, dpd).alias("bucket"),
        _per_product("five_class", edges_by_product or {}, dpd).alias("five_class"),
    )
    columns = [f.name for f in FIELDS] + list(PRIVATE_COLUMNS)
    return derived.select(columns).cast(dict(frame_schema()))  # type: ignore[arg-type]


def _raw_query(conn: Connection, business_date: date) -> Select[Any]:
    card_balance = (
        select(balances.c.account_id, func.sum(balances.c.balance_fen).label("balance_fen"))
        .where(balances.c.component.in_([str(c) for c in CARD_COMPONENTS]))
        .group_by(balances.c.account_id)
        .subquery()
    )
    payments = (
        select(
            postings.c.account_id,
            func.max(journal_entries.c.business_date).label("last_payment_date"),
        )
        .join(journal_entries, postings.c.entry_id == journal_entries.c.entry_id)
        .where(
            journal_entries.c.kind.in_(PAYMENT_KINDS),
            postings.c.amount_fen < 0,
            journal_entries.c.business_date <= business_date,
        )
        .group_by(postings.c.account_id)
        .subquery()
    )
    has_dpd = any(c["name"] == "dpd" for c in inspect(conn).get_columns("card_accounts"))
    dpd = literal_column(f"{card_accounts.name}.dpd", Integer) if has_dpd else literal(0)
    a, c = card_accounts.c, customers.c
    return (
        select(
            a.account_id,
            a.customer_id,
            a.product_code,
            a.status,
            c.city,
            c.credit_score,
            a.credit_limit_fen,
            func.coalesce(card_balance.c.balance_fen, 0),
            a.statement_day,
            a.autopay_mode,
            a.opened_on,
            payments.c.last_payment_date,
            dpd,
            c.birth_date,
            c.name,
            c.id_number,
            c.phone,
            a.card_number,
        )
        .select_from(
            card_accounts.join(customers, a.customer_id == c.customer_id)
            .outerjoin(card_balance, card_balance.c.account_id == a.account_id)
            .outerjoin(payments, payments.c.account_id == a.account_id)
        )
        .order_by(a.account_id)
    )


def product_edges(
    conn: Connection, products: Sequence[str], business_date: date
) -> dict[str, Edges]:
    """Delinquency edges of each product's rule version in force (products without one: none)."""
    edges: dict[str, Edges] = {}
    for code in products:
        version = version_in_force(conn, code, business_date)
        if version is not None:
            rules = version.rules()
            edges[code] = (rules.delinquency.bucket_edges, rules.delinquency.five_category_edges)
    return edges


def accounts_frame(conn: Connection, business_date: date) -> pl.DataFrame:
    """Every card account with its screening attributes on ``business_date``."""
    rows = conn.execute(_raw_query(conn, business_date)).all()
    raw = pl.DataFrame([tuple(r) for r in rows], schema=_RAW_SCHEMA, orient="row")
    products = sorted(set(raw["product"].to_list()))
    return derive_columns(raw, business_date, product_edges(conn, products, business_date))
