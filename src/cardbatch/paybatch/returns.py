"""Return files (回盘) of a batch, rebuilt from the store and written by the payfiles layer.

A completed batch gets its success and failure files in the input's format and encoding
(a pain.002 for ISO 20022 input); a rejected ISO 20022 message gets a pain.002 that rejects
the whole group with the rejection's reason code. Files are stamped with the batch's
completion time (UTC), so writing them again gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, RowMapping

from cardbatch.paybatch.batches import require_batch
from cardbatch.paybatch.header import batch_from_header, row_from_store
from cardbatch.paybatch.model import BatchStateError, BatchStatus
from cardbatch.payfiles import ReturnSummary, pipe, summarize, write_returns
from cardbatch.payfiles.iso20022 import MESSAGE_NAMES
from cardbatch.payfiles.model import BatchFile, BatchRow, FileProblem, RowResult
from cardbatch.payfiles.pain002 import render_group_rejection
from cardbatch.payfiles.reasons import SUCCESS, Reason, reason_by_key
from cardbatch.payfiles.textio import write_atomic
from cardbatch.store import Store
from cardbatch.store import paybatch_repo as repo


@dataclass(frozen=True)
class ReturnFiles:
    batch_id: int
    paths: list[Path]
    summary: ReturnSummary


def write_batch_returns(
    store: Store, batch_id: int, out_dir: Path, *, created_at: datetime | None = None
) -> ReturnFiles:
    """Write the return files of a completed (or rejected ISO 20022) batch into ``out_dir``."""
    with store.read() as conn:
        row = require_batch(conn, batch_id)
        status = row["status"]
        if status == BatchStatus.REJECTED:
            return _group_rejection(row, out_dir, created_at)
        if status != BatchStatus.COMPLETED:
            raise BatchStateError(
                f"batch {batch_id} is {status}; return files need a completed run"
            )
        header = json.loads(row["file_header"])
        if header["format"] == "pipe":
            rendered = pipe_returns(conn, batch_id, header)
            if rendered is not None:
                return _write(batch_id, out_dir, *rendered)
        batch, results = load_results(conn, batch_id, row["file_header"])
    stamp = created_at or _naive_utc(row["completed_at"])
    paths = write_returns(batch, results, out_dir, created_at=stamp)
    return ReturnFiles(batch_id, paths, summarize(results))


_PIPE_RESULTS_SQL = (
    "SELECT r.raw_fields, r.amount_fen, res.status, res.reason_key"
    " FROM paybatch_rows r JOIN paybatch_results res"
    " ON res.batch_id = r.batch_id AND res.row_no = r.row_no"
    " WHERE r.batch_id = ? ORDER BY r.row_no"
)
_PIPE_RESULTS_SCHEMA = {
    "raw_fields": pl.String, "amount_fen": pl.Int64, "status": pl.String,
    "reason_key": pl.String,
}  # fmt: skip


def pipe_returns(
    conn: Connection, batch_id: int, header: dict[str, Any]
) -> tuple[dict[str, bytes], ReturnSummary] | None:
    """The success and failure files of a pipe batch, built column-wise from the store: each
    line is the row's raw fields, its result in Chinese and its ISO code, as
    :func:`cardbatch.payfiles.write_returns` renders them (a test compares the bytes).
    None when a row has no raw fields (the general path then builds them)."""
    frame = pl.DataFrame(
        repo.raw_fetchall(conn, _PIPE_RESULTS_SQL, (batch_id,)),
        schema=_PIPE_RESULTS_SCHEMA,
        orient="row",
    )
    if frame["raw_fields"].null_count():
        return None
    keys = frame["reason_key"].unique().to_list()
    reason_cn = {key: reason_by_key(key).reason_cn for key in keys}
    iso = {key: reason_by_key(key).iso_code for key in keys}
    ok = pl.col("status") == "success"
    sep = pipe.SEPARATOR
    lines = frame.select(
        ok.alias("ok"),
        "amount_fen",
        pl.concat_str(
            pl.col("raw_fields"),
            pl.when(ok).then(pl.lit(SUCCESS.reason_cn))
            .otherwise(pl.col("reason_key").replace_strict(reason_cn, return_dtype=pl.String)),
            pl.when(ok).then(pl.lit(SUCCESS.iso_code))
            .otherwise(pl.col("reason_key").replace_strict(iso, return_dtype=pl.String)),
            pl.lit(""),
            separator=sep,
        ).alias("line"),
    )  # fmt: skip
    stem = Path(header["source_name"]).stem
    suffix = Path(header["source_name"]).suffix or ".txt"
    files, totals = {}, []
    for part, wanted in (("success", True), ("failure", False)):
        rows = lines.filter(pl.col("ok") == wanted)
        total_fen = int(rows["amount_fen"].sum())
        summary = pipe.join_fields(pipe.summary_fields(header["summary_fields"], rows.height,
                                                       total_fen))  # fmt: skip
        files[f"{stem}.{part}{suffix}"] = pipe.encode_lines(
            [summary, *rows["line"].to_list()], header["newline"], header["encoding"]
        )
        totals += [rows.height, total_fen]
    return files, ReturnSummary(*totals)


def _write(
    batch_id: int, out_dir: Path, files: dict[str, bytes], summary: ReturnSummary
) -> ReturnFiles:
    paths = []
    for name, data in files.items():
        path = Path(out_dir) / name
        write_atomic(path, data)
        paths.append(path)
    return ReturnFiles(batch_id, paths, summary)


def load_results(conn: Connection, batch_id: int, header: str) -> tuple[BatchFile, list[RowResult]]:
    """The batch's :class:`BatchFile` and one :class:`RowResult` per row, in file order."""
    rows: list[BatchRow] = []
    results: list[RowResult] = []
    success_cn, success_iso = SUCCESS.reason_cn, SUCCESS.iso_code
    reasons: dict[str, Reason] = {}
    make_result = RowResult._make
    for values in repo.rows_and_results(conn, batch_id):
        row = row_from_store(values)
        status, key = values[12], values[13]
        assert status is not None, f"batch {batch_id} row at line {row.line_no} has no result"
        rows.append(row)
        if status == "success":
            results.append(make_result((row, "success", success_cn, success_iso)))
        else:
            reason = reasons.get(key) or reasons.setdefault(key, reason_by_key(key))
            results.append(make_result((row, "failed", reason.reason_cn, reason.iso_code)))
    return batch_from_header(header, rows), results


