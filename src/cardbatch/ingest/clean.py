"""Cleaning of cells: trim, full-width to half-width, and typed values with reasons.

Two forms of the same rules live here. The scalar functions (``clean_text``,
``clean_value``) are the authority: they clean one cell and say exactly why a
value is refused, with personal data masked. The Polars expressions
(``text_expr``, ``name_expr``) do the same text cleaning for a whole column at
once; :mod:`cardbatch.ingest.validate` uses them for the bulk of the rows and
sends only the rows that fail its fast checks through the scalar functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from cardbatch.domain.identity import (
    IdentityError,
    luhn_valid,
    normalize_card_number,
    normalize_mobile,
    normalize_ric,
)
from cardbatch.domain.masking import mask_card, mask_name, mask_phone, mask_ric
from cardbatch.ingest.columns import Column, FieldType
from cardbatch.money import MoneyError, parse_yuan
from cardbatch.textsafe import FORMULA_LEADS

# Full-width forms U+FF01..U+FF5E map to ASCII; the ideographic space and the
# no-break space to a space; ideographic punctuation that NFKC leaves alone
# gets an explicit half-width equivalent.
IDEOGRAPHIC_PUNCTUATION: dict[str, str] = {
    "。": ".", "、": ",", "【": "[", "】": "]", "「": '"', "」": '"', "『": '"', "』": '"',
    "“": '"', "”": '"', "‘": "'", "’": "'", "《": "<", "》": ">", "〈": "<", "〉": ">",
    "〔": "(", "〕": ")", "〜": "~", "｡": ".", "､": ",",
}  # fmt: skip
HALF_WIDTH: dict[str, str] = {
    **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
    "\u3000": " ",
    "\u00a0": " ",
    **IDEOGRAPHIC_PUNCTUATION,
}
_HALF_WIDTH_TABLE = str.maketrans(HALF_WIDTH)
_HALF_WIDTH_CLASS = (
    "[\uff01-\uff5e"
    + "".join(re.escape(char) for char in HALF_WIDTH if not 0xFF01 <= ord(char) <= 0xFF5E)
    + "]"
)
STRIP_CHARS = " \t\r\n"
# A rejects file prefixes cells that a spreadsheet would run with an apostrophe;
# reading such a cell back removes it again.
_UNQUOTE_RE = r"^'([=+\-@\t\r])"
_CJK = "[\u3400-\u4dbf\u4e00-\u9fff]"
_NAME_SPACES_RE = re.compile(r"[ \t\r\n]+")
_CJK_GAP_RE = re.compile(f"({_CJK}) ({_CJK})")
_CODE_RE = re.compile(r"^[0-9A-Za-z_\-]+$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
YEAR_MIN = 1900
YEAR_MAX = 2199
DAY_MIN, DAY_MAX = 1, 28
SCORE_MAX = 1000
UNIONPAY_PREFIX = "62"
SHOWN_CHARS_MAX = 40

Value = str | int | date | None


@dataclass(frozen=True)
class CleanError(ValueError):
    """A cell refused: a stable reason ``code`` and a masked human ``message``."""

    code: str
    message: str


def clean_text(raw: str | None) -> str | None:
    """Undo formula quoting, map full-width to half-width, trim; empty text is ``None``."""
    if raw is None:
        return None
    text = raw
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_LEADS:
        text = text[1:]
    text = text.translate(_HALF_WIDTH_TABLE).strip(STRIP_CHARS)
    return text or None


def clean_name(text: str) -> str:
    """Collapse inner whitespace to one space and drop spaces between two Chinese characters."""
    text = _NAME_SPACES_RE.sub(" ", text)
    for _ in range(2):  # two passes close every gap in a run like "张 三 丰"
        text = _CJK_GAP_RE.sub(r"\1\2", text)
    return text


def text_expr(column: str, *, half_width: bool = True, unquote: bool = True) -> pl.Expr:
    """The Polars form of :func:`clean_text` for a column of raw strings.

    ``half_width`` and ``unquote`` may be turned off for a column known (by
    :func:`text_needs`) to hold no character they would change.
    """
    cleaned = pl.col(column)
    if unquote:
        cleaned = cleaned.str.replace(_UNQUOTE_RE, "${1}")
    if half_width:
        cleaned = cleaned.str.replace_many(HALF_WIDTH)
    cleaned = cleaned.str.strip_chars(STRIP_CHARS)
    return pl.when(cleaned == "").then(None).otherwise(cleaned).alias(column)


def text_needs(frame: pl.DataFrame, columns: list[str]) -> dict[str, tuple[bool, bool]]:
    """Per column: (holds a character to map to half-width, holds a quoted formula lead)."""
    if not columns or frame.height == 0:
        return {column: (False, False) for column in columns}
    either = f"{_HALF_WIDTH_CLASS}|{_UNQUOTE_RE}"  # one pass finds the usual clean columns
    marked = frame.select(pl.col(c).str.contains(either).any() for c in columns).row(0)
    found = [c for c, hit in zip(columns, marked, strict=True) if hit]
    needs = {column: (False, False) for column in columns}
    if found:
        flags = frame.select(
            *(pl.col(c).str.contains(_HALF_WIDTH_CLASS).any().alias(f"h:{c}") for c in found),
            *(pl.col(c).str.contains(_UNQUOTE_RE).any().alias(f"q:{c}") for c in found),
        ).row(0, named=True)
        needs.update({c: (bool(flags[f"h:{c}"]), bool(flags[f"q:{c}"])) for c in found})
    return needs


def name_expr(column: str) -> pl.Expr:
    """The Polars form of :func:`clean_name` (applied after :func:`text_expr`)."""
    expr = pl.col(column).str.replace_all(r"[ \t\r\n]+", " ")
    for _ in range(2):
        expr = expr.str.replace_all(f"({_CJK}) ({_CJK})", "${1}${2}")
    return expr.alias(column)


def shown(column: Column, value: str) -> str:
    """A value as it may appear in a message: personal data masked, long text cut."""
    kind = column.type
    if kind is FieldType.RIC:
        return mask_ric(value)
    if kind is FieldType.CARD:
        return mask_card(value)
    if kind is FieldType.PHONE:
        return mask_phone(value)
    if kind is FieldType.NAME:
        return mask_name(value)
    return value if len(value) <= SHOWN_CHARS_MAX else value[:SHOWN_CHARS_MAX] + "..."


def clean_value(column: Column, raw: str | None) -> tuple[Value, CleanError | None]:
    """Clean and check one cell: the typed value and an optional warning.

    Raises :class:`CleanError` when the value is refused.
    """
    text = clean_text(raw)
    if text is None:
        if column.required:
            raise CleanError("required", "value is missing")
        return column.default, None
    if len(text) > column.chars_max:
        raise CleanError("too_long", f"longer than {column.chars_max} characters")
    try:
        return _TYPED[column.type](column, text)
    except IdentityError as exc:
        raise CleanError(exc.code, f"{exc.message}: {shown(column, text)}") from None


def _code(column: Column, text: str) -> tuple[Value, CleanError | None]:
    if not _CODE_RE.match(text):
        raise CleanError("code_format", f"only letters, digits, _ and - allowed: {text!r}")
    return text, None


def _text(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return text, None


def _name(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return clean_name(text), None


def _ric(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return normalize_ric(text), None


def _phone(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return normalize_mobile(text), None


def _card(column: Column, text: str) -> tuple[Value, CleanError | None]:
    number = normalize_card_number(text, require_luhn=False)
    if luhn_valid(number):
        return number, None
    if number.startswith(UNIONPAY_PREFIX):
        warning = CleanError(
            "card_luhn_warning", f"UnionPay card number fails the Luhn check: {mask_card(number)}"
        )
        return number, warning
    raise CleanError("card_luhn", f"card number fails the Luhn check: {mask_card(number)}")


def parse_date(text: str) -> date:
    """A date from ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``2024年3月5日`` or ``20240305``."""
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        year, month, day = (int(part) for part in match.groups())
        try:
            value = date(year, month, day)
        except ValueError:
            raise CleanError("date_invalid", f"no such date: {text!r}") from None
        if not YEAR_MIN <= value.year <= YEAR_MAX:
            raise CleanError("date_range", f"year outside {YEAR_MIN}..{YEAR_MAX}: {text!r}")
        return value
    raise CleanError("date_format", f"not a date (use 2024-03-05, 2024/3/5 or 20240305): {text!r}")


def _date(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return parse_date(text), None


def _amount(column: Column, text: str) -> tuple[Value, CleanError | None]:
    try:
        amount_fen = parse_yuan(text)
    except MoneyError:
        raise CleanError(
            "amount_format", f"not an amount of yuan with up to two decimals: {text!r}"
        ) from None
    if amount_fen < 0:
        raise CleanError("amount_negative", f"amount must not be negative: {text!r}")
    if column.type is FieldType.POSITIVE_AMOUNT and amount_fen == 0:
        raise CleanError("amount_zero", f"amount must be more than zero: {text!r}")
    return amount_fen, None


def _bounded_int(text: str, low: int, high: int, code: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise CleanError(code, f"not a whole number {low}..{high}: {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise CleanError(code, f"not a whole number {low}..{high}: {text!r}")
    return value


def _day(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return _bounded_int(text, DAY_MIN, DAY_MAX, "day_range"), None


def _score(column: Column, text: str) -> tuple[Value, CleanError | None]:
    return _bounded_int(text, 0, SCORE_MAX, "score_range"), None


def _choice(column: Column, text: str) -> tuple[Value, CleanError | None]:
    value = column.choices.get(text.lower())
    if value is None:
        allowed = ", ".join(sorted(set(column.choices.values())))
        raise CleanError("choice", f"{text!r} is not one of {allowed}")
    return value, None


_TYPED = {
    FieldType.CODE: _code,
    FieldType.TEXT: _text,
    FieldType.NAME: _name,
    FieldType.RIC: _ric,
    FieldType.PHONE: _phone,
    FieldType.CARD: _card,
    FieldType.DATE: _date,
    FieldType.AMOUNT: _amount,
    FieldType.POSITIVE_AMOUNT: _amount,
    FieldType.DAY: _day,
    FieldType.SCORE: _score,
    FieldType.CHOICE: _choice,
}
