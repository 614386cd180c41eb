"""The statement drawn as PDF with reportlab's platypus (tables on A4).

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1,
rendered by the reader's own CJK font, so nothing is embedded or downloaded);
figures and English use Helvetica. Every label shows Chinese first, then English.
The document is built with ``invariant`` so its bytes depend on the statement only.
"""

from __future__ import annotations

from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from cardbatch.statements.labels import HEADINGS, line_rows, summary_rows
from cardbatch.statements.read import CustomerStatement

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"

FONT_SIZE = 9
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONTNAME", (0, 0), (-1, -1), CJK_FONT),
        ("FONTSIZE", (0, 0), (-1, -1), FONT_SIZE),
    ]
)


def _register_font() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _style(name: str, size: int, font: str = CJK_FONT) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.35)


def _label(key: str) -> str:
    zh, en = HEADINGS[key]
    return f"{zh} {en}"


def _figure(text: str) -> Paragraph:
    return Paragraph(text, _style("figure", FONT_SIZE, LATIN_FONT))


def _head(statement: CustomerStatement) -> list[Flowable]:
    body = _style("body", FONT_SIZE)
    facts = [
        ("holder", statement.holder_name),
        ("card", statement.card_number_masked),
        ("account", statement.account_id),
        ("statement_date", statement.statement_date.isoformat()),
        ("period", f"{statement.period_start.isoformat()} - {statement.statement_date}"),
        ("due_date", statement.due_date.isoformat()),
    ]
    rows = [[Paragraph(_label(key), body), _figure_or_text(value)] for key, value in facts]
    table = Table(rows, colWidths=[60 * mm, 100 * mm], hAlign="LEFT")
    table.setStyle(_GRID)
    return [Paragraph(_label("title"), _style("title", 16)), Spacer(1, 4 * mm), table]


def _figure_or_text(value: str) -> Paragraph:
    if value.isascii():
        return _figure(value)
    return Paragraph(value, _style("text", FONT_SIZE))


def _summary(statement: CustomerStatement) -> list[Flowable]:
    body = _style("body", FONT_SIZE)
    rows = [[Paragraph(f"{zh} {en}", body), _figure(amount)]
            for zh, en, amount in summary_rows(statement)]  # fmt: skip
    table = Table(rows, colWidths=[80 * mm, 40 * mm], hAlign="LEFT")
    table.setStyle(_GRID)
    table.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    return [Paragraph(_label("summary"), _style("h2", 12)), Spacer(1, 2 * mm), table]


def _lines(statement: CustomerStatement) -> list[Flowable]:
    body = _style("body", FONT_SIZE)
    heading = [Paragraph(_label("lines"), _style("h2", 12)), Spacer(1, 2 * mm)]
    rows_in = line_rows(statement)
    if not rows_in:
        return [*heading, Paragraph(_label("no_lines"), body)]
    header: list[Flowable] = [
        Paragraph(_label(k), body) for k in ("date", "kind", "description", "amount")
    ]
    rows: list[list[Flowable]] = [header]
    for day, kind_zh, kind_en, text, amount in rows_in:
        rows.append([_figure(day), Paragraph(f"{kind_zh} {kind_en}", body),
                     _figure_or_text(text), _figure(amount)])  # fmt: skip
    table = Table(rows, colWidths=[24 * mm, 36 * mm, 80 * mm, 30 * mm], repeatRows=1)
    table.setStyle(_GRID)
    table.setStyle(TableStyle([("ALIGN", (3, 1), (3, -1), "RIGHT")]))
    note = Paragraph(_label("sign_note"), _style("note", 7))
    return [*heading, table, Spacer(1, 2 * mm), note]


def build_pdf(target: BinaryIO, statement: CustomerStatement) -> None:
    """Draw ``statement`` into ``target`` as a PDF."""
    _register_font()
    doc = SimpleDocTemplate(
        target,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{HEADINGS['title'][1]} {statement.account_id} {statement.statement_date}",
        author="cardbatch",
        invariant=True,
    )
    story: list[Flowable] = [
        *_head(statement),
        Spacer(1, 6 * mm),
        *_summary(statement),
        Spacer(1, 6 * mm),
        *_lines(statement),
    ]
    doc.build(story)
