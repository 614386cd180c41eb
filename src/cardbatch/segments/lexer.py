"""Tokens of the screening language, each with its 1-based column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cardbatch.segments.ast import ExprError

EXPRESSION_CHARS_MAX = 4000
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "between", "is", "null", "true", "false", "today", "startswith"}
)
TokenKind = Literal["number", "string", "name", "keyword", "op", "end"]
_OPERATORS = ("<=", ">=", "!=", "<>", "==", "=", "<", ">", "+", "-", "(", ")", ",")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    column: int


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(chars), pos + 1
        if char == "\\":
            escaped = text[pos + 1] if pos + 1 < len(text) else ""
            if escaped not in _ESCAPES:
                raise ExprError(pos + 1, f"unknown escape \\{escaped} in string")
            chars.append(_ESCAPES[escaped])
            pos += 2
            continue
        chars.append(char)
        pos += 1
    raise ExprError(start + 1, "string is not closed")


def _read_number(text: str, start: int) -> int:
    pos = start
    while pos < len(text) and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    if pos < len(text) and text[pos] == ".":
        pos += 1
        if pos >= len(text) or not text[pos].isdigit():
            raise ExprError(start + 1, "a number needs digits after its decimal point")
        while pos < len(text) and text[pos].isdigit() and text[pos].isascii():
            pos += 1
    if pos < len(text) and (text[pos].isalpha() or text[pos] == "_"):
        raise ExprError(pos + 1, f"unexpected {text[pos]!r} after a number")
    return pos


def _is_name_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an ``end`` token; raises :class:`ExprError`."""
    if len(text) > EXPRESSION_CHARS_MAX:
        raise ExprError(EXPRESSION_CHARS_MAX + 1, f"longer than {EXPRESSION_CHARS_MAX} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "\"'":
            value, end = _read_string(text, pos)
            tokens.append(Token("string", value, pos + 1))
            pos = end
        elif char.isascii() and char.isdigit():
            end = _read_number(text, pos)
            tokens.append(Token("number", text[pos:end], pos + 1))
            pos = end
        elif char.isascii() and (char.isalpha() or char == "_"):
            end = pos
            while end < len(text) and _is_name_char(text[end]):
                end += 1
            word = text[pos:end]
            kind: TokenKind = "keyword" if word.lower() in KEYWORDS else "name"
            tokens.append(Token(kind, word.lower() if kind == "keyword" else word, pos + 1))
            pos = end
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
            if op is None:
                raise ExprError(pos + 1, f"unexpected character {char!r}")
            tokens.append(Token("op", op, pos + 1))
            pos += len(op)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens
