"""A parsed file's header (everything of a :class:`BatchFile` but its rows) as JSON, and
rows as the tuples the store keeps, so that return files can be rebuilt from the store
exactly as the payfiles layer would render them from the original file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from cardbatch.payfiles.model import BatchFile, BatchRow

RAW_FIELD_SEPARATOR = "|"  # pipe fields were split on it, so none contains it
_STORED_FIELDS = 11  # line_no .. unit_no: stored as they are, in the row's own order


def header_json(batch: BatchFile) -> str:
    """Every field of ``batch`` except its rows, as one JSON document."""
    header = batch._asdict()
    del header["rows"]
    header["batch_date"] = batch.batch_date.isoformat() if batch.batch_date else None
    header["summary_fields"] = list(batch.summary_fields)
    return json.dumps(header, ensure_ascii=False, sort_keys=True)


def batch_from_header(text: str, rows: Sequence[BatchRow]) -> BatchFile:
    """The :class:`BatchFile` that :func:`header_json` saw, with ``rows``."""
    header: dict[str, Any] = json.loads(text)
    batch_date = header.pop("batch_date")
    summary_fields = header.pop("summary_fields")
    return BatchFile(
        **header,
        batch_date=date.fromisoformat(batch_date) if batch_date else None,
        summary_fields=tuple(summary_fields),
        rows=tuple(rows),
    )


def row_tuple(batch_id: int, row_no: int, row: BatchRow, pre_reason: str | None) -> tuple[Any, ...]:
    """A row in the store's column order (``paybatch_repo.ROW_COLUMNS``)."""
    raw = RAW_FIELD_SEPARATOR.join(row.fields) if row.fields else None
    return (batch_id, row_no, *row[:_STORED_FIELDS], raw, pre_reason)


def row_from_store(values: Sequence[Any]) -> BatchRow:
    """A :class:`BatchRow` from ``line_no .. raw_fields`` as ``rows_and_results`` reads them
    (the signing date may come as ISO text, from SQLite's driver)."""
    signed_on, raw = values[8], values[11]
    if isinstance(signed_on, str):
        signed_on = date.fromisoformat(signed_on)
    fields = tuple(raw.split(RAW_FIELD_SEPARATOR)) if raw is not None else ()
    return BatchRow._make((*values[:8], signed_on, values[9], values[10], fields))
