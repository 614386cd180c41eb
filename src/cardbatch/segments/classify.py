"""Classification of screened accounts by type, amount and repayment cycle.

A rule is ``FIELD`` (group by the field's value: product, autopay_mode, bucket,
...) or ``FIELD:EDGES`` for a number field (``balance_fen:0,500000,2000000``):
the edges cut the values into bands labelled ``<0``, ``[0,500000)``,
``[500000,2000000)``, ``>=2000000`` (sorted in band order); a null value falls in
the band ``(null)``. Without edges the class is the value itself (null stays null).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from cardbatch.segments.fields import FieldType
from cardbatch.segments.typecheck import DEFAULT_FIELD_TYPES

EDGES_MAX = 50
NULL_CLASS = "(null)"


class ClassifyError(ValueError):
    """A classification rule that cannot be used (unknown field, bad edges)."""


@dataclass(frozen=True)
class ClassifyRule:
    field: str
    edges: tuple[int | float, ...] = ()

    @property
    def column(self) -> str:
        return f"class_{self.field}"

    def render(self) -> str:
        """Back to the ``FIELD:EDGES`` text it was parsed from."""
        if not self.edges:
            return self.field
        return f"{self.field}:{','.join(str(e) for e in self.edges)}"


def _edge(text: str, kind: FieldType, rule: str) -> int | float:
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        raise ClassifyError(f"{rule}: edge {text!r} is not a number") from None


def parse_rule(
    text: str, field_types: Mapping[str, FieldType] = DEFAULT_FIELD_TYPES
) -> ClassifyRule:
    """A rule from ``FIELD`` or ``FIELD:EDGE,EDGE,...``; raises :class:`ClassifyError`."""
    name, _, edges_text = text.strip().partition(":")
    kind = field_types.get(name)
    if kind is None:
        raise ClassifyError(f"{text}: unknown field {name!r}")
    if not edges_text:
        return ClassifyRule(name)
    if kind not in ("int", "float"):
        raise ClassifyError(f"{text}: edges apply to number fields only, {name} is {kind}")
    edges = tuple(_edge(part.strip(), kind, text) for part in edges_text.split(","))
    if len(edges) > EDGES_MAX:
        raise ClassifyError(f"{text}: more than {EDGES_MAX} edges")
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ClassifyError(f"{text}: edges must increase strictly")
    return ClassifyRule(name, edges)


def band_label(edges: Sequence[int | float], index: int) -> str:
    """The label of band ``index`` (0 = below the first edge)."""
    if index == 0:
        return f"<{edges[0]}"
    if index == len(edges):
        return f">={edges[-1]}"
    return f"[{edges[index - 1]},{edges[index]})"


def band_labels(edges: Sequence[int | float]) -> list[str]:
    """Every band label in order, then the null class."""
    return [band_label(edges, index) for index in range(len(edges) + 1)] + [NULL_CLASS]


def _class_expr(rule: ClassifyRule) -> pl.Expr:
    value = pl.col(rule.field)
    if not rule.edges:
        return value.alias(rule.column)  # the value itself: sorts naturally, null stays null
    label: pl.Expr = pl.lit(band_label(rule.edges, len(rule.edges)))
    for index in range(len(rule.edges) - 1, -1, -1):
        label = (
            pl.when(value < rule.edges[index])
            .then(pl.lit(band_label(rule.edges, index)))
            .otherwise(label)
        )
    labelled = pl.when(value.is_null()).then(pl.lit(NULL_CLASS)).otherwise(label)
    return labelled.cast(pl.Enum(band_labels(rule.edges))).alias(rule.column)


def add_classes(frame: pl.DataFrame, rules: Sequence[ClassifyRule]) -> pl.DataFrame:
    """``frame`` with one ``class_<field>`` column per rule."""
    if not rules:
        return frame
    return frame.with_columns([_class_expr(rule) for rule in rules])


def summarise(frame: pl.DataFrame, rules: Sequence[ClassifyRule]) -> pl.DataFrame:
    """Accounts and total balance per class (one row per combination), sorted by class."""
    columns = [rule.column for rule in rules]
    classified = add_classes(frame, rules)
    if not columns:
        return classified.select(
            pl.len().cast(pl.Int64).alias("accounts"),
            pl.col("balance_fen").sum().cast(pl.Int64).alias("balance_fen"),
        )
    return (
        classified.group_by(columns)
        .agg(
            pl.len().cast(pl.Int64).alias("accounts"),
            pl.col("balance_fen").sum().cast(pl.Int64).alias("balance_fen"),
        )
        .sort(columns, nulls_last=True)
    )
