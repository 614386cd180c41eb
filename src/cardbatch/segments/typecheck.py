"""Type checking of screening expressions against a declared field table.

Every unknown field and every type error is reported with its column before
anything runs. Types: ``int``, ``float``, ``str``, ``date``, ``bool``.
Rules: numbers (int, float) compare and add with each other (an int meeting a
float becomes a float); a date plus or minus an int is a date (days); a date
minus a date is an int (days); strings and booleans only compare with ``=``
and ``!=``; ``and``/``or``/``not`` need booleans; the whole expression is boolean.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cardbatch.segments import ast
from cardbatch.segments.ast import ExprError
from cardbatch.segments.fields import FIELDS, FieldType
from cardbatch.segments.parser import parse

DEFAULT_FIELD_TYPES: dict[str, FieldType] = {f.name: f.type for f in FIELDS}
_NUMERIC = ("int", "float")
_ORDERED = ("int", "float", "date")


@dataclass(frozen=True)
class CheckedExpr:
    """A parsed, well-typed expression: the tree and the type of each node."""

    text: str
    node: ast.Node
    types: Mapping[ast.Node, FieldType] = field(repr=False)


class ExprErrors(ValueError):
    """Every problem found in an expression (at least one), in column order."""

    def __init__(self, text: str, errors: list[ExprError]) -> None:
        self.text = text
        self.errors = sorted(errors, key=lambda e: e.column)
        super().__init__("; ".join(str(e) for e in self.errors))


def compile_check(
    text: str, field_types: Mapping[str, FieldType] = DEFAULT_FIELD_TYPES
) -> CheckedExpr:
    """Parse and type-check ``text``; raises :class:`ExprErrors` listing every problem."""
    try:
        node = parse(text)
    except ExprError as exc:
        raise ExprErrors(text, [exc]) from None
    checker = _Checker(field_types)
    result = checker.visit(node)
    if result is not None and result != "bool" and not checker.errors:
        message = f"the expression is {result}, not a condition"
        checker.errors.append(ExprError(node.column, message))
    if checker.errors:
        raise ExprErrors(text, checker.errors)
    return CheckedExpr(text, node, checker.types)


def _literal_type(value: ast.LiteralValue) -> FieldType:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, date):
        return "date"
    return "str"


def _comparable(left: FieldType, right: FieldType) -> bool:
    return left == right or (left in _NUMERIC and right in _NUMERIC)


def _arith_type(op: str, left: FieldType, right: FieldType) -> FieldType | None:
    if left in _NUMERIC and right in _NUMERIC:
        return "int" if left == right == "int" else "float"
    if left == "date" and right == "int":
        return "date"
    if op == "+" and left == "int" and right == "date":
        return "date"
    if op == "-" and left == right == "date":
        return "int"
    return None


class _Checker:
    def __init__(self, field_types: Mapping[str, FieldType]) -> None:
        self.field_types = field_types
        self.types: dict[ast.Node, FieldType] = {}
        self.errors: list[ExprError] = []

    def fail(self, column: int, message: str) -> None:
        self.errors.append(ExprError(column, message))

    def visit(self, node: ast.Node) -> FieldType | None:
        result = self._visit(node)
        if result is not None:
            self.types[node] = result
        return result

    def _visit(self, node: ast.Node) -> FieldType | None:
        match node:
            case ast.Literal(value=value):
                return _literal_type(value)
            case ast.Today():
                return "date"
            case ast.Field(name=name, column=column):
                return self._field(name, column)
            case ast.Negate(operand=operand, column=column):
                kind = self.visit(operand)
                if kind is not None and kind not in _NUMERIC:
                    self.fail(column, f"'-' needs a number, not {kind}")
                    return None
                return kind
            case ast.Arith():
                return self._arith(node)
            case ast.Compare():
                return self._compare(node)
            case ast.InList():
                return self._in_list(node)
            case ast.Between():
                return self._between(node)
            case ast.StartsWith(operand=operand, prefix=prefix, column=column):
                kinds = (self.visit(operand), self.visit(prefix))
                if None not in kinds and kinds != ("str", "str"):
                    message = f"startswith needs two strings, not {kinds[0]} and {kinds[1]}"
                    self.fail(column, message)
                return "bool"
            case ast.IsNull(operand=operand):
                self.visit(operand)
                return "bool"
            case ast.Not(operand=operand, column=column):
                self._condition(operand, "not")
                return "bool"
            case ast.BoolOp(op=op, left=left, right=right):
                self._condition(left, op)
                self._condition(right, op)
                return "bool"
        raise AssertionError(f"unknown node {node!r}")

    def _field(self, name: str, column: int) -> FieldType | None:
        kind = self.field_types.get(name)
        if kind is None:
            close = difflib.get_close_matches(name, list(self.field_types), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(column, f"unknown field {name!r}{hint}")
        return kind

    def _condition(self, node: ast.Node, what: str) -> None:
        kind = self.visit(node)
        if kind is not None and kind != "bool":
            self.fail(node.column, f"'{what}' needs a condition, not {kind}")

    def _arith(self, node: ast.Arith) -> FieldType | None:
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return None
        result = _arith_type(node.op, left, right)
        if result is None:
            self.fail(node.column, f"cannot compute {left} {node.op} {right}")
        return result

    def _compare(self, node: ast.Compare) -> FieldType:
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return "bool"
        if not _comparable(left, right):
            self.fail(node.column, f"cannot compare {left} with {right}")
        elif node.op not in ("=", "!=") and left not in _ORDERED:
            self.fail(node.column, f"'{node.op}' does not apply to {left}; use = or !=")
        return "bool"

    def _in_list(self, node: ast.InList) -> FieldType:
        kind = self.visit(node.operand)
        for item in node.items:
            item_kind = self.visit(item)
            if kind is not None and item_kind is not None and not _comparable(kind, item_kind):
                self.fail(item.column, f"list item is {item_kind}, but the value is {kind}")
        return "bool"

    def _between(self, node: ast.Between) -> FieldType:
        kinds = [self.visit(n) for n in (node.operand, node.low, node.high)]
        if None in kinds:
            return "bool"
        first = kinds[0]
        assert first is not None
        if first not in _ORDERED:
            self.fail(node.column, f"between does not apply to {first}")
            return "bool"
        for part, kind in zip((node.low, node.high), kinds[1:], strict=True):
            if kind is not None and not _comparable(first, kind):
                self.fail(part.column, f"between bound is {kind}, but the value is {first}")
        return "bool"
