"""Render a :class:`~cardbatch.statements.read.CustomerStatement` as HTML or PDF.

Labels and display rows come from :mod:`cardbatch.statements.labels`, shared by
both formats. HTML comes from the Jinja2 template ``templates/statement.html``
(autoescaped); the PDF from :mod:`cardbatch.statements.pdf`. A statement names
its holder: :func:`write_statement` creates the file with mode 0600.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from cardbatch.statements.labels import HEADINGS, line_rows, summary_rows
from cardbatch.statements.pdf import build_pdf
from cardbatch.statements.read import CustomerStatement

FORMATS: tuple[str, ...] = ("html", "pdf")
FILE_MODE = 0o600

_ENV = Environment(
    loader=PackageLoader("cardbatch.statements", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


def render_html(statement: CustomerStatement) -> str:
    """The statement as one self-contained HTML page."""
    template = _ENV.get_template("statement.html")
    return template.render(
        s=statement,
        h=HEADINGS,
        summary=summary_rows(statement),
        lines=line_rows(statement),
    )


def render_pdf(statement: CustomerStatement) -> bytes:
    """The statement as an A4 PDF (reportlab; CJK text in the CID font STSong-Light)."""
    buffer = io.BytesIO()
    build_pdf(buffer, statement)
    return buffer.getvalue()


def render(statement: CustomerStatement, format_: str) -> bytes:
    """The statement in ``format_`` (one of :data:`FORMATS`) as bytes (HTML in UTF-8)."""
    if format_ == "html":
        return render_html(statement).encode("utf-8")
    if format_ == "pdf":
        return render_pdf(statement)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format_!r}")


def write_statement(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path``, readable and writable by its owner only (0600).

    The file is created with that mode (never world-readable, even for a moment);
    an existing file is truncated and its mode set to 0600 as well.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(content)
    finally:
        if fd >= 0:
            os.close(fd)
