"""Return files (回盘): a success file and a failure file in the input's format and encoding,
each with the per-row result (成功 / 户名不符 / ...) and ISO reason code plus its count and sum;
a pain.002.001.03 status report instead when the input was ISO 20022.

CSV and XLSX text cells that a spreadsheet would run as a formula (= + - @ ...) are neutralised
with a leading ``'``. Everything is rendered before anything is written, and each file is
written through a temporary file and a rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from cardbatch.gcpause import gc_paused
from cardbatch.payfiles import pain002, pipe, tabular, textio
from cardbatch.payfiles.model import BatchFile, RowResult

_SUFFIX = {"pipe": ".txt", "csv": ".csv", "xlsx": ".xlsx"}


class ReturnSummary(NamedTuple):
    """Counts and sums of the success and failure files."""

    success_count: int
    success_total_fen: int
    failure_count: int
    failure_total_fen: int


def summarize(results: Sequence[RowResult]) -> ReturnSummary:
    """Counts and sums of successful and failed rows."""
    success = [result.row.amount_fen for result in results if result.ok]
    failure = [result.row.amount_fen for result in results if not result.ok]
    return ReturnSummary(len(success), sum(success), len(failure), sum(failure))


def _check_results(batch: BatchFile, results: Sequence[RowResult]) -> None:
    """Every row has exactly one result, in file order (a programmer error otherwise)."""
    if len(results) != len(batch.rows):
        raise ValueError(f"{len(results)} results for {len(batch.rows)} rows")
    for row, result in zip(batch.rows, results, strict=True):
        if result.row.line_no != row.line_no:
            raise ValueError(f"result for line {result.row.line_no} where {row.line_no} expected")


def render_returns(
    batch: BatchFile, results: Sequence[RowResult], created_at: datetime
) -> dict[str, bytes]:
    """The return files of ``batch`` by file name (nothing written)."""
    _check_results(batch, results)
    stem = Path(batch.source_name).stem
    if batch.format in ("pain.001", "pain.008"):
        return {f"{stem}.pain002.xml": pain002.render_status_report(batch, results, created_at)}
    suffix = Path(batch.source_name).suffix if batch.format == "pipe" else ""
    suffix = suffix or _SUFFIX[batch.format]
    success = [result for result in results if result.ok]
    failure = [result for result in results if not result.ok]
    return {
        f"{stem}.success{suffix}": _render_part(batch, success, created_at),
        f"{stem}.failure{suffix}": _render_part(batch, failure, created_at),
    }


def _render_part(batch: BatchFile, results: Sequence[RowResult], created_at: datetime) -> bytes:
    if batch.format == "pipe":
        return _render_pipe(batch, results)
    grid = tabular.return_grid(batch.header_lang or "zh", results)
    if batch.format == "csv":
        return tabular.render_csv(grid, batch.encoding, batch.newline)
    return tabular.render_xlsx(grid, created_at)


def _render_pipe(batch: BatchFile, results: Sequence[RowResult]) -> bytes:
    total_fen = sum(result.row.amount_fen for result in results)
    lines = [pipe.join_fields(pipe.summary_fields(batch.summary_fields, len(results), total_fen))]
    separator = pipe.SEPARATOR
    lines.extend(
        separator.join(
            (
                *(result.row.fields or pipe.detail_fields(result.row)),
                result.reason_cn,
                result.iso_code,
                "",
            )
        )
        for result in results
    )
    return pipe.encode_lines(lines, batch.newline, batch.encoding)


def write_returns(
    batch_file: BatchFile,
    results: Sequence[RowResult],
    out_dir: Path,
    *,
    created_at: datetime | None = None,
) -> list[Path]:
    """Write the return files of ``batch_file`` into ``out_dir``; return their paths.

    ``results`` holds one :class:`RowResult` per row in file order. ``created_at`` stamps
    pain.002 CreDtTm and XLSX document dates (default: now, UTC).
    """
    stamp = created_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with gc_paused():
        rendered = render_returns(batch_file, results, stamp)
    paths = []
    for name, data in rendered.items():
        path = Path(out_dir) / name
        textio.write_atomic(path, data)
        paths.append(path)
    return paths
