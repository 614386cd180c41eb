"""The attributes a screening expression may use: name, type, whether it may be null, meaning.

This table is the one place that declares them; the type checker reads it, the
accounts frame (:mod:`cardbatch.segments.frame`) produces exactly these columns,
and ``docs/segments.md`` lists them (a test checks that it does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

FieldType = Literal["int", "float", "str", "date", "bool"]

POLARS_TYPES: dict[FieldType, pl.DataType] = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "date": pl.Date(),
    "bool": pl.Boolean(),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    nullable: bool
    description: str


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("account_id", "str", False, "card account id"),
    FieldSpec("customer_id", "str", False, "customer id"),
    FieldSpec("product", "str", False, "product code of the account (rule set)"),
    FieldSpec("status", "str", False, "account status as stored (e.g. active, frozen, closed)"),
    FieldSpec("city", "str", True, "customer's city, when known"),
    FieldSpec("gender", "str", True, "'M' or 'F', from the resident ID"),
    FieldSpec("age", "int", True, "age in whole years on the business date, from the resident ID"),
    FieldSpec("credit_score", "int", True, "credit score, when known"),
    FieldSpec("credit_limit_fen", "int", False, "credit limit in fen"),
    FieldSpec("balance_fen", "int", False, "amount owed in fen (sum of the balance components)"),
    FieldSpec("utilisation", "float", True, "balance_fen / credit_limit_fen (null if no limit)"),
    FieldSpec("statement_day", "int", False, "day of the month of the statement (1-28)"),
    FieldSpec("autopay_mode", "str", False, "auto-repayment: 'none', 'full' or 'minimum'"),
    FieldSpec("open_date", "date", True, "date the account was opened"),
    FieldSpec("months_on_book", "int", True, "whole months from open_date to the business date"),
    FieldSpec("last_payment_date", "date", True, "business date of the last payment, if any"),
    FieldSpec("dpd", "int", False, "days past due (0 when current)"),
    FieldSpec("bucket", "str", False, "delinquency bucket 'M0'..'M7'"),
    FieldSpec(
        "five_class",
        "str",
        False,
        "five-category class: normal, special_mention, substandard, doubtful, loss",
    ),
)
FIELDS_BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}


def frame_schema() -> pl.Schema:
    """The Polars schema of an accounts frame."""
    return pl.Schema({f.name: POLARS_TYPES[f.type] for f in FIELDS})
