"""The Chinese pipe format (代发/代扣 text files): parse, validate, render.

As one city-bank core system writes it (DOMAIN.md, "Batch payment files")::

    1|1|20090906|1046|1|1|2|600.00|        summary: ...|batch date|unit no|...|count|total|
    01|客户01|300.00|1000123800020|1046|1|1|01|   detail: seq|name|amount|account|unit no|...

GBK or UTF-8 (auto-detected), LF or CRLF. Every line ends with ``|``; the fields after the
unit number are kept as they are and echoed in the return files. Blank lines are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from cardbatch.gcpause import gc_paused
from cardbatch.money import format_fen
from cardbatch.payfiles import textio
from cardbatch.payfiles.model import (
    ERRORS_MAX,
    FIELD_CHARS_MAX,
    ROWS_MAX,
    BatchFile,
    BatchRow,
    FileError,
    FileProblem,
    Kind,
    file_error,
)

SEPARATOR = "|"
SUMMARY_FIELDS_MIN = 8
DETAIL_FIELDS_MIN = 5
# Positions in the summary line.
SUMMARY_DATE, SUMMARY_UNIT, SUMMARY_COUNT, SUMMARY_TOTAL = 2, 3, 6, 7
# Positions in a detail line.
DETAIL_SEQ, DETAIL_NAME, DETAIL_AMOUNT, DETAIL_ACCOUNT, DETAIL_UNIT = 0, 1, 2, 3, 4


def split_fields(line: str) -> list[str]:
    """The fields of one line, without the closing ``|`` and line end."""
    fields = line.rstrip("\r\n").split(SEPARATOR)
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def join_fields(fields: Sequence[str]) -> str:
    """One line of the format (without line end): every field followed by ``|``."""
    return "".join(f"{field}{SEPARATOR}" for field in fields)


def looks_like_pipe(text: str) -> bool:
    """True when the first non-blank line is pipe-separated (more ``|`` than ``,``)."""
    first_line = text.lstrip().split("\n", 1)[0]
    return first_line.count(SEPARATOR) > max(first_line.count(","), 1)


def parse(
    data: bytes,
    *,
    source: str,
    kind: Kind,
    declared_count: int | None = None,
    declared_total_fen: int | None = None,
) -> BatchFile:
    """Parse a pipe file; raise :class:`FileError` listing every structural problem."""
    text, encoding = textio.decode_text(data, source)
    with gc_paused():
        return _parse_text(text, data, encoding, source, kind, declared_count, declared_total_fen)


def _parse_text(
    text: str,
    data: bytes,
    encoding: str,
    source: str,
    kind: Kind,
    declared_count: int | None,
    declared_total_fen: int | None,
) -> BatchFile:
    lines = _numbered_lines(text)
    if not lines:
        raise file_error(source, None, "file", "", "file is empty", "empty")
    if len(lines) - 1 > ROWS_MAX:
        raise file_error(
            source,
            None,
            "rows",
            str(len(lines) - 1),
            f"more than {ROWS_MAX} rows",
            "too_many_rows",
        )
    problems: list[FileProblem] = []
    summary_no, summary_line = lines[0]
    summary = _parse_summary(summary_no, split_fields(summary_line), source, problems)
    rows = _parse_details(lines[1:], source, problems)
    count = textio.merge_declared(summary.row_count, declared_count, "count", source, problems)
    total = textio.merge_declared(summary.total_fen, declared_total_fen, "total", source, problems)
    if problems:
        raise FileError(problems)
    return BatchFile(
        kind=kind,
        format="pipe",
        encoding=encoding,
        source_name=source,
        content_sha256=textio.sha256_hex(data),
        batch_date=summary.batch_date,
        unit_no=summary.unit_no,
        message_id=None,
        declared_count=count,
        declared_total_fen=total,
        rows=rows,
        newline=textio.detect_newline(text),
        summary_fields=tuple(split_fields(summary_line)),
    )


def _numbered_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; only LF (and CRLF) end a line."""
    numbered = []
    for line_no, line in enumerate(text.split("\n"), 1):
        if line.strip():
            numbered.append((line_no, line[:-1] if line.endswith("\r") else line))
    return numbered


def _parse_details(
    lines: Sequence[tuple[int, str]], source: str, problems: list[FileProblem]
) -> tuple[BatchRow, ...]:
    """Detail rows; well-formed lines take a fast path, others the checking path."""
    rows = []
    fen_of = textio.plain_yuan_fen
    chars_max = FIELD_CHARS_MAX
    for line_no, line in lines:
        fields = line.split(SEPARATOR)
        if fields[-1] == "":
            fields.pop()
        if len(fields) >= DETAIL_FIELDS_MIN:
            seq, name, account = fields[0].strip(), fields[1].strip(), fields[3].strip()
            amount_fen = fen_of(fields[DETAIL_AMOUNT])
            if (
                amount_fen is not None
                and 0 < len(seq) <= chars_max
                and 0 < len(name) <= chars_max
                and 0 < len(account) <= chars_max
            ):
                unit_no = fields[DETAIL_UNIT].strip()
                row = BatchRow(
                    line_no,
                    seq,
                    name,
                    account,
                    amount_fen,
                    "",
                    "",
                    "",
                    None,
                    "",
                    unit_no,
                    tuple(fields),
                )
                rows.append(row)
                continue
        rows.append(_parse_detail(line_no, fields, source, problems))
        if len(problems) >= ERRORS_MAX:
            break
    return tuple(rows)


