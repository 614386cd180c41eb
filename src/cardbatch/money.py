"""Money: the only place where yuan text, integer fen and exact rates meet.

Everywhere else in cardbatch an amount is an ``int`` of fen (1/100 yuan) whose
name ends in ``_fen``. Rates are exact ``Decimal`` values made from strings
(``"0.0005"`` per day), never floats. Interest and percentages are carried as
exact ``Decimal`` fen until they are posted, and then rounded once, half-up,
by :func:`round_half_up_fen`, the one rounding function of the system.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

FEN_PER_YUAN = 100
# Largest amount accepted anywhere: 10 trillion yuan. Keeps every sum of a
# night's postings far inside a signed 64-bit column.
AMOUNT_FEN_MAX = 10**15

# Enough digits for fen up to AMOUNT_FEN_MAX times any rate times any day count.
_EXACT = Context(prec=60, rounding=ROUND_HALF_UP)

_YUAN_RE = re.compile(r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d*))?$")
_CURRENCY_MARKS = ("¥", "￥", "RMB", "CNY", "元")


class MoneyError(ValueError):
    """A text that is not an amount of yuan, or a rate that is not exact."""


def parse_yuan(text: str) -> int:
    """Turn yuan text into integer fen.

    Accepts ``"1,234.50"``, ``"1234.5"``, ``"１２３４.５"`` (full-width digits),
    a leading sign, a ``¥``/``RMB``/``CNY`` mark and surrounding spaces.
    Refuses more than two decimals, floats, empty text and amounts beyond
    :data:`AMOUNT_FEN_MAX`, with a message that quotes the text.
    """
    if not isinstance(text, str):
        raise MoneyError(f"amount must be text, got {type(text).__name__}")
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    for mark in _CURRENCY_MARKS:
        cleaned = cleaned.replace(mark, "")
    match = _YUAN_RE.match(cleaned)
    if match is None:
        raise MoneyError(f"not an amount of yuan: {text!r}")
    frac = match.group("frac") or ""
    if len(frac) > 2:
        raise MoneyError(f"more than two decimals in amount: {text!r}")
    whole = int(match.group("int").replace(",", ""))
    amount_fen = whole * FEN_PER_YUAN + int(frac.ljust(2, "0"))
    if amount_fen > AMOUNT_FEN_MAX:
        raise MoneyError(f"amount too large: {text!r}")
    return -amount_fen if match.group("sign") == "-" else amount_fen


def format_fen(amount_fen: int, *, grouping: bool = True) -> str:
    """Render fen as yuan text: ``123450 -> "1,234.50"`` (``"1234.50"`` without grouping)."""
    check_fen(amount_fen)
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    whole = f"{yuan:,}" if grouping else str(yuan)
    return f"{sign}{whole}.{fen:02d}"


def check_fen(amount_fen: object) -> int:
    """Assert that a value is an amount of fen: an ``int`` (not bool) within bounds."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise MoneyError(f"amount in fen must be int, got {type(amount_fen).__name__}")
    if abs(amount_fen) > AMOUNT_FEN_MAX:
        raise MoneyError(f"amount out of range: {amount_fen} fen")
    return amount_fen


def parse_rate(text: str | Decimal) -> Decimal:
    """An exact, non-negative rate from text such as ``"0.0005"``; floats are refused."""
    if isinstance(text, float):
        raise MoneyError("rates must be given as exact decimal text, not float")
    try:
        rate = Decimal(unicodedata.normalize("NFKC", str(text)).strip())
    except InvalidOperation:
        raise MoneyError(f"not a decimal rate: {text!r}") from None
    if not rate.is_finite() or rate < 0:
        raise MoneyError(f"rate must be a finite, non-negative decimal: {text!r}")
    return rate


def accrue(base_fen: int, rate: Decimal, days: int = 1) -> Decimal:
    """Exact interest in fen on ``base_fen`` at ``rate`` per day for ``days`` days (not rounded)."""
    if days < 0:
        raise MoneyError(f"day count must not be negative: {days}")
    with localcontext(_EXACT):
        return Decimal(check_fen(base_fen)) * rate * days


def percent_of(amount_fen: int, percent: Decimal) -> Decimal:
    """Exact ``percent`` % of ``amount_fen`` in fen, not rounded; ``percent`` like ``"10"``."""
    with localcontext(_EXACT):
        return Decimal(check_fen(amount_fen)) * percent / 100


def round_half_up_fen(exact_fen: Decimal | int) -> int:
    """The one rounding function: exact fen to whole fen, ties away from zero.

    ``Decimal("0.5") -> 1``, ``Decimal("1.49") -> 1``, ``Decimal("-0.5") -> -1``.
    Call it once, where an amount is posted, never on intermediate sums.
    """
    if isinstance(exact_fen, float):
        raise MoneyError("refusing to round a float amount")
    with localcontext(_EXACT):
        return int(Decimal(exact_fen).quantize(Decimal(1), rounding=ROUND_HALF_UP))
