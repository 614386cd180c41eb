"""A recursive-descent parser for screening expressions.

Grammar (keywords are case-insensitive)::

    expr      := or_expr END
    or_expr   := and_expr ("or" and_expr)*
    and_expr  := not_expr ("and" not_expr)*
    not_expr  := "not" not_expr | predicate
    predicate := sum [ ("="|"=="|"!="|"<>"|"<"|"<="|">"|">=") sum
                     | ["not"] "in" "(" literal ("," literal)* ")"
                     | ["not"] "between" sum "and" sum
                     | "is" ["not"] "null"
                     | "startswith" sum ]
    sum       := unary (("+"|"-") unary)*
    unary     := "-" unary | primary
    primary   := NUMBER | STRING | "true" | "false" | "today"
               | "date" "(" STRING ")" | NAME | "(" or_expr ")"
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import cast

from cardbatch.segments import ast
from cardbatch.segments.ast import ExprError
from cardbatch.segments.lexer import Token, tokenize

DEPTH_MAX = 64
IN_ITEMS_MAX = 1000
INT_LITERAL_MAX = 10**15
_COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def parse(text: str) -> ast.Node:
    """The syntax tree of ``text``; raises :class:`ExprError` at the first problem."""
    return _Parser(tokenize(text)).parse()


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "string":
        return f"string {token.text!r}"
    return repr(token.text)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def _is(self, kind: str, text: str | None = None) -> bool:
        tok = self.token
        return tok.kind == kind and (text is None or tok.text == text)

    def _advance(self) -> Token:
        tok = self.token
        if tok.kind != "end":
            self.pos += 1
        return tok

    def _expect(self, kind: str, text: str, what: str) -> Token:
        if not self._is(kind, text):
            raise ExprError(self.token.column, f"expected {what}, found {_describe(self.token)}")
        return self._advance()

    def parse(self) -> ast.Node:
        if self._is("end"):
            raise ExprError(1, "empty expression")
        node = self._or()
        if not self._is("end"):
            raise ExprError(self.token.column, f"unexpected {_describe(self.token)}")
        return node

    def _or(self) -> ast.Node:
        node = self._and()
        while self._is("keyword", "or"):
            tok = self._advance()
            node = ast.BoolOp("or", node, self._and(), tok.column)
        return node

    def _and(self) -> ast.Node:
        node = self._not()
        while self._is("keyword", "and"):
            tok = self._advance()
            node = ast.BoolOp("and", node, self._not(), tok.column)
        return node

    def _not(self) -> ast.Node:
        if self._is("keyword", "not"):
            tok = self._advance()
            return ast.Not(self._nested(self._not), tok.column)
        return self._predicate()

    def _nested(self, rule: Callable[[], ast.Node]) -> ast.Node:
        self.depth += 1
        if self.depth > DEPTH_MAX:
            raise ExprError(self.token.column, f"nested deeper than {DEPTH_MAX} levels")
        try:
            return rule()
        finally:
            self.depth -= 1

    def _predicate(self) -> ast.Node:
        left = self._sum()
        tok = self.token
        if tok.kind == "op" and tok.text in _COMPARE:
            self._advance()
            op = cast("ast.CompareOp", _COMPARE[tok.text])
            return ast.Compare(op, left, self._sum(), tok.column)
        if self._is("keyword", "is"):
            self._advance()
            negated = self._is("keyword", "not")
            if negated:
                self._advance()
            self._expect("keyword", "null", "'null'")
            return ast.IsNull(left, negated, tok.column)
        if self._is("keyword", "startswith"):
            self._advance()
            return ast.StartsWith(left, self._sum(), tok.column)
        negated = self._is("keyword", "not")
        if negated:
            self._advance()
        if self._is("keyword", "in"):
            self._advance()
            return ast.InList(left, self._literal_list(), negated, tok.column)
        if self._is("keyword", "between"):
            self._advance()
            low = self._sum()
            self._expect("keyword", "and", "'and' in 'between ... and ...'")
            return ast.Between(left, low, self._sum(), negated, tok.column)
        if negated:
            found = _describe(self.token)
            message = f"expected 'in' or 'between' after 'not', found {found}"
            raise ExprError(self.token.column, message)
        return left

    def _literal_list(self) -> tuple[ast.Literal, ...]:
        self._expect("op", "(", "'(' to open the list")
        items = [self._literal()]
        while self._is("op", ","):
            self._advance()
            if len(items) >= IN_ITEMS_MAX:
                raise ExprError(self.token.column, f"more than {IN_ITEMS_MAX} items in a list")
            items.append(self._literal())
        self._expect("op", ")", "',' or ')' in the list")
        return tuple(items)

    def _literal(self) -> ast.Literal:
        node = self._unary()
        if isinstance(node, ast.Negate) and isinstance(node.operand, ast.Literal):
            value = node.operand.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return ast.Literal(-value, node.column)
        if not isinstance(node, ast.Literal):
            raise ExprError(_column(node), "list items must be literal values")
        return node

    def _sum(self) -> ast.Node:
        node = self._unary()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            tok = self._advance()
            op = cast("ast.ArithOp", tok.text)
            node = ast.Arith(op, node, self._unary(), tok.column)
        return node

    def _unary(self) -> ast.Node:
        if self._is("op", "-"):
            tok = self._advance()
            return ast.Negate(self._nested(self._unary), tok.column)
        return self._primary()

    def _primary(self) -> ast.Node:
        tok = self.token
        if tok.kind == "number":
            self._advance()
            return ast.Literal(_number(tok), tok.column)
        if tok.kind == "string":
            self._advance()
            return ast.Literal(tok.text, tok.column)
        if tok.kind == "keyword" and tok.text in ("true", "false"):
            self._advance()
            return ast.Literal(tok.text == "true", tok.column)
        if self._is("keyword", "today"):
            self._advance()
            return ast.Today(tok.column)
        if tok.kind == "name":
            self._advance()
            if tok.text.lower() == "date" and self._is("op", "("):
                return self._date_literal(tok)
            return ast.Field(tok.text, tok.column)
        if self._is("op", "("):
            self._advance()
            node = self._nested(self._or)
            self._expect("op", ")", "')'")
            return node
        raise ExprError(tok.column, f"expected a value, found {_describe(tok)}")

    def _date_literal(self, start: Token) -> ast.Literal:
        self._advance()
        tok = self.token
        if tok.kind != "string":
            raise ExprError(tok.column, 'date(...) takes a string like "2024-03-05"')
        self._advance()
        self._expect("op", ")", "')'")
        try:
            value = date.fromisoformat(tok.text)
        except ValueError:
            raise ExprError(tok.column, f"not a date (YYYY-MM-DD): {tok.text!r}") from None
        if len(tok.text) != 10:
            raise ExprError(tok.column, f"not a date (YYYY-MM-DD): {tok.text!r}")
        return ast.Literal(value, start.column)


def _number(tok: Token) -> int | float:
    if "." in tok.text:
        return float(tok.text)
    value = int(tok.text)
    if value > INT_LITERAL_MAX:
        raise ExprError(tok.column, f"number larger than {INT_LITERAL_MAX}")
    return value


def _column(node: ast.Node) -> int:
    return node.column
