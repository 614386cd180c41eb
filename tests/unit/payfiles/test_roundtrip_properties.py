"""Property tests: what a format renders, it parses back to the same rows and totals."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from cardbatch.payfiles import pipe, tabular
from cardbatch.payfiles.model import BatchFile, BatchRow

_text = st.text(
    alphabet=st.sampled_from(list("张王李赵客户工资费ABCxyz0123456789 ,\"'=+-@.")), max_size=10
).map(str.strip)
_pipe_text = _text.filter(bool)


def _safe_start(text: str) -> str:
    """Text a spreadsheet would not run (neutralisation is tested elsewhere)."""
    return f"x{text}" if text else text


@st.composite
def batches(draw: st.DrawFn, fmt: str, encoding: str) -> BatchFile:
    count = draw(st.integers(min_value=1, max_value=15))
    rows = tuple(
        BatchRow(
            line_no=0,
            seq=f"{index + 1:02d}",
            name=draw(_pipe_text.map(_safe_start)),
            account=draw(st.from_regex(r"[0-9]{10,19}", fullmatch=True)),
            amount_fen=draw(st.integers(min_value=1, max_value=10**12)),
            memo=draw(_text.map(_safe_start)) if fmt == "csv" else "",
            unit_no="1046" if fmt == "pipe" else "",
        )
        for index in range(count)
    )
    return BatchFile(
        kind="payroll",
        format="pipe" if fmt == "pipe" else "csv",
        encoding=encoding,
        source_name="gen",
        content_sha256="",
        batch_date=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))),
        unit_no="1046",
        message_id=None,
        declared_count=None,
        declared_total_fen=None,
        rows=rows,
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        header_lang=draw(st.sampled_from(["zh", "en"])),
    )


@given(batches("pipe", "gbk"))
def test_pipe_round_trip(batch: BatchFile) -> None:
    data = pipe.render(batch)
    parsed = pipe.parse(data, source="gen", kind="payroll")
    assert parsed.batch_date == batch.batch_date
    assert (parsed.declared_count, parsed.declared_total_fen) == (len(batch.rows), batch.total_fen)
    got = [(r.seq, r.name, r.account, r.amount_fen) for r in parsed.rows]
    assert got == [(r.seq, r.name, r.account, r.amount_fen) for r in batch.rows]
    assert parsed.newline == batch.newline
    assert pipe.render(parsed) == data


@given(batches("csv", "utf-8"))
def test_csv_round_trip(batch: BatchFile) -> None:
    grid = tabular.input_grid(batch)
    data = tabular.render_csv(grid, batch.encoding, batch.newline)
    parsed = tabular.parse_csv(data, source="gen.csv", kind="payroll")
    assert parsed.header_lang == batch.header_lang
    assert parsed.batch_date == batch.batch_date
    got = [(r.name, r.account, r.amount_fen, r.memo) for r in parsed.rows]
    assert got == [(r.name, r.account, r.amount_fen, r.memo) for r in batch.rows]
    assert (parsed.declared_count, parsed.declared_total_fen) == (len(batch.rows), batch.total_fen)
