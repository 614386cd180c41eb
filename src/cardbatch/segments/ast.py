"""The syntax tree of a screening expression; every node keeps its 1-based column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal as TypingLiteral

LiteralValue = int | float | str | bool | date
CompareOp = TypingLiteral["=", "!=", "<", "<=", ">", ">="]
ArithOp = TypingLiteral["+", "-"]
BoolOpName = TypingLiteral["and", "or"]


@dataclass(frozen=True)
class Literal:
    value: LiteralValue
    column: int


@dataclass(frozen=True)
class Field:
    name: str
    column: int


@dataclass(frozen=True)
class Today:
    """The business date the expression is evaluated for."""

    column: int


@dataclass(frozen=True)
class Negate:
    operand: Node
    column: int


@dataclass(frozen=True)
class Arith:
    op: ArithOp
    left: Node
    right: Node
    column: int


@dataclass(frozen=True)
class Compare:
    op: CompareOp
    left: Node
    right: Node
    column: int


@dataclass(frozen=True)
class InList:
    operand: Node
    items: tuple[Literal, ...]
    negated: bool
    column: int


@dataclass(frozen=True)
class Between:
    """``operand between low and high``, both ends included."""

    operand: Node
    low: Node
    high: Node
    negated: bool
    column: int


@dataclass(frozen=True)
class StartsWith:
    operand: Node
    prefix: Node
    column: int


@dataclass(frozen=True)
class IsNull:
    operand: Node
    negated: bool
    column: int


@dataclass(frozen=True)
class Not:
    operand: Node
    column: int


@dataclass(frozen=True)
class BoolOp:
    op: BoolOpName
    left: Node
    right: Node
    column: int


Node = (
    Literal
    | Field
    | Today
    | Negate
    | Arith
    | Compare
    | InList
    | Between
    | StartsWith
    | IsNull
    | Not
    | BoolOp
)


class ExprError(ValueError):
    """A screening expression that cannot run: the 1-based column and what is wrong."""

    def __init__(self, column: int, message: str) -> None:
        self.column = column
        self.message = message
        super().__init__(f"column {column}: {message}")

    def pointer(self, text: str) -> str:
        """The expression with a caret under the column, for people."""
        return f"{text}\n{' ' * (self.column - 1)}^ {self.message}"
