"""A plain Python evaluator for checked screening expressions: the oracle for tests.

It evaluates one row (a mapping of field name to value, ``None`` for null) with
the language's documented semantics, written as directly as possible so that
the Polars compiler (:mod:`cardbatch.segments.compile`) can be checked against it.
Returns ``True``, ``False`` or ``None`` (unknown, because of a null).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from cardbatch.segments import ast
from cardbatch.segments.typecheck import CheckedExpr

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def evaluate(checked: CheckedExpr, row: Mapping[str, object], business_date: date) -> Any:
    """The value of the expression on ``row``: ``True``, ``False`` or ``None``."""
    return _Evaluator(checked, row, business_date).value(checked.node)


def matches(checked: CheckedExpr, row: Mapping[str, object], business_date: date) -> bool:
    """Whether ``row`` is selected (a null result is not selected)."""
    return evaluate(checked, row, business_date) is True


class _Evaluator:
    def __init__(self, checked: CheckedExpr, row: Mapping[str, object], today: date) -> None:
        self.types = checked.types
        self.row = row
        self.today = today

    def _numbers(self, left: ast.Node, right: ast.Node) -> tuple[Any, Any]:
        left_value, right_value = self.value(left), self.value(right)
        if left_value is None or right_value is None:
            return None, None
        if "float" in (self.types[left], self.types[right]):
            return float(left_value), float(right_value)
        return left_value, right_value

    def value(self, node: ast.Node) -> Any:
        match node:
            case ast.Literal(value=value):
                return value
            case ast.Today():
                return self.today
            case ast.Field(name=name):
                return self.row[name]
            case ast.Negate(operand=operand):
                inner = self.value(operand)
                return None if inner is None else -inner
            case ast.Arith():
                return self._arith(node)
            case ast.Compare(op=op, left=left, right=right):
                a, b = self._numbers(left, right)
                return None if a is None else _COMPARE[op](a, b)
            case ast.InList():
                return self._in_list(node)
            case ast.Between():
                return self._between(node)
            case ast.StartsWith(operand=operand, prefix=prefix):
                text, start = self.value(operand), self.value(prefix)
                return None if text is None or start is None else text.startswith(start)
            case ast.IsNull(operand=operand, negated=negated):
                return (self.value(operand) is None) != negated
            case ast.Not(operand=operand):
                inner = self.value(operand)
                return None if inner is None else not inner
            case ast.BoolOp(op=op, left=left, right=right):
                return _kleene(op, self.value(left), self.value(right))
        raise AssertionError(f"unknown node {node!r}")

    def _arith(self, node: ast.Arith) -> Any:
        left_type, right_type = self.types[node.left], self.types[node.right]
        a, b = self._numbers(node.left, node.right)
        if a is None:
            return None
        if left_type == "date" and right_type == "date":
            return (a - b).days
        if right_type == "date":  # int + date
            return b + timedelta(days=a)
        if left_type == "date":
            return a + timedelta(days=b) if node.op == "+" else a - timedelta(days=b)
        return a + b if node.op == "+" else a - b

    def _in_list(self, node: ast.InList) -> Any:
        value = self.value(node.operand)
        if value is None:
            return None
        items = [item.value for item in node.items]
        if self.types[node.operand] == "float" or any(isinstance(i, float) for i in items):
            value = float(value)
            items = [float(i) for i in items]  # type: ignore[arg-type]
        return (value in items) != node.negated

    def _between(self, node: ast.Between) -> Any:
        a, low = self._numbers(node.operand, node.low)
        b, high = self._numbers(node.operand, node.high)
        above = None if a is None else a >= low
        below = None if b is None else b <= high
        inside = _kleene("and", above, below)
        return None if inside is None else inside != node.negated


def _kleene(op: str, left: bool | None, right: bool | None) -> bool | None:
    if op == "and":
        if left is False or right is False:
            return False
        return None if left is None or right is None else True
    if left is True or right is True:
        return True
    return None if left is None or right is None else False
