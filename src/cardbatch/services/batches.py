"""Payment batches (payroll, fee collection) as the console shows them and acts on them.

Over :mod:`cardbatch.paybatch` (the functions ``cardbatch payroll|collect|batch`` call):
a batch's view masks the party's account number and scrubs free text unless the role
sees personal data; approval checks maker-checker with the console's rule (names
compared case-insensitively) before paybatch's own check; a submitted upload is
checked as the CLI checks a file; return files are rebuilt from the store into a
folder the caller owns.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from cardbatch import paybatch
from cardbatch.domain.masking import mask_card
from cardbatch.domain.redact import redact_text
from cardbatch.domain.roles import Action, Role, allowed, check_maker_checker
from cardbatch.paybatch import BatchStatus, BatchSummary, RunOutcome, SubmitOutcome
from cardbatch.payfiles.files import FormatChoice
from cardbatch.payfiles.model import Kind
from cardbatch.store import Store

KINDS: tuple[Kind, ...] = ("payroll", "collection")
_RUNNABLE = frozenset({BatchStatus.APPROVED, BatchStatus.RUNNING})
_WITH_RETURNS = frozenset({BatchStatus.COMPLETED, BatchStatus.REJECTED})


@dataclass(frozen=True)
class Upload:
    """A file a user sent, already stored under a generated name, and what they said of it."""

    path: Path
    kind: Kind
    party_account: str
    business_date: date
    fmt: FormatChoice = "auto"
    declared_count: int | None = None
    declared_total_fen: int | None = None
    allow_date: bool = False


@dataclass(frozen=True)
class BatchView:
    summary: BatchSummary  # party account masked and free text scrubbed unless unmasked
    may_approve: bool = False  # for the viewing user: role, status and maker-checker
    may_run: bool = False
    may_download: bool = False


def _masked(summary: BatchSummary, unmasked: bool) -> BatchSummary:
    if unmasked:
        return summary
    reason = summary.reject_reason
    return replace(
        summary,
        party_account=mask_card(summary.party_account),
        source_name=redact_text(summary.source_name),
        reject_reason=redact_text(reason) if reason else reason,
    )


def _is_submitter(summary: BatchSummary, user_name: str) -> bool:
    return summary.submitted_by.strip().casefold() == user_name.strip().casefold()


def view_for(summary: BatchSummary, user_name: str, role: Role, unmasked: bool) -> BatchView:
    """The batch as ``user_name`` (``role``) sees it, with the actions open to them."""
    status = BatchStatus(summary.status)
    return BatchView(
        _masked(summary, unmasked),
        may_approve=allowed(role, Action.BATCHES_APPROVE)
        and status is BatchStatus.VALIDATED
        and not _is_submitter(summary, user_name),
        may_run=allowed(role, Action.BATCHES_RUN) and status in _RUNNABLE,
        may_download=allowed(role, Action.BATCHES_DOWNLOAD) and status in _WITH_RETURNS,
    )


def list_batches(
    store: Store, rows_max: int, unmasked: bool, status: str | None = None, kind: str | None = None
) -> list[BatchSummary]:
    """The newest batches first (no per-reason results)."""
    found = paybatch.list_batches(store, status, kind, rows_max)
    return [_masked(s, unmasked) for s in found]


def show(store: Store, batch_id: int, user_name: str, role: Role, unmasked: bool) -> BatchView:
    """One batch with its results per reason and what the user may do with it."""
    return view_for(paybatch.show(store, batch_id), user_name, role, unmasked)


def submit_upload(store: Store, upload: Upload, actor: str) -> SubmitOutcome:
    """Check an uploaded file as a whole and record it as a validated or rejected batch."""
    request = paybatch.SubmitRequest(
        path=upload.path, kind=upload.kind, party_account=upload.party_account,
        business_date=upload.business_date, fmt=upload.fmt,
        declared_count=upload.declared_count, declared_total_fen=upload.declared_total_fen,
        allow_date=upload.allow_date,
    )  # fmt: skip
    return paybatch.submit(store, request, actor)


def approve(store: Store, batch_id: int, approver: str) -> BatchSummary:
    """Approve a validated batch; raises ``MakerCheckerViolation`` for its own submitter."""
    check_maker_checker(paybatch.show(store, batch_id).submitted_by, approver)
    return paybatch.approve(store, batch_id, approver)


def run(store: Store, batch_id: int, actor: str) -> RunOutcome:
    """Run (or resume) an approved batch to completion."""
    return paybatch.run_batch(store, batch_id, actor)


def write_returns_zip(store: Store, batch_id: int, work_dir: Path) -> Path:
    """The batch's return files (回盘), rebuilt from the store, in one zip under ``work_dir``.

    The files are stamped with the batch's completion time, so the same batch always
    gives the same file names and contents.
    """
    folder = work_dir / "returns"
    paths = paybatch.write_batch_returns(store, batch_id, folder).paths
    completed_at = paybatch.show(store, batch_id).completed_at
    stamp = (completed_at or datetime(1980, 1, 1)).timetuple()[:6]
    target = work_dir / f"batch-{batch_id}-returns.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(paths):
            entry = zipfile.ZipInfo(path.name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, path.read_bytes())
    return target
