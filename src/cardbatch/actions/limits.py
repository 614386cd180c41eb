"""Limit-change rules: ``"+20% cap 50000"``, ``"+5000 cap 80000"``, ``"-10% floor 2000"``.

Grammar (amounts in yuan, percent as exact decimals)::

    RULE   := CHANGE [cap YUAN] [floor YUAN] [step YUAN]
    CHANGE := (+|-) NUMBER %   |   (+|-) YUAN

The new limit is the old one plus the change (a percentage is rounded half-up
to the fen), rounded down to ``step`` (default 100 yuan), then kept within
``floor`` (default 0) and ``cap`` (default none). A rule never moves a limit
against its sign: an increase above an account already at its cap leaves it
unchanged (reason ``no_change``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from cardbatch.money import MoneyError, parse_rate, parse_yuan, percent_of, round_half_up_fen

STEP_FEN_DEFAULT = 100_00
_CHANGE_RE = re.compile(r"^(?P<sign>[+-])(?P<number>[0-9][0-9,]*(?:\.[0-9]+)?)(?P<pct>%?)$")
_KEYWORDS = ("cap", "floor", "step")


class RuleError(ValueError):
    """A limit-change rule that cannot be parsed; the message quotes the rule."""


@dataclass(frozen=True)
class LimitRule:
    text: str
    sign: int  # +1 raise, -1 lower
    percent: Decimal | None
    amount_fen: int | None
    cap_fen: int | None
    floor_fen: int
    step_fen: int


def parse_rule(text: str) -> LimitRule:
    words = text.split()
    if not words:
        raise RuleError("the limit rule is empty")
    match = _CHANGE_RE.match(words[0])
    if match is None:
        raise RuleError(f"rule {text!r}: start with +N% or -N% or +YUAN or -YUAN")
    options = _options(text, words[1:])
    sign = 1 if match["sign"] == "+" else -1
    try:
        percent = parse_rate(match["number"]) if match["pct"] else None
        amount_fen = None if match["pct"] else parse_yuan(match["number"])
    except MoneyError as exc:
        raise RuleError(f"rule {text!r}: {exc}") from None
    step_fen = options.get("step", STEP_FEN_DEFAULT)
    if step_fen <= 0:
        raise RuleError(f"rule {text!r}: step must be positive")
    cap_fen, floor_fen = options.get("cap"), options.get("floor", 0)
    if cap_fen is not None and cap_fen < floor_fen:
        raise RuleError(f"rule {text!r}: cap is below floor")
    return LimitRule(text, sign, percent, amount_fen, cap_fen, floor_fen, step_fen)


def _options(text: str, words: list[str]) -> dict[str, int]:
    if len(words) % 2:
        raise RuleError(f"rule {text!r}: each of {', '.join(_KEYWORDS)} needs an amount")
    options: dict[str, int] = {}
    for key, value in zip(words[::2], words[1::2], strict=True):
        if key not in _KEYWORDS or key in options:
            raise RuleError(f"rule {text!r}: unknown or repeated keyword {key!r}")
        try:
            options[key] = parse_yuan(value)
        except MoneyError as exc:
            raise RuleError(f"rule {text!r}: {key}: {exc}") from None
        if options[key] < 0:
            raise RuleError(f"rule {text!r}: {key} must not be negative")
    return options


def new_limit(rule: LimitRule, before_fen: int) -> int:
    """The proposed limit for an account whose limit is ``before_fen``."""
    if rule.percent is not None:
        change_fen = round_half_up_fen(percent_of(before_fen, rule.percent))
    else:
        assert rule.amount_fen is not None
        change_fen = rule.amount_fen
    after_fen = before_fen + rule.sign * change_fen
    after_fen -= after_fen % rule.step_fen
    if rule.cap_fen is not None:
        after_fen = min(after_fen, rule.cap_fen)
    after_fen = max(after_fen, rule.floor_fen)
    if rule.sign > 0:
        return max(after_fen, before_fen)
    return min(after_fen, before_fen)
