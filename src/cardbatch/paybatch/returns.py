"""Return files (回盘) of a batch, rebuilt from the store and written by the payfiles layer.

A completed batch gets its success and failure files in the input's format and encoding
(a pain.002 for ISO 20022 input); a rejected ISO 20022 message gets a pain.002 that rejects
the whole group with the rejection's reason code. Files are stamped with the batch's
completion time (UTC), so writing them again gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, RowMapping

from cardbatch.paybatch.batches import require_batch
from cardbatch.paybatch.header import batch_from_header, row_from_store
from cardbatch.paybatch.model import BatchStateError, BatchStatus
from cardbatch.payfiles import ReturnSummary, summarize, write_returns
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
        batch, results = load_results(conn, batch_id, row["file_header"])
    stamp = created_at or _naive_utc(row["completed_at"])
    paths = write_returns(batch, results, out_dir, created_at=stamp)
    return ReturnFiles(batch_id, paths, summarize(results))


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
