"""The files of an issuance batch, written from the store so that a re-run rewrites them alike.

- ``emboss_<batch>.txt`` for the card bureau: full data (card number, name,
  expiry, address, phone), pipe-delimited UTF-8 with a header and a trailer
  line, created with mode 0600 and never printed or logged.
- ``result_<batch>.csv`` for operators: one line per application of the batch
  (every outcome), personal data masked.

Both are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select

from cardbatch.domain.masking import mask_card, mask_name, mask_phone, mask_ric
from cardbatch.issuance.numbers import embossed_expiry
from cardbatch.money import format_fen
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_apps import applications, issued_cards

EMBOSS_MODE = 0o600
RESULT_COLUMNS = (
    "application_id",
    "line_no",
    "name",
    "id_number",
    "phone",
    "product",
    "status",
    "reason_codes",
    "score",
    "credit_limit",
    "card_number",
    "account_id",
    "statement_day",
)


def emboss_path(out_dir: Path, batch_id: str) -> Path:
    return out_dir / f"emboss_{batch_id}.txt"


def result_path(out_dir: Path, batch_id: str) -> Path:
    return out_dir / f"result_{batch_id}.csv"


def write_batch_files(
    store: Store, batch_id: str, business_date: date, out_dir: Path
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    emboss = emboss_path(out_dir, batch_id)
    result = result_path(out_dir, batch_id)
    with store.read() as conn:
        cards = conn.execute(
            select(
                issued_cards.c.card_number,
                issued_cards.c.expiry_month,
                issued_cards.c.account_id,
                applications.c.name,
                applications.c.phone,
                applications.c.address,
                applications.c.product_code,
            )
            .join(applications, applications.c.application_id == issued_cards.c.application_id)
            .where(issued_cards.c.batch_id == batch_id)
            .order_by(applications.c.seq)
        ).all()
        outcomes = conn.execute(
            select(applications, card_accounts.c.card_number, card_accounts.c.statement_day)
            .outerjoin(card_accounts, card_accounts.c.account_id == applications.c.card_account_id)
            .where(applications.c.batch_id == batch_id)
            .order_by(applications.c.seq)
        ).all()
    lines = [f"H|{batch_id}|{business_date:%Y%m%d}|{len(cards)}"]
    lines += [
        f"D|{c.card_number}|{_field(c.name)}|{embossed_expiry(c.expiry_month)}|{c.product_code}"
        f"|{c.phone}|{_field(c.address)}|{c.account_id}"
        for c in cards
    ]
    lines.append(f"T|{len(cards)}")
    _write_private(emboss, "\n".join(lines) + "\n")
    _write_private(result, _result_csv(outcomes))
    return emboss, result


def _field(text: str) -> str:
    """A free-text field without the delimiter or line breaks."""
    return " ".join(text.replace("|", " ").split())


def _result_csv(rows: Sequence[Row[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for r in rows:
        m = r._mapping
        limit = "" if m["credit_limit_fen"] is None else format_fen(m["credit_limit_fen"])
        writer.writerow(
            [
                m["application_id"],
                m["line_no"],
                mask_name(m["name"]),
                mask_ric(m["id_number"]),
                mask_phone(m["phone"]),
                m["product_code"],
                m["status"],
                m["reason_codes"],
                "" if m["score"] is None else m["score"],
                limit,
                mask_card(m["card_number"]) if m["card_number"] else "",
                m["card_account_id"] or "",
                m["statement_day"] or "",
            ]
        )
    return buffer.getvalue()


def _write_private(path: Path, text: str) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, EMBOSS_MODE)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
