"""Identities: resident ID numbers (GB 11643-1999), bank card numbers (Luhn) and mobile phones.

Validation returns an :class:`IdentityError` code and message instead of a bare
``False`` so that importers can report exactly why a value was refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
CARD_DIGITS_MIN = 16
CARD_DIGITS_MAX = 19


@dataclass(frozen=True)
class IdentityError(ValueError):
    """Why an identity value was refused: a stable ``code`` and a human ``message``."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def ric_check_char(first17: str) -> str:
    """The 18th character of a resident ID for its first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise IdentityError("ric_format", "resident ID body must be 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def normalize_ric(text: str) -> str:
    """A resident ID as stored: half-width, trimmed, the check char ``x`` upper-cased.

    Raises :class:`IdentityError` with code ``ric_format``, ``ric_birth_date``,
    ``ric_region`` or ``ric_checksum``.
    """
    value = unicodedata.normalize("NFKC", text).strip().upper()
    if (
        len(value) != 18
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise IdentityError("ric_format", "resident ID must be 17 digits and a check digit or X")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdentityError("ric_birth_date", "resident ID has an impossible birth date") from None
    if birth.year < 1900:
        raise IdentityError("ric_birth_date", "resident ID has an impossible birth date")
    if ric_check_char(value[:17]) != value[17]:
        raise IdentityError("ric_checksum", "resident ID check digit does not match")
    try:
        ric.validate(value)
    except Exception:  # stdnum raises its own ValidationError subclasses
        raise IdentityError("ric_region", "resident ID has an unknown region code") from None
    return value


def ric_birth_date(ric_number: str) -> date:
    """The birth date encoded in a normalised resident ID."""
    return date(int(ric_number[6:10]), int(ric_number[10:12]), int(ric_number[12:14]))


def luhn_check_digit(body: str) -> str:
    """The Luhn check digit to append to ``body`` (all digits)."""
    if not body.isdigit():
        raise IdentityError("card_format", "card number must be digits")
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when the last digit of ``number`` is its Luhn check digit."""
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def normalize_card_number(text: str, *, require_luhn: bool = True) -> str:
    """A card number as stored: digits only (spaces and dashes removed), 16 to 19 long.

    ``require_luhn=False`` is for imported UnionPay numbers, where DOMAIN.md makes
    a Luhn failure a warning (see :func:`luhn_valid`) rather than a refusal.
    """
    value = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text))
    if not value.isdigit():
        raise IdentityError("card_format", "card number must contain only digits")
    if not CARD_DIGITS_MIN <= len(value) <= CARD_DIGITS_MAX:
        raise IdentityError("card_length", "card number must be 16 to 19 digits")
    if require_luhn and not luhn_valid(value):
        raise IdentityError("card_luhn", "card number fails the Luhn check")
    return value


def normalize_mobile(text: str) -> str:
    """A mainland mobile number as 11 digits; ``+86``, spaces and dashes are removed."""
    value = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", text))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not _MOBILE_RE.match(value):
        raise IdentityError("phone_format", "mobile number must be 11 digits starting 13-19")
    return value
