"""Feedback use cases: record, link to batch items, investigate, resolve, approve, explain.

A feedback record is tied to the journal entries it concerns, found in the
account's transaction details (or named by the agent), and through them to
the engine's run and item result. Resolving a dispute as upheld proposes
corrections (reversal or waiver of an entry); a different user must approve
each one (maker-checker) before the ``corrections`` job posts it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from cardbatch.domain.ledger import Posting
from cardbatch.feedback.corrections import (
    Original,
    account_amount_fen,
    check_correctable,
    correction_key,
)
from cardbatch.feedback.model import (
    CATEGORY_ENTRY_KINDS,
    RESOLUTION_LEN_MAX,
    TEXT_LEN_MAX,
    Category,
    Channel,
    CorrectionKind,
    CorrectionStatus,
    FeedbackError,
    Status,
    check_move,
    check_text,
)
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts, deposit_accounts, journal_entries, postings
from cardbatch.store.tables_engine import item_results
from cardbatch.store.tables_feedback import corrections, feedback, feedback_links

LINKS_MAX = 20
LOOKBACK_DAYS = 62
FEEDBACK_LISTED_MAX = 10_000


@dataclass(frozen=True)
class Link:
    entry_key: str
    entry_id: int
    run_id: str | None
    step_name: str | None
    item_key: str | None


@dataclass(frozen=True)
class Correction:
    correction_id: int
    feedback_id: int
    kind: str
    target_key: str
    entry_key: str
    account_id: str
    amount_fen: int
    business_date: date
    status: str
    requested_by: str
    approved_by: str | None
    run_id: str | None


@dataclass(frozen=True)
class FeedbackRecord:
    feedback_id: int
    account_id: str
    channel: str
    category: str
    text: str
    status: str
    business_date: date
    resolution: str | None
    resolved_by: str | None
    created_by: str
    links: list[Link] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)


# ----------------------------------------------------------------------------- recording


def add_feedback(
    store: Store,
    *,
    account_id: str,
    channel: Channel,
    category: Category,
    text: str,
    business_date: date,
    actor: str,
    entry_keys: Sequence[str] = (),
) -> FeedbackRecord:
    """Record feedback and link it to the entries it concerns (named, or found by category)."""
    body = check_text(text, "text", TEXT_LEN_MAX)
    now = utc_now()
    with store.write() as conn:
        _require_account(conn, account_id)
        links = (
            _named_links(conn, account_id, entry_keys)
            if entry_keys
            else find_links(conn, account_id, category, business_date)
        )
        feedback_id = conn.execute(
            feedback.insert()
            .values(account_id=account_id, channel=channel.value, category=category.value,
                    text=body, status=Status.OPEN.value, business_date=business_date,
                    created_by=actor, created_at=now)
            .returning(feedback.c.feedback_id)
        ).scalar_one()  # fmt: skip
        if links:
            conn.execute(
                feedback_links.insert(), [{"feedback_id": feedback_id, **vars(k)} for k in links]
            )
        audit.record(conn, actor, "feedback.add", f"feedback:{feedback_id}",
                     account_id=account_id, category=category.value, links=len(links))  # fmt: skip
        return load_record(conn, feedback_id)


def _require_account(conn: Connection, account_id: str) -> None:
    for table in (card_accounts, deposit_accounts):
        found = conn.execute(
            select(table.c.account_id).where(table.c.account_id == account_id)
        ).first()
        if found is not None:
            return
    raise FeedbackError(f"no card or deposit account {account_id!r}")


def find_links(conn: Connection, account_id: str, category: Category, on: date) -> list[Link]:
    """The account's entries this category is usually about, in the last ``LOOKBACK_DAYS``.

    For a double debit: only entries that repeat another (same kind, day and amount).
    """
    kinds = CATEGORY_ENTRY_KINDS[category]
    if not kinds:
        return []
    je, p = journal_entries.c, postings.c
    rows = conn.execute(
        select(je.idempotency_key, je.entry_id, je.kind, je.business_date,
               func.sum(p.amount_fen))
        .join_from(postings, journal_entries, p.entry_id == je.entry_id)
        .where(p.account_id == account_id, je.kind.in_(sorted(kinds)))
        .where(je.business_date.between(on - timedelta(days=LOOKBACK_DAYS), on))
        .group_by(je.idempotency_key, je.entry_id, je.kind, je.business_date)
        .order_by(je.entry_id.desc())
    ).all()  # fmt: skip
    if category is Category.DOUBLE_DEBIT:
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for row in rows:
            groups[(row[2], row[3], row[4])].append(row)
        rows = [row for group in groups.values() if len(group) > 1 for row in group]
    chosen = sorted(rows, key=lambda r: r[1])[-LINKS_MAX:]
    return _with_items(conn, [(key, entry_id) for key, entry_id, *_ in chosen])


def _named_links(conn: Connection, account_id: str, entry_keys: Sequence[str]) -> list[Link]:
    if len(entry_keys) > LINKS_MAX:
        raise FeedbackError(f"at most {LINKS_MAX} entries per feedback")
    found = []
    for key in entry_keys:
        original = read_original(conn, key)
        if not any(p.account_id == account_id for p in original.postings):
            raise FeedbackError(f"entry {key} does not touch account {account_id}")
        found.append((key, _entry_id(conn, key)))
    return _with_items(conn, found)


def _with_items(conn: Connection, keyed: list[tuple[str, int]]) -> list[Link]:
    """Each entry with the engine run and item that posted it, where the engine recorded one."""
    if not keyed:
        return []
    ir = item_results.c
    items = {
        entry_id: (run_id, step, item)
        for entry_id, run_id, step, item in conn.execute(
            select(ir.entry_id, ir.run_id, ir.step_name, ir.item_key).where(
                ir.entry_id.in_([entry_id for _, entry_id in keyed]), ir.status == "succeeded"
            )
        )
    }
    runs = dict(
        conn.execute(
            select(journal_entries.c.idempotency_key, journal_entries.c.run_id).where(
                journal_entries.c.idempotency_key.in_([k for k, _ in keyed])
            )
        ).all()
    )
    links = []
    for key, entry_id in keyed:
        run_id, step, item = items.get(entry_id, (runs.get(key), None, None))
        links.append(Link(key, entry_id, run_id, step, item))
    return links


def _entry_id(conn: Connection, key: str) -> int:
    entry_id = conn.execute(
        select(journal_entries.c.entry_id).where(journal_entries.c.idempotency_key == key)
    ).scalar_one_or_none()
    if entry_id is None:
        raise FeedbackError(f"no journal entry with key {key!r}")
    return int(entry_id)


def read_original(conn: Connection, key: str) -> Original:
    """The journal entry under ``key`` with its postings, as a correction's source."""
    je = journal_entries.c
    head = conn.execute(
        select(je.entry_id, je.kind, je.description).where(je.idempotency_key == key)
    ).first()
    if head is None:
        raise FeedbackError(f"no journal entry with key {key!r}")
    legs = conn.execute(
        select(postings.c.account_id, postings.c.component, postings.c.amount_fen)
        .where(postings.c.entry_id == head.entry_id)
        .order_by(postings.c.posting_id)
    ).all()
    return Original(key, head.kind, head.description, tuple(Posting(*leg) for leg in legs))


