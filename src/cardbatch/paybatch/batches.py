"""Reading batches (show, list) and the maker-checker approval."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping

from cardbatch.paybatch.model import (
    LIST_ROWS_MAX,
    BatchNotFound,
    BatchStateError,
    BatchStatus,
    BatchSummary,
    MakerCheckerError,
)
from cardbatch.payfiles.reasons import reason_by_key
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store import paybatch_repo as repo


def approve(store: Store, batch_id: int, actor: str) -> BatchSummary:
    """Approve a validated batch; the approver must not be the user who submitted it."""
    with store.write() as conn:
        row = require_batch(conn, batch_id, lock=True)
        if row["status"] != BatchStatus.VALIDATED:
            raise BatchStateError(
                f"batch {batch_id} is {row['status']}; only a validated batch can be approved"
            )
        if row["submitted_by"] == actor:
            raise MakerCheckerError(
                f"batch {batch_id} was submitted by {actor}; another user must approve it "
                "(maker-checker)"
            )
        repo.update_batch(
            conn,
            batch_id,
            BatchStatus.VALIDATED,
            status=BatchStatus.APPROVED,
            approved_by=actor,
            approved_at=utc_now(),
        )
        audit.record(
            conn,
            actor,
            "paybatch.approve",
            f"paybatch:{batch_id}",
            submitted_by=row["submitted_by"],
        )
    return show(store, batch_id)


def require_batch(conn: Connection, batch_id: int, *, lock: bool = False) -> RowMapping:
    row = repo.lock_batch(conn, batch_id) if lock else repo.get_batch(conn, batch_id)
    if row is None:
        raise BatchNotFound(f"no batch {batch_id}")
    return row


def show(store: Store, batch_id: int) -> BatchSummary:
    """A batch with its totals and, once run, its results per reason."""
    with store.read() as conn:
        row = require_batch(conn, batch_id)
        by_reason = repo.reason_counts(conn, batch_id)
    done = sum(n for n, _ in by_reason.values())
    return _summary(
        row,
        done,
        {
            key: {
                "rows": n,
                "amount_fen": total,
                "reason_cn": reason_by_key(key).reason_cn,
                "iso_code": reason_by_key(key).iso_code,
            }
            for key, (n, total) in by_reason.items()
        },
    )


def list_batches(
    store: Store, status: str | None = None, kind: str | None = None, rows_max: int = 100
) -> list[BatchSummary]:
    """The most recent batches first, at most ``rows_max`` (<= LIST_ROWS_MAX)."""
    with store.read() as conn:
        rows = repo.list_batches(conn, status, kind, min(rows_max, LIST_ROWS_MAX))
    return [_summary(row, 0, {}) for row in rows]


def _summary(
    row: RowMapping, rows_done: int, by_reason: dict[str, dict[str, int | str]]
) -> BatchSummary:
    return BatchSummary(
        batch_id=row["batch_id"],
        kind=row["kind"],
        status=row["status"],
        format=row["format"],
        source_name=row["source_name"],
        party_account=row["party_account"],
        business_date=row["business_date"],
        batch_date=row["batch_date"],
        message_id=row["message_id"],
        row_count=row["row_count"],
        total_fen=row["total_fen"],
        submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"],
        approved_by=row["approved_by"],
        reject_code=row["reject_code"],
        reject_reason=row["reject_reason"],
        success_count=row["success_count"],
        success_total_fen=row["success_total_fen"],
        failure_count=row["failure_count"],
        failure_total_fen=row["failure_total_fen"],
        completed_at=row["completed_at"],
        rows_done=rows_done,
        by_reason=by_reason,
    )