class _Summary(NamedTuple):
    batch_date: date | None
    unit_no: str
    row_count: int
    total_fen: int


def _parse_summary(
    line_no: int, fields: list[str], source: str, problems: list[FileProblem]
) -> _Summary:
    if len(fields) < SUMMARY_FIELDS_MIN:
        raise file_error(
            source,
            line_no,
            "summary",
            f"{len(fields)} fields",
            f"summary line needs {SUMMARY_FIELDS_MIN} fields, found {len(fields)}",
            "bad_summary",
        )
    batch_date = textio.parse_compact_date(fields[SUMMARY_DATE], source, line_no, problems)
    unit_no = textio.check_text(fields[SUMMARY_UNIT], "unit_no", source, line_no, problems)
    count = textio.parse_count(fields[SUMMARY_COUNT], source, line_no, problems)
    total_fen = textio.parse_amount(fields[SUMMARY_TOTAL], source, line_no, problems, "total")
    return _Summary(batch_date, unit_no, count, total_fen)


def _parse_detail(
    line_no: int, fields: list[str], source: str, problems: list[FileProblem]
) -> BatchRow:
    if len(fields) < DETAIL_FIELDS_MIN:
        problems.append(
            textio.problem(
                source,
                line_no,
                "detail",
                f"{len(fields)} fields",
                f"detail line needs {DETAIL_FIELDS_MIN} fields, found {len(fields)}",
                "bad_detail",
            )
        )
        return BatchRow(line_no, "", "", "", 0)
    return BatchRow(
        line_no=line_no,
        seq=textio.check_text(fields[DETAIL_SEQ], "seq", source, line_no, problems),
        name=textio.check_text(fields[DETAIL_NAME], "name", source, line_no, problems),
        account=textio.check_text(fields[DETAIL_ACCOUNT], "account", source, line_no, problems),
        amount_fen=textio.parse_amount(fields[DETAIL_AMOUNT], source, line_no, problems),
        unit_no=fields[DETAIL_UNIT].strip(),
        fields=tuple(fields),
    )


def validate(batch: BatchFile) -> list[FileProblem]:
    """Format rules beyond parsing: every detail line carries the summary's unit number."""
    problems = []
    for row in batch.rows:
        if row.unit_no != batch.unit_no:
            problems.append(
                textio.problem(
                    batch.source_name,
                    row.line_no,
                    "unit_no",
                    row.unit_no,
                    f"detail unit number differs from the summary's {batch.unit_no!r}",
                    "unit_mismatch",
                    "NARR",
                )
            )
            if len(problems) >= ERRORS_MAX:
                break
    return problems


def summary_fields(template: Sequence[str], count: int, total_fen: int) -> list[str]:
    """The summary fields of ``template`` with the count and total replaced."""
    fields = list(template)
    fields[SUMMARY_COUNT] = str(count)
    fields[SUMMARY_TOTAL] = format_fen(total_fen, grouping=False)
    return fields


def detail_fields(row: BatchRow) -> list[str]:
    """The detail fields of a row: its raw fields, or built from the row's values."""
    if row.fields:
        return list(row.fields)
    amount = format_fen(row.amount_fen, grouping=False)
    return [row.seq, row.name, amount, row.account, row.unit_no]


def render(batch: BatchFile) -> bytes:
    """The pipe file for ``batch`` (used to generate fixtures and to round-trip)."""
    fields = batch.summary_fields or _default_summary(batch)
    count = batch.declared_count if batch.declared_count is not None else len(batch.rows)
    total_fen = batch.declared_total_fen
    lines = [join_fields(summary_fields(fields, count, total_fen or batch.total_fen))]
    lines.extend(join_fields(detail_fields(row)) for row in batch.rows)
    return encode_lines(lines, batch.newline, batch.encoding)


def _default_summary(batch: BatchFile) -> list[str]:
    batch_date = batch.batch_date.strftime("%Y%m%d") if batch.batch_date else ""
    return ["1", "1", batch_date, batch.unit_no or "", "1", "1", "0", "0.00"]


def encode_lines(lines: Sequence[str], newline: str, encoding: str) -> bytes:
    """Lines joined with ``newline`` (and a final one) in ``encoding``."""
    return (newline.join(lines) + newline).encode(encoding)