# ----------------------------------------------------------------------------- workflow


def investigate(store: Store, feedback_id: int, actor: str) -> FeedbackRecord:
    with store.write() as conn:
        _move(conn, feedback_id, Status.INVESTIGATING, actor)
        audit.record(conn, actor, "feedback.investigate", f"feedback:{feedback_id}")
        return load_record(conn, feedback_id)


def reject(store: Store, feedback_id: int, resolution: str, actor: str) -> FeedbackRecord:
    text = check_text(resolution, "resolution", RESOLUTION_LEN_MAX)
    with store.write() as conn:
        _move(conn, feedback_id, Status.REJECTED, actor, text)
        audit.record(conn, actor, "feedback.reject", f"feedback:{feedback_id}", resolution=text)
        return load_record(conn, feedback_id)


def resolve(
    store: Store,
    feedback_id: int,
    resolution: str,
    actor: str,
    *,
    corrections_wanted: Sequence[tuple[CorrectionKind, str]] = (),
    business_date: date,
) -> FeedbackRecord:
    """Resolve (uphold) feedback; each (kind, entry key) becomes a correction awaiting approval."""
    text = check_text(resolution, "resolution", RESOLUTION_LEN_MAX)
    now = utc_now()
    with store.write() as conn:
        record = load_record(conn, feedback_id)
        _move(conn, feedback_id, Status.RESOLVED, actor, text)
        for kind, key in corrections_wanted:
            _propose(conn, record, kind, key, business_date, actor, now)
        audit.record(conn, actor, "feedback.resolve", f"feedback:{feedback_id}", resolution=text,
                     corrections=[f"{k.value}:{key}" for k, key in corrections_wanted])  # fmt: skip
        return load_record(conn, feedback_id)


