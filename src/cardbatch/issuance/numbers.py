"""Card numbers, expiry months and statement days for new cards (pure).

A card number is ``BIN + serial (zero-padded) + Luhn check digit``. Serials are
allocated from one counter per BIN and length, start above any number already
on file, rise by one, and are never handed out twice (``docs/applications.md``).
"""

from __future__ import annotations

from datetime import date

from cardbatch.domain.identity import luhn_check_digit


class SerialsExhausted(RuntimeError):
    """The BIN has no serials left at this card length."""


def serial_digits(bin_: str, card_length: int) -> int:
    return card_length - len(bin_) - 1


def serial_max(bin_: str, card_length: int) -> int:
    return int(10 ** serial_digits(bin_, card_length)) - 1


def card_number(bin_: str, card_length: int, serial: int) -> str:
    """The card number for a serial: BIN, the serial padded, the Luhn digit."""
    if not 1 <= serial <= serial_max(bin_, card_length):
        raise SerialsExhausted(f"serial {serial} does not fit BIN {bin_} at {card_length} digits")
    body = f"{bin_}{serial:0{serial_digits(bin_, card_length)}d}"
    return body + luhn_check_digit(body)


def serial_of(number: str, bin_: str) -> int:
    """The serial inside a card number issued on ``bin_``."""
    return int(number[len(bin_) : -1])


def counter_name(bin_: str, card_length: int) -> str:
    return f"card:{bin_}:{card_length}"


def expiry_month(issued_on: date, validity_years: int) -> str:
    """``YYYY-MM``: the card is valid through the end of this month."""
    return f"{issued_on.year + validity_years:04d}-{issued_on.month:02d}"


def embossed_expiry(expiry: str) -> str:
    """``MM/YY`` as printed on the card."""
    return f"{expiry[5:7]}/{expiry[2:4]}"


def statement_day_for(seq: int, statement_days: tuple[int, ...]) -> int:
    """Round robin over the product's statement days by application sequence number.

    This spreads new accounts evenly over the cycle days, so no night's cycle
    grows much more than the others.
    """
    return statement_days[seq % len(statement_days)]
