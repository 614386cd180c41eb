"""The ``post-transactions`` job: the card switch's daily file posted to the ledger, chunked.

Input: ``<inbox>/transactions_YYYYMMDD.csv`` (UTF-8, comma-separated, header
``txn_id,account_id,kind,amount,business_date,description``; amount in yuan,
``1234.56``). Each line is an item (key ``line000002`` = its line number).
A line becomes a journal entry keyed ``txn:<txn_id>`` (the switch keeps its
ids unique), so the file can be posted again by any path without double
posting. Payments are allocated against the card's balances as they stand,
line by line in file order.

Reason codes of failed lines: ``bad_txn_id``, ``bad_kind``, ``bad_amount``,
``date_mismatch``, ``unknown_account``, ``account_closed``, ``duplicate_txn``
(an earlier line of the file has the same id), ``card_blocked`` and ``card_frozen`` (a
purchase or cash advance on a card the delinquency status actions blocked or froze;
refunds and payments on such cards post). Lines whose entry is already in the
ledger are skipped with ``already_posted``. The run writes
``rejects.csv`` with every failed line and its reason.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, select

from cardbatch.domain.ledger import JournalEntry
from cardbatch.domain.transactions import (
    TxnKind,
    spending_refusal,
    transaction_entry,
    transaction_key,
)
from cardbatch.engine.job import (
    Item,
    ItemOutcome,
    Job,
    JobContext,
    OutputFile,
    Step,
    StepInputError,
    failed,
    skipped,
    succeeded,
)
from cardbatch.engine.registry import register
from cardbatch.money import parse_yuan
from cardbatch.store.tables import balances, card_accounts, journal_entries
from cardbatch.store.tables_engine import item_results

JOB_NAME = "post-transactions"
HEADER = ("txn_id", "account_id", "kind", "amount", "business_date", "description")
FILE_BYTES_MAX = 512 * 1024 * 1024
LINES_MAX = 5_000_000
TXN_ID_LEN_MAX = 64
CLOSED_STATUSES = frozenset({"closed", "charged_off"})


@dataclass(frozen=True)
class Line:
    line_no: int
    fields: dict[str, str]
    first_line_no: int  # the first line of the file with this txn_id (itself if none before)


def transaction_file(inbox: Path, business_date: date) -> Path:
    return inbox / f"transactions_{business_date:%Y%m%d}.csv"


def write_transaction_file(path: Path, rows: Iterable[Sequence[str]]) -> int:
    """Write a transaction file in the job's format (used by the demo and tests)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return count


def list_lines(_conn: Connection, ctx: JobContext) -> list[Item]:
    path = transaction_file(ctx.settings.inbox_dir, ctx.business_date)
    if not path.is_file():
        raise StepInputError(f"{path}: transaction file for {ctx.business_date} not found")
    if path.stat().st_size > FILE_BYTES_MAX:
        raise StepInputError(f"{path}: larger than {FILE_BYTES_MAX} bytes")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StepInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise StepInputError(f"{path}, line 1: header must be {','.join(HEADER)}, got {header}")
    items = []
    first_line_of: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if line_no > LINES_MAX:
            raise StepInputError(f"{path}: more than {LINES_MAX} lines")
        padded = [*row, *([""] * len(HEADER))][: len(HEADER)]
        fields = dict(zip(HEADER, (c.strip() for c in padded), strict=True))
        first = first_line_of.setdefault(fields["txn_id"], line_no)
        items.append(Item(f"line{line_no:07d}", Line(line_no, fields, first)))
    return items


