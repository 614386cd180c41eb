"""Differences between two rule sets, key by key, for review before approval.

Both sides are compared after validation, so defaults count: a file that
leaves ``charge_interest_on_fees`` out and one that writes ``false`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cardbatch.rules.model import RuleSet

ABSENT = "(absent)"


@dataclass(frozen=True)
class KeyChange:
    """One key whose value differs: ``left`` and ``right`` rendered as TOML-like text."""

    key: str
    left: str
    right: str


def _render(value: object) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


def flatten_rules(rules: RuleSet) -> dict[str, str]:
    """Every key of a rule set as ``section.key -> rendered value``, in document order."""
    flat: dict[str, str] = {}
    for section_name, section in rules.model_dump().items():
        for key, value in section.items():
            flat[f"{section_name}.{key}"] = _render(value)
    return flat


def diff_rules(left: RuleSet, right: RuleSet) -> list[KeyChange]:
    """The keys whose values differ between two rule sets, in document order."""
    left_flat = flatten_rules(left)
    right_flat = flatten_rules(right)
    keys = list(left_flat) + [k for k in right_flat if k not in left_flat]
    changes = []
    for key in keys:
        left_value = left_flat.get(key, ABSENT)
        right_value = right_flat.get(key, ABSENT)
        if left_value != right_value:
            changes.append(KeyChange(key, left_value, right_value))
    return changes
