"""Classification rules, the derived attributes of the accounts frame, and the field docs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from cardbatch.segments.classify import ClassifyError, ClassifyRule, parse_rule, summarise
from cardbatch.segments.fields import FIELDS, frame_schema
from cardbatch.segments.frame import PRIVATE_COLUMNS, derive_columns

from .portfolio import portfolio_frame

DOCS = Path(__file__).resolve().parents[3] / "docs" / "segments.md"


def test_parse_rules() -> None:
    assert parse_rule("product") == ClassifyRule("product")
    assert parse_rule("balance_fen:0,500000") == ClassifyRule("balance_fen", (0, 500000))
    assert parse_rule("utilisation:0.5,0.9").edges == (0.5, 0.9)
    assert parse_rule("balance_fen:0,500000").render() == "balance_fen:0,500000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("balanse:1", "balanse:1: unknown field 'balanse'"),
        ("city:1,2", "city:1,2: edges apply to number fields only, city is str"),
        ("dpd:30,1", "dpd:30,1: edges must increase strictly"),
        ("dpd:1,x", "dpd:1,x: edge 'x' is not a number"),
    ],
)
def test_bad_rules_are_refused(text: str, message: str) -> None:
    with pytest.raises(ClassifyError) as caught:
        parse_rule(text)
    assert str(caught.value) == message


def test_summary_by_balance_band_and_product() -> None:
    rules = [parse_rule("balance_fen:500000,2000000"), parse_rule("product")]
    summary = summarise(portfolio_frame(), rules)
    assert summary.rows() == [
        ("<500000", "CCB_LIKE", 1, 50000),
        ("<500000", "STD", 3, 250000),
        ("[500000,2000000)", "CCB_LIKE", 1, 600000),
        ("[500000,2000000)", "STD", 3, 4100000),
        (">=2000000", "CCB_LIKE", 1, 2100000),
        (">=2000000", "STD", 1, 3000000),
    ]


def test_null_values_get_their_own_class() -> None:
    summary = summarise(portfolio_frame(), [parse_rule("utilisation:0.5")])
    assert summary.rows() == [("<0.5", 5, 1900000), (">=0.5", 4, 8200000), ("(null)", 1, 0)]
    by_city = summarise(portfolio_frame(), [parse_rule("city")])
    assert by_city.rows()[-1] == (None, 1, 0)


def test_summary_without_rules_is_one_total() -> None:
    assert summarise(portfolio_frame(), []).rows() == [(10, 10100000)]


def _raw(**overrides: object) -> pl.DataFrame:
    row: dict[str, object] = {
        "account_id": "A1", "customer_id": "C1", "product": "STD", "status": "active",
        "city": "北京", "credit_score": 700, "credit_limit_fen": 1000000, "balance_fen": 250000,
        "statement_day": 5, "autopay_mode": "none", "open_date": date(2023, 7, 15),
        "last_payment_date": None, "dpd": None, "birth_date": None, "name": "张三",
        "id_number": "11010519491231002X", "phone": "13800138000",
        "card_number": "6222021234567890",
    }  # fmt: skip
    row.update(overrides)
    return pl.DataFrame([row])


def test_derived_attributes() -> None:
    frame = derive_columns(_raw(), date(2024, 7, 14))
    row = frame.row(0, named=True)
    assert frame.schema == pl.Schema(
        {**frame_schema(), **{c: pl.String() for c in PRIVATE_COLUMNS}}
    )
    assert row["age"] == 74  # born 1949-12-31
    assert row["gender"] == "F"  # 17th digit 2 is even
    assert row["months_on_book"] == 11  # 2023-07-15 .. 2024-07-14
    assert row["utilisation"] == 0.25
    assert (row["dpd"], row["bucket"], row["five_class"]) == (0, "M0", "normal")


def test_age_on_the_birthday_and_stored_birth_date_first() -> None:
    on_birthday = derive_columns(_raw(id_number="360426199101010071"), date(2024, 1, 1))
    assert on_birthday.row(0, named=True)["age"] == 33
    assert on_birthday.row(0, named=True)["gender"] == "M"
    stored = derive_columns(_raw(birth_date=date(2000, 6, 1)), date(2024, 5, 31))
    assert stored.row(0, named=True)["age"] == 23


def test_no_limit_means_null_utilisation_and_no_open_date_null_months() -> None:
    row = derive_columns(_raw(credit_limit_fen=0, open_date=None), date(2024, 1, 1)).row(
        0, named=True
    )
    assert row["utilisation"] is None
    assert row["months_on_book"] is None


@pytest.mark.parametrize(
    ("dpd", "bucket", "five_class"),
    [  # DOMAIN.md oracle O4
        (0, "M0", "normal"),
        (1, "M1", "special_mention"),
        (90, "M3", "special_mention"),
        (91, "M4", "substandard"),
        (121, "M5", "doubtful"),
        (181, "M7", "loss"),
    ],
)
def test_bucket_and_five_class_from_dpd(dpd: int, bucket: str, five_class: str) -> None:
    row = derive_columns(_raw(dpd=dpd), date(2024, 1, 1)).row(0, named=True)
    assert (row["bucket"], row["five_class"]) == (bucket, five_class)


def test_product_edges_override_the_standard_ones() -> None:
    edges = {"STD": ([1, 11, 21, 31, 41, 51, 61], [1, 31, 61, 91])}
    row = derive_columns(_raw(dpd=35), date(2024, 1, 1), edges).row(0, named=True)
    assert (row["bucket"], row["five_class"]) == ("M4", "substandard")
    other = derive_columns(_raw(dpd=35, product="X"), date(2024, 1, 1), edges).row(0, named=True)
    assert other["bucket"] == "M2"


def test_docs_list_every_field_with_its_type() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for field in FIELDS:
        null = "yes" if field.nullable else "no"
        assert f"| `{field.name}` | {field.type} | {null} |" in docs, field.name
