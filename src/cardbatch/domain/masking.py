"""Masking of personal data in logs, API answers, pages and operator files.

The forms follow the console issue: ``110105********002X``, ``622202******1234``,
``138****5678`` and ``张*``. Unknown or short values are masked entirely rather
than shown.
"""

from __future__ import annotations


def mask_ric(value: str) -> str:
    """Resident ID: first 6 and last 4 characters kept."""
    return _keep_ends(value, 6, 4)


def mask_card(value: str) -> str:
    """Card or account number: first 6 and last 4 digits kept."""
    return _keep_ends(value, 6, 4)


def mask_phone(value: str) -> str:
    """Mobile number: first 3 and last 4 digits kept."""
    return _keep_ends(value, 3, 4)


def mask_name(value: str) -> str:
    """Personal name: first character kept, the rest starred."""
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]
