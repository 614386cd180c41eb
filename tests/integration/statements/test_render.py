"""Customer statements rendered from the cycle's stored statement (SQLite and PostgreSQL).

DOMAIN.md O1 (mode A): RMB 1,000.00 bought 03-30, the 04-05 statement's minimum 100.00 paid
on 04-23; the 05-05 statement carries interest 17.85 and closes at 917.85. Its minimum is
10% of the 900.00 purchases left plus the interest: 107.85.
"""

from __future__ import annotations

import io
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from cardbatch.statements.read import StatementError, customer_statement
from cardbatch.statements.render import render, render_html, render_pdf, write_statement
from cardbatch.store import Store
from tests.e2e.cycle.bank import EXAMPLE, cycle_through, load_rules, open_cards, post

CARD_NUMBER = "6225880000000000"  # open_cards' first card
CARD_MASKED = "622588******0000"
MAY = date(2024, 5, 5)
FIGURES = {  # (label, yuan) of the 05-05 statement
    "上期账单金额": "1,000.00",
    "本期消费": "0.00",
    "本期还款": "100.00",
    "利息": "17.85",
    "违约金": "0.00",
    "本期应还金额": "917.85",
    "最低还款额": "107.85",
    "未出账分期本金": "0.00",
}


def _o1(store: Store) -> str:
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    post(store, "p1", card, "purchase", 100_000, date(2024, 3, 30))
    post(store, "pay1", card, "payment", 10_000, date(2024, 4, 23))
    cycle_through(store, MAY)
    return card


def test_statement_html_and_pdf_show_the_o1_figures(store: Store, tmp_path: Path) -> None:
    card = _o1(store)
    with store.read() as conn:
        found = customer_statement(conn, card, MAY)
    assert found.amounts["interest_fen"] == 1785
    assert (found.period_start, found.due_date) == (date(2024, 4, 6), date(2024, 5, 23))
    assert [(ln.entry_date, ln.kind, ln.amount_fen) for ln in found.lines] == [
        (date(2024, 4, 23), "payment", -10_000),
        (MAY, "interest", 1785),
    ]

    page = render_html(found)
    for label, yuan in FIGURES.items():
        assert f'<th>{label}<span class="en">' in page
        row = page[page.index(f"<th>{label}<span") :].split("</tr>")[0]
        assert f'<td class="amount">{yuan}</td>' in row, (label, row)
    assert f'<td class="card">{CARD_MASKED}</td>' in page
    assert CARD_NUMBER not in page
    assert '<td class="due">2024-05-23</td>' in page
    assert "<td>2024-04-23</td><td>还款" in page and "-100.00" in page

    pdf = render_pdf(found)
    assert pdf.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = text.replace("\n", " ")
    for label, yuan in FIGURES.items():
        assert label in flat and yuan in flat, label
    assert "信用卡对账单" in flat and "Holder 0" in flat
    assert CARD_MASKED in flat and CARD_NUMBER not in flat
    assert "2024-05-23" in flat and "17.85" in flat and "-100.00" in flat
    assert render(found, "pdf") == pdf  # the same statement gives the same bytes

    target = tmp_path / "statement.pdf"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    write_statement(target, pdf)
    assert target.read_bytes() == pdf
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="format must be one of html, pdf"):
        render(found, "docx")


def test_unknown_account_or_date_is_one_clear_error(store: Store) -> None:
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1))
    (card,) = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20))
    cycle_through(store, date(2024, 4, 5))
    with store.read() as conn:
        empty = customer_statement(conn, card, date(2024, 4, 5))
        assert empty.lines == ()
        assert "本期无交易" in render_html(empty)
        assert "本期无交易" in PdfReader(io.BytesIO(render_pdf(empty))).pages[0].extract_text()
        with pytest.raises(StatementError, match=f"account {card} has no statement on 2024-04-06"):
            customer_statement(conn, card, date(2024, 4, 6))
        with pytest.raises(StatementError, match="no card account 'CA404'"):
            customer_statement(conn, "CA404", date(2024, 4, 5))
