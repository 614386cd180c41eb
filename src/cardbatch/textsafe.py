"""Text cells safe to open in a spreadsheet: the one formula-neutralising rule.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a tab or carriage return) as a formula. Files written for
people to open (rejects files, payment return files, exports) give such text a
leading apostrophe, which spreadsheets show as "this is text" and the importer
removes again. A plain number (``-5.00``, ``+86``) is not a formula and is left
alone unless the caller keeps every cell as text.
"""

from __future__ import annotations

import re

FORMULA_LEADS = "=+-@\t\r"
FORMULA_MARK = "'"
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(text: str, *, plain_numbers: bool = True) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula.

    ``plain_numbers=False`` marks plain numbers too, for columns whose cells
    must stay text exactly as written (account numbers, memos).
    """
    if not text or text[0] not in FORMULA_LEADS:
        return text
    if plain_numbers and _PLAIN_NUMBER_RE.match(text):
        return text
    return FORMULA_MARK + text


def without_mark(text: str) -> str:
    """``text`` without the apostrophe that :func:`neutralise` added (reading a file back)."""
    if len(text) > 1 and text[0] == FORMULA_MARK and text[1] in FORMULA_LEADS:
        return text[1:]
    return text
