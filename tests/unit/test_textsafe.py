"""The one formula-neutralising rule for files people open in a spreadsheet."""

from __future__ import annotations

import pytest

from cardbatch.ingest.clean import clean_text
from cardbatch.ingest.rejects import neutralise as rejects_neutralise
from cardbatch.payfiles import tabular
from cardbatch.segments.service import _safe_cell
from cardbatch.textsafe import FORMULA_LEADS, neutralise, without_mark

CASES = [  # (text, neutralised, neutralised when every cell stays text)
    ("=1+2", "'=1+2", "'=1+2"),
    ("+cmd", "'+cmd", "'+cmd"),
    ("-2+3", "'-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'\t=x", "'\t=x"),
    ("\rx", "'\rx", "'\rx"),
    ("-5.00", "-5.00", "'-5.00"),
    ("+86", "+86", "'+86"),
    ("a=b", "a=b", "a=b"),
    ("张三", "张三", "张三"),
    ("", "", ""),
]


@pytest.mark.parametrize(("text", "shown", "as_text"), CASES)
def test_formula_leads_get_an_apostrophe(text: str, shown: str, as_text: str) -> None:
    assert neutralise(text) == shown
    assert neutralise(text, plain_numbers=False) == as_text


@pytest.mark.parametrize(("text", "shown", "as_text"), CASES)
def test_every_writer_uses_the_shared_rule(text: str, shown: str, as_text: str) -> None:
    assert rejects_neutralise(text) == shown
    assert _safe_cell(text) == shown
    assert tabular.neutralise(text) == as_text


def test_the_importer_reads_a_neutralised_cell_back() -> None:
    for lead in FORMULA_LEADS:
        cell = f"{lead}x"
        assert clean_text(neutralise(cell)) == clean_text(cell)


@pytest.mark.parametrize("text", ["=SUM(A1)", "+86 138", "-x", "@me", "'", "'abc", "plain", ""])
def test_without_mark_undoes_neutralise(text: str) -> None:
    assert without_mark(neutralise(text)) == text
    assert without_mark(neutralise(text, plain_numbers=False)) == text
