"""Scrubbing free text (log lines, messages) of personal numbers that slipped through.

Structured fields are masked where they are produced (``masking``); this is the
second line: any resident ID, 16-19 digit card or account number, or mobile
number left in a text is replaced by its masked form.
"""

from __future__ import annotations

import re

from cardbatch.domain.masking import mask_card, mask_phone, mask_ric

# Not inside a longer word or number: no letter or digit around, and not the digits of a
# decimal fraction ("0.0607346666666666").
_BEFORE = r"(?<![0-9A-Za-z.])"
_AFTER = r"(?![0-9A-Za-z]|\.\d)"
_RIC_RE = re.compile(_BEFORE + r"\d{17}[0-9Xx]" + _AFTER)
_CARD_RE = re.compile(_BEFORE + r"\d{16,19}" + _AFTER)
_PHONE_RE = re.compile(_BEFORE + r"(?:\+?86)?1[3-9]\d{9}" + _AFTER)
# Every pattern above needs at least 11 digits in a row; most texts (every log line of an
# API request) have none, and one search for that is cheaper than the three substitutions.
_ELEVEN_DIGITS_RE = re.compile(r"\d{11}")


def redact_text(text: str) -> str:
    """The text with resident IDs, card/account numbers and mobile numbers masked."""
    if _ELEVEN_DIGITS_RE.search(text) is None:
        return text
    text = _RIC_RE.sub(lambda m: mask_ric(m.group(0)), text)
    text = _CARD_RE.sub(lambda m: mask_card(m.group(0)), text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def find_personal_numbers(text: str) -> list[str]:
    """Every unmasked resident ID, card/account number or mobile number in a text."""
    return _RIC_RE.findall(text) + _CARD_RE.findall(text) + _PHONE_RE.findall(text)
