"""Debit mandates (授权): a payer's permission for a biller to collect from a deposit account.

A collection row succeeds only if an active mandate exists for (biller account, payer
account). Mandates are added one by one or imported from a CSV with the columns
``biller_account,payer_account,mandate_id,signed_on`` (``signed_on`` YYYY-MM-DD, may be
empty). An import is all or nothing: any bad line refuses the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from cardbatch.domain.masking import mask_card
from cardbatch.paybatch.model import PaybatchError
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store import paybatch_repo as repo
from cardbatch.store.paybatch_repo import MandateRecord

MANDATE_COLUMNS = ("biller_account", "payer_account", "mandate_id", "signed_on")
MANDATE_FILE_ROWS_MAX = 1_000_000
ACCOUNT_CHARS_MAX = 40


class MandateError(PaybatchError):
    """A mandate or mandate file that cannot be recorded."""


def add_mandate(
    store: Store,
    biller: str,
    payer: str,
    actor: str,
    mandate_ref: str = "",
    signed_on: date | None = None,
) -> MandateRecord:
    """Record one active mandate; refuses a second one for the same biller and payer."""
    record = MandateRecord(biller, payer, mandate_ref, signed_on, "active")
    _save(store, [record], actor, f"{biller}->{payer}")
    return record


def import_mandates(store: Store, path: Path, actor: str) -> list[MandateRecord]:
    """Record every mandate of a CSV file, or none."""
    records = parse_mandates(path.read_bytes(), path.name)
    _save(store, records, actor, path.name)
    return records


def parse_mandates(data: bytes, source: str) -> list[MandateRecord]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MandateError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    if tuple(header) != MANDATE_COLUMNS:
        raise MandateError(f"{source}:1: header must be {','.join(MANDATE_COLUMNS)}")
    records, seen = [], set()
    for line_no, cells in enumerate(reader, 2):
        if not any(cell.strip() for cell in cells):
            continue
        record = _record(cells, source, line_no)
        if (record.biller_account, record.payer_account) in seen:
            raise MandateError(f"{source}:{line_no}: the same biller and payer appear twice")
        seen.add((record.biller_account, record.payer_account))
        records.append(record)
        if len(records) > MANDATE_FILE_ROWS_MAX:
            raise MandateError(f"{source}: more than {MANDATE_FILE_ROWS_MAX} mandates")
    return records


def _record(cells: list[str], source: str, line_no: int) -> MandateRecord:
    if len(cells) != len(MANDATE_COLUMNS):
        raise MandateError(f"{source}:{line_no}: needs {len(MANDATE_COLUMNS)} fields")
    biller, payer, ref, signed = (cell.strip() for cell in cells)
    for field, value in (("biller_account", biller), ("payer_account", payer)):
        if not value or len(value) > ACCOUNT_CHARS_MAX:
            raise MandateError(f"{source}:{line_no}: {field} must be 1..{ACCOUNT_CHARS_MAX} chars")
    try:
        signed_on = date.fromisoformat(signed) if signed else None
    except ValueError:
        raise MandateError(f"{source}:{line_no}: signed_on {signed!r} is not YYYY-MM-DD") from None
    return MandateRecord(biller, payer, ref, signed_on, "active")


def _save(store: Store, records: Sequence[MandateRecord], actor: str, subject: str) -> None:
    with store.write() as conn:
        pairs = [(r.biller_account, r.payer_account) for r in records]
        existing = repo.existing_mandates(conn, pairs)
        if existing:
            biller, payer = sorted(existing)[0]
            raise MandateError(
                f"a mandate for biller {biller} and payer {mask_card(payer)} already exists"
            )
        repo.insert_mandates(conn, records, actor, utc_now())
        audit.record(conn, actor, "mandate.add", subject, mandates=len(records))


def list_mandates(
    store: Store, biller: str | None = None, rows_max: int = 1000
) -> list[MandateRecord]:
    with store.read() as conn:
        return repo.list_mandates(conn, biller, rows_max)
