"""Submitting a payroll or collection file: parse, whole-file checks, store as validated or
rejected with one clear reason.

Whole-file checks, in order (the first failing one is the batch's reason):
1. the file parses (undecodable, malformed, XSD-invalid ... are payfiles problems);
2. the employer's/biller's account is the settlement account of an enterprise of that kind,
   and active;
3. the same content (SHA-256) or the same message id from the same party was not accepted
   before (``duplicate_file``; a known message id with other content is
   ``duplicate_message_id``);
4. the payfiles checks: rows present, header date = business date (unless ``allow_date``),
   unit number and party account, count and sum against the control totals;
5. for payroll, the employer's balance covers the file's total (``insufficient_funds``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cardbatch.domain.records import DepositStatus, EnterpriseKind
from cardbatch.gcpause import gc_paused
from cardbatch.money import format_fen
from cardbatch.paybatch import model
from cardbatch.paybatch.header import header_json, row_tuple
from cardbatch.paybatch.model import BatchStatus, Rejection
from cardbatch.paybatch.rules import pre_reasons
from cardbatch.payfiles import CheckContext, FileError, check_file, parse_batch_file
from cardbatch.payfiles.files import FormatChoice
from cardbatch.payfiles.model import BatchFile, Kind
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store import paybatch_repo as repo

ROWS_INSERT_CHUNK = 50_000
_PARTY_KIND = {"payroll": EnterpriseKind.EMPLOYER, "collection": EnterpriseKind.BILLER}


@dataclass(frozen=True)
class SubmitRequest:
    path: Path
    kind: Kind
    party_account: str
    business_date: date
    fmt: FormatChoice = "auto"
    declared_count: int | None = None
    declared_total_fen: int | None = None
    allow_date: bool = False
    amount_fen_max_per_row: int = model.SETTINGS["amount_fen_max_per_row"][0]


@dataclass(frozen=True)
class SubmitOutcome:
    batch_id: int
    status: BatchStatus
    row_count: int
    total_fen: int
    rejection: Rejection | None = None


def submit(store: Store, request: SubmitRequest, actor: str) -> SubmitOutcome:
    """Check a file as a whole and record it as a validated or a rejected batch."""
    try:
        with gc_paused():  # a row object per line, up to millions, none in a cycle
            batch = parse_batch_file(
                request.path,
                request.kind,
                request.fmt,
                declared_count=request.declared_count,
                declared_total_fen=request.declared_total_fen,
            )
            pre = pre_reasons(batch.rows, request.amount_fen_max_per_row)
    except FileError as exc:
        first = exc.problems[0]
        return _reject_unparsed(
            store, request, actor, Rejection(first.code, str(exc), first.iso_code)
        )
    try:
        with store.write() as conn:
            rejection = _whole_file_rejection(conn, request, batch)
            batch_id = _insert_batch(conn, request, batch, actor, rejection)
            if rejection is None:
                _insert_rows(conn, batch_id, batch, pre)
            _audit_submit(conn, actor, batch_id, request, batch, rejection)
    except IntegrityError:
        # Another submission of the same file won the race between our check and insert.
        with store.write() as conn:
            rejection = _duplicate_rejection(conn, request, batch) or Rejection(
                model.DUPLICATE_FILE, "the same file was accepted concurrently", "DUPL"
            )
            batch_id = _insert_batch(conn, request, batch, actor, rejection)
            _audit_submit(conn, actor, batch_id, request, batch, rejection)
    status = BatchStatus.REJECTED if rejection else BatchStatus.VALIDATED
    return SubmitOutcome(batch_id, status, len(batch.rows), batch.total_fen, rejection)


def message_key(kind: str, party_account: str, message_id: str) -> str:
    """The unique key of an ISO 20022 message id: per kind and sending party."""
    return f"{kind}:{party_account}:{message_id}"


def _whole_file_rejection(
    conn: Connection, request: SubmitRequest, batch: BatchFile
) -> Rejection | None:
    party = repo.party_account(conn, request.party_account)
    expected_kind = _PARTY_KIND[request.kind]
    if party.status is None or party.enterprise_kind != expected_kind:
        return Rejection(
            model.UNKNOWN_PARTY,
            f"{request.party_account} is not the settlement account of a registered "
            f"{expected_kind}",
            "NARR",
        )
    if party.status != DepositStatus.ACTIVE:
        return Rejection(
            model.PARTY_INACTIVE,
            f"{expected_kind} account {party.account_id} is {party.status}",
            "AC06" if party.status == DepositStatus.FROZEN else "AC04",
        )
    duplicate = _duplicate_rejection(conn, request, batch)
    if duplicate is not None:
        return duplicate
    context = CheckContext(
        business_date=request.business_date,
        allow_date=request.allow_date,
        unit_no=party.unit_no,
        party_account=request.party_account,
    )
    problems = check_file(batch, context)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Rejection(problems[0].code, f"{problems[0]}{more}", problems[0].iso_code)
    available_fen = -party.balance_fen
    if request.kind == "payroll" and available_fen < batch.total_fen:
        return Rejection(
            model.INSUFFICIENT_FUNDS,
            f"employer account {party.account_id} holds {format_fen(available_fen)}, "
            f"the file pays out {format_fen(batch.total_fen)}",
            "AM04",
        )
    return None


def _duplicate_rejection(
    conn: Connection, request: SubmitRequest, batch: BatchFile
) -> Rejection | None:
    earlier = repo.accepted_with_hash(conn, batch.content_sha256)
    if earlier is not None:
        return Rejection(
            model.DUPLICATE_FILE, f"the same file was already submitted as batch {earlier}", "DUPL"
        )
    if batch.message_id:
        key = message_key(request.kind, request.party_account, batch.message_id)
        earlier = repo.accepted_with_message(conn, key)
        if earlier is not None:
            return Rejection(
                model.DUPLICATE_MESSAGE_ID,
                f"message id {batch.message_id!r} was already used by batch {earlier} "
                "with different content",
                "DUPL",
            )
    return None


def _batch_values(request: SubmitRequest, actor: str) -> dict[str, Any]:
    return {
        "kind": request.kind,
        "party_account": request.party_account,
        "business_date": request.business_date,
        "amount_fen_max_per_row": request.amount_fen_max_per_row,
        "submitted_by": actor,
        "submitted_at": utc_now(),
    }


def _insert_batch(
    conn: Connection,
    request: SubmitRequest,
    batch: BatchFile,
    actor: str,
    rejection: Rejection | None,
) -> int:
    accepted = rejection is None
    key = message_key(request.kind, request.party_account, batch.message_id or "")
    return repo.insert_batch(
        conn,
        {
            **_batch_values(request, actor),
            "status": BatchStatus.VALIDATED if accepted else BatchStatus.REJECTED,
            "format": batch.format,
            "source_name": batch.source_name,
            "content_sha256": batch.content_sha256,
            "message_id": batch.message_id,
            "batch_date": batch.batch_date,
            "row_count": len(batch.rows),
            "total_fen": batch.total_fen,
            "file_header": header_json(batch),
            "reject_code": rejection.code if rejection else None,
            "reject_reason": rejection.reason if rejection else None,
            "reject_iso_code": rejection.iso_code if rejection else None,
            "accepted_sha256": batch.content_sha256 if accepted else None,
            "accepted_message_key": key if accepted and batch.message_id else None,
        },
    )


def _insert_rows(conn: Connection, batch_id: int, batch: BatchFile, pre: list[str | None]) -> None:
    rows = batch.rows
    with gc_paused():  # many acyclic tuples: no collector passes over them
        for start in range(0, len(rows), ROWS_INSERT_CHUNK):
            stop = min(start + ROWS_INSERT_CHUNK, len(rows))
            repo.insert_rows(
                conn, [row_tuple(batch_id, i + 1, rows[i], pre[i]) for i in range(start, stop)]
            )


def _reject_unparsed(
    store: Store, request: SubmitRequest, actor: str, rejection: Rejection
) -> SubmitOutcome:
    """Record a file that could not even be parsed (its hash from the raw bytes)."""
    sha256 = _file_sha256(request.path)
    with store.write() as conn:
        batch_id = repo.insert_batch(
            conn,
            {
                **_batch_values(request, actor),
                "status": BatchStatus.REJECTED,
                "source_name": request.path.name,
                "content_sha256": sha256,
                "row_count": 0,
                "total_fen": 0,
                "file_header": "{}",
                "reject_code": rejection.code,
                "reject_reason": rejection.reason,
                "reject_iso_code": rejection.iso_code,
            },
        )
        audit.record(
            conn,
            actor,
            "paybatch.submit",
            f"paybatch:{batch_id}",
            kind=request.kind,
            status=BatchStatus.REJECTED,
            reject_code=rejection.code,
        )
    return SubmitOutcome(batch_id, BatchStatus.REJECTED, 0, 0, rejection)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _audit_submit(
    conn: Connection,
    actor: str,
    batch_id: int,
    request: SubmitRequest,
    batch: BatchFile,
    rejection: Rejection | None,
) -> None:
    audit.record(
        conn,
        actor,
        "paybatch.submit",
        f"paybatch:{batch_id}",
        kind=request.kind,
        source=batch.source_name,
        rows=len(batch.rows),
        total_fen=batch.total_fen,
        status=BatchStatus.REJECTED if rejection else BatchStatus.VALIDATED,
        reject_code=rejection.code if rejection else None,
    )
