"""Rendering without a store: escaping, labels of unknown kinds, the file's mode."""

from __future__ import annotations

import io
import stat
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from cardbatch.statements.labels import SUMMARY, kind_label
from cardbatch.statements.read import CustomerStatement, StatementLine
from cardbatch.statements.render import render_html, render_pdf, write_statement
from cardbatch.store.tables_cycle import STATEMENT_AMOUNTS


def _statement(description: str) -> CustomerStatement:
    amounts = {name: 1_234_56 for name in STATEMENT_AMOUNTS}
    line = StatementLine(date(2024, 4, 9), "reversal", description, -388_00)
    return CustomerStatement("CA1", "622588******0000", "李四", "STD", date(2024, 5, 5),
                             date(2024, 4, 6), date(2024, 5, 23), amounts, (line,))  # fmt: skip


def test_every_stored_amount_is_in_the_summary() -> None:
    assert sorted(field for _zh, _en, field in SUMMARY) == sorted(STATEMENT_AMOUNTS)


def test_html_escapes_descriptions_and_labels_kinds() -> None:
    page = render_html(_statement("<script>alert(1)</script> 冲正"))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; 冲正" in page
    assert '<td>冲正<span class="en">Reversal</span></td>' in page
    assert '<td class="amount">-388.00</td>' in page
    assert page.count('<td class="amount">1,234.56</td>') == len(SUMMARY)
    assert kind_label("something_new") == ("something_new", "something_new")


def test_pdf_text_and_new_file_mode(tmp_path: Path) -> None:
    pdf = render_pdf(_statement("柜台冲正 counter"))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "李四" in text and "冲正 Reversal" in text and "-388.00" in text
    target = tmp_path / "new.pdf"
    write_statement(target, pdf)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