def _propose(
    conn: Connection,
    record: FeedbackRecord,
    kind: CorrectionKind,
    key: str,
    business_date: date,
    actor: str,
    now: datetime,
) -> None:
    original = read_original(conn, key)
    check_correctable(kind, original)
    amount_fen = account_amount_fen(original, record.account_id)
    if not any(p.account_id == record.account_id for p in original.postings):
        raise FeedbackError(f"entry {key} does not touch account {record.account_id}")
    entry_key = correction_key(kind, key)
    for other in (CorrectionKind.REVERSAL, CorrectionKind.WAIVER):
        taken = conn.execute(
            select(corrections.c.correction_id).where(
                corrections.c.entry_key == correction_key(other, key)
            )
        ).first()
        if taken is not None:
            raise FeedbackError(f"entry {key} already has correction {taken[0]}")
    conn.execute(
        corrections.insert().values(
            feedback_id=record.feedback_id, kind=kind.value, target_key=key, entry_key=entry_key,
            account_id=record.account_id, amount_fen=amount_fen, business_date=business_date,
            status=CorrectionStatus.PENDING.value, requested_by=actor, requested_at=now,
        )
    )  # fmt: skip


def approve_correction(store: Store, correction_id: int, actor: str) -> Correction:
    """The checker's approval; the maker (who proposed it) may not approve it."""
    with store.write() as conn:
        row = conn.execute(
            select(corrections).where(corrections.c.correction_id == correction_id)
        ).first()
        if row is None:
            raise FeedbackError(f"no correction {correction_id}")
        if row.status != CorrectionStatus.PENDING:
            raise FeedbackError(f"correction {correction_id} is {row.status}, not pending")
        if row.requested_by == actor:
            raise FeedbackError(
                f"correction {correction_id} was proposed by {actor}; a different user must "
                "approve it"
            )
        conn.execute(
            corrections.update()
            .where(corrections.c.correction_id == correction_id)
            .values(status=CorrectionStatus.APPROVED.value, approved_by=actor,
                    approved_at=utc_now())
        )  # fmt: skip
        audit.record(conn, actor, "correction.approve", f"correction:{correction_id}",
                     entry_key=row.entry_key)  # fmt: skip
        query = select(corrections).where(corrections.c.correction_id == correction_id)
        return _correction(conn.execute(query).one())


def _move(
    conn: Connection, feedback_id: int, target: Status, actor: str, resolution: str | None = None
) -> None:
    current = conn.execute(
        select(feedback.c.status).where(feedback.c.feedback_id == feedback_id)
    ).scalar_one_or_none()
    if current is None:
        raise FeedbackError(f"no feedback {feedback_id}")
    check_move(Status(current), target)
    now = utc_now()
    values: dict[str, Any] = {"status": target.value, "updated_by": actor, "updated_at": now}
    if resolution is not None:
        values.update(resolution=resolution, resolved_by=actor, resolved_at=now)
    conn.execute(feedback.update().where(feedback.c.feedback_id == feedback_id).values(**values))


# ----------------------------------------------------------------------------- reading


def get_feedback(store: Store, feedback_id: int) -> FeedbackRecord:
    with store.read() as conn:
        return load_record(conn, feedback_id)


def list_feedback(
    store: Store, *, status: str | None = None, account_id: str | None = None,
    rows_max: int = FEEDBACK_LISTED_MAX,
) -> list[FeedbackRecord]:  # fmt: skip
    query = select(feedback).order_by(feedback.c.feedback_id).limit(rows_max)
    if status:
        query = query.where(feedback.c.status == status)
    if account_id:
        query = query.where(feedback.c.account_id == account_id)
    with store.read() as conn:
        return [_record(row) for row in conn.execute(query)]


def list_corrections(store: Store, business_date: date | None = None) -> list[Correction]:
    query = select(corrections).order_by(corrections.c.correction_id)
    if business_date is not None:
        query = query.where(corrections.c.business_date == business_date)
    with store.read() as conn:
        return [_correction(row) for row in conn.execute(query)]


def _record(row: Any) -> FeedbackRecord:
    return FeedbackRecord(
        row.feedback_id, row.account_id, row.channel, row.category, row.text, row.status,
        row.business_date, row.resolution, row.resolved_by, row.created_by,
    )  # fmt: skip


def _correction(row: Any) -> Correction:
    return Correction(
        row.correction_id, row.feedback_id, row.kind, row.target_key, row.entry_key,
        row.account_id, row.amount_fen, row.business_date, row.status, row.requested_by,
        row.approved_by, row.run_id,
    )  # fmt: skip


def load_record(conn: Connection, feedback_id: int) -> FeedbackRecord:
    row = conn.execute(select(feedback).where(feedback.c.feedback_id == feedback_id)).first()
    if row is None:
        raise FeedbackError(f"no feedback {feedback_id}")
    record = _record(row)
    fl = feedback_links.c
    record.links.extend(
        Link(r.entry_key, r.entry_id, r.run_id, r.step_name, r.item_key)
        for r in conn.execute(
            select(feedback_links).where(fl.feedback_id == feedback_id).order_by(fl.entry_id)
        )
    )
    record.corrections.extend(
        _correction(r)
        for r in conn.execute(
            select(corrections)
            .where(corrections.c.feedback_id == feedback_id)
            .order_by(corrections.c.correction_id)
        )
    )
    return record
