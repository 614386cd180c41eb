"""Compiling a checked screening expression to one Polars expression.

Semantics match :mod:`cardbatch.segments.evaluate` exactly (SQL-style three-valued
logic: a comparison with a null is null; ``and``/``or`` are Kleene; a row is
selected only when the result is true). Literals become ``pl.lit`` values, never
text pasted into a query.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date

import polars as pl

from cardbatch.segments import ast
from cardbatch.segments.typecheck import CheckedExpr

_COMPARE: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def to_polars(checked: CheckedExpr, business_date: date) -> pl.Expr:
    """The Polars boolean expression for ``checked`` on ``business_date``."""
    return _Compiler(checked, business_date).expr(checked.node)


def select_rows(frame: pl.DataFrame, checked: CheckedExpr, business_date: date) -> pl.DataFrame:
    """The rows of ``frame`` for which the expression is true (null counts as not selected)."""
    return frame.filter(to_polars(checked, business_date))


class _Compiler:
    def __init__(self, checked: CheckedExpr, business_date: date) -> None:
        self.types = checked.types
        self.business_date = business_date

    def _is_float(self, node: ast.Node) -> bool:
        return self.types[node] == "float"

    def _pair(self, left: ast.Node, right: ast.Node) -> tuple[pl.Expr, pl.Expr]:
        left_expr, right_expr = self.expr(left), self.expr(right)
        if self._is_float(left) or self._is_float(right):
            return left_expr.cast(pl.Float64), right_expr.cast(pl.Float64)
        return left_expr, right_expr

    def expr(self, node: ast.Node) -> pl.Expr:
        match node:
            case ast.Literal(value=value):
                return pl.lit(value, dtype=_literal_dtype(value))
            case ast.Today():
                return pl.lit(self.business_date, dtype=pl.Date)
            case ast.Field(name=name):
                return pl.col(name)
            case ast.Negate(operand=operand):
                return -self.expr(operand)
            case ast.Arith():
                return self._arith(node)
            case ast.Compare(op=op, left=left, right=right):
                left_expr, right_expr = self._pair(left, right)
                return _COMPARE[op](left_expr, right_expr)
            case ast.InList():
                return self._in_list(node)
            case ast.Between():
                return self._between(node)
            case ast.StartsWith(operand=operand, prefix=prefix):
                return self.expr(operand).str.starts_with(self.expr(prefix))
            case ast.IsNull(operand=operand, negated=negated):
                inner = self.expr(operand)
                return inner.is_not_null() if negated else inner.is_null()
            case ast.Not(operand=operand):
                return ~self.expr(operand)
            case ast.BoolOp(op="and", left=left, right=right):
                return self.expr(left) & self.expr(right)
            case ast.BoolOp(left=left, right=right):
                return self.expr(left) | self.expr(right)
        raise AssertionError(f"unknown node {node!r}")

    def _arith(self, node: ast.Arith) -> pl.Expr:
        left_type, right_type = self.types[node.left], self.types[node.right]
        if left_type == "date" and right_type == "date":
            return (self.expr(node.left) - self.expr(node.right)).dt.total_days()
        if left_type == "date" or right_type == "date":
            date_node, days_node = (
                (node.left, node.right) if left_type == "date" else (node.right, node.left)
            )
            days = pl.duration(days=self.expr(days_node))
            base = self.expr(date_node)
            return base + days if node.op == "+" else base - days
        left_expr, right_expr = self._pair(node.left, node.right)
        return left_expr + right_expr if node.op == "+" else left_expr - right_expr

    def _in_list(self, node: ast.InList) -> pl.Expr:
        values = [item.value for item in node.items]
        operand = self.expr(node.operand)
        if self._is_float(node.operand) or any(self._is_float(item) for item in node.items):
            operand = operand.cast(pl.Float64)
            values = [float(v) for v in values]  # type: ignore[arg-type]
        dtype = _literal_dtype(values[0])
        if self.types[node.operand] == "int" and dtype == pl.Int64:
            operand = operand.cast(pl.Int64)
        found = operand.is_in(pl.Series(values=values, dtype=dtype).implode())
        if not _uses_fields(node.operand):
            found = found.first()  # a constant: keep it a scalar so that it broadcasts
        return ~found if node.negated else found

    def _between(self, node: ast.Between) -> pl.Expr:
        operand, low = self._pair(node.operand, node.low)
        operand_again, high = self._pair(node.operand, node.high)
        inside = (operand >= low) & (operand_again <= high)
        return ~inside if node.negated else inside


def _literal_dtype(value: object) -> pl.DataType:
    if isinstance(value, bool):
        return pl.Boolean()
    if isinstance(value, int):
        return pl.Int64()
    if isinstance(value, float):
        return pl.Float64()
    if isinstance(value, date):
        return pl.Date()
    return pl.String()


def _uses_fields(node: ast.Node) -> bool:
    match node:
        case ast.Field():
            return True
        case ast.Literal() | ast.Today():
            return False
        case ast.Negate(operand=operand):
            return _uses_fields(operand)
        case ast.Arith(left=left, right=right):
            return _uses_fields(left) or _uses_fields(right)
    raise AssertionError(f"not a value node {node!r}")