def _group_rejection(row: RowMapping, out_dir: Path, created_at: datetime | None) -> ReturnFiles:
    fmt, message_id = row["format"], row["message_id"]
    if fmt not in MESSAGE_NAMES or not message_id:
        raise BatchStateError(
            f"batch {row['batch_id']} was rejected: {row['reject_reason']}; only an ISO 20022 "
            "message gets a return file for a rejection"
        )
    problem = FileProblem(
        row["source_name"],
        None,
        "file",
        "",
        row["reject_reason"] or "",
        row["reject_code"] or "",
        row["reject_iso_code"] or "FF01",
    )
    stamp = created_at or _naive_utc(row["submitted_at"])
    data = render_group_rejection(
        original_message_id=message_id,
        original_message_name=MESSAGE_NAMES[fmt],
        problem=problem,
        created_at=stamp,
        original_count=row["row_count"],
        original_total_fen=row["total_fen"],
    )
    path = Path(out_dir) / f"{Path(row['source_name']).stem}.pain002.xml"
    write_atomic(path, data)
    return ReturnFiles(
        row["batch_id"], [path], ReturnSummary(0, 0, row["row_count"], row["total_fen"])
    )


def _naive_utc(moment: datetime | None) -> datetime:
    """A stored timestamp as naive UTC to the second (SQLite returns naive datetimes)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)