def process_lines(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> list[ItemOutcome]:
    lines = [item.payload for item in chunk]
    accounts = _card_statuses(conn, {ln.fields["account_id"] for ln in lines})
    held = _card_balances(conn, set(accounts))
    txn_keys = [transaction_key(ln.fields["txn_id"]) for ln in lines]
    posted = _posted_keys(conn, txn_keys)
    outcomes: list[ItemOutcome] = []
    for item, line in zip(chunk, lines, strict=True):
        outcome = _one_line(ctx, item, line, accounts, held, posted)
        if outcome.entry is not None:
            for posting in outcome.entry.postings:
                if posting.account_id in held:
                    card = held[posting.account_id]
                    card[posting.component] = card.get(posting.component, 0) + posting.amount_fen
        outcomes.append(outcome)
    return outcomes


def _one_line(
    ctx: JobContext,
    item: Item,
    line: Line,
    accounts: dict[str, str],
    held: dict[str, dict[str, int]],
    posted: set[str],
) -> ItemOutcome:
    f = line.fields
    txn_id, account_id = f["txn_id"], f["account_id"]
    if not txn_id or len(txn_id) > TXN_ID_LEN_MAX:
        return failed(item, "bad_txn_id", f"line {line.line_no}: txn_id {txn_id!r}")
    if line.first_line_no != line.line_no:
        where = f"line {line.line_no}: txn_id {txn_id} repeats line {line.first_line_no}"
        return failed(item, "duplicate_txn", where)
    try:
        kind = TxnKind(f["kind"])
    except ValueError:
        return failed(item, "bad_kind", f"line {line.line_no}: kind {f['kind']!r}")
    try:
        amount_fen = parse_yuan(f["amount"])
    except ValueError:
        return failed(item, "bad_amount", f"line {line.line_no}: amount {f['amount']!r}")
    if amount_fen <= 0:
        return failed(item, "bad_amount", f"line {line.line_no}: amount {f['amount']!r}")
    if f["business_date"] != ctx.business_date.isoformat():
        return failed(item, "date_mismatch", f"line {line.line_no}: date {f['business_date']!r}",
                      amount_fen)  # fmt: skip
    if account_id not in accounts:
        return failed(item, "unknown_account", f"line {line.line_no}: account {account_id!r}",
                      amount_fen)  # fmt: skip
    if accounts[account_id] in CLOSED_STATUSES:
        return failed(item, "account_closed", f"line {line.line_no}: account {account_id} is "
                      f"{accounts[account_id]}", amount_fen)  # fmt: skip
    if transaction_key(txn_id) in posted:
        return skipped(item, "already_posted", f"txn {txn_id} is already in the ledger")
    refusal = spending_refusal(kind, accounts[account_id])
    if refusal is not None:
        return failed(item, refusal, f"line {line.line_no}: account {account_id} is "
                      f"{accounts[account_id]}: no new {kind.value}", amount_fen)  # fmt: skip
    entry: JournalEntry = transaction_entry(
        txn_id, account_id, kind, amount_fen, ctx.business_date, f["description"],
        held.setdefault(account_id, {}), ctx.run_id,
    )  # fmt: skip
    return succeeded(item, entry, amount_fen, tally=kind.value)


def _card_statuses(conn: Connection, account_ids: set[str]) -> dict[str, str]:
    c = card_accounts.c
    ids = sorted(a for a in account_ids if a)
    query = select(c.account_id, c.status).where(c.account_id.in_(ids))
    return {a: s for a, s in conn.execute(query)} if ids else {}


def _card_balances(conn: Connection, account_ids: set[str]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = defaultdict(dict)
    if not account_ids:
        return found
    b = balances.c
    query = select(b.account_id, b.component, b.balance_fen).where(
        b.account_id.in_(sorted(account_ids))
    )
    for account_id, component, amount_fen in conn.execute(query):
        found[account_id][component] = amount_fen
    return found


def _posted_keys(conn: Connection, keys: list[str]) -> set[str]:
    je = journal_entries.c
    query = select(je.idempotency_key).where(je.idempotency_key.in_(keys))
    return set(conn.execute(query).scalars()) if keys else set()


def rejects_file(conn: Connection, ctx: JobContext) -> list[OutputFile]:
    r = item_results.c
    query = (
        select(r.item_key, r.reason_code, r.amount_fen, r.message)
        .where(r.run_id == ctx.run_id, r.status == "failed")
        .order_by(r.seq)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("line", "reason_code", "amount_fen", "message"))
    rows = 0
    for item_key, reason, amount_fen, message in conn.execute(query):
        writer.writerow((int(item_key.removeprefix("line")), reason, amount_fen, message or ""))
        rows += 1
    return [OutputFile("rejects.csv", buffer.getvalue(), rows)]


JOB = register(
    Job(
        name=JOB_NAME,
        description="Post the card switch's transaction file of the business date.",
        steps=(Step("post", list_lines, process_lines),),
        night_order=10,
        outputs=rejects_file,
    )
)
