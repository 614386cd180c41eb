"""Answering a customer: what happened to the entries a feedback record concerns.

For each linked entry: the journal entry and its postings, the run that posted
it (job, date, status), the engine's item result (status, reason, amount), the
rule-set version in force for the card's product on that day, and the
corrections that reference it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from cardbatch.feedback.service import FeedbackRecord, load_record
from cardbatch.rules.versions import version_in_force
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts, journal_entries, postings
from cardbatch.store.tables_engine import item_results, job_runs


@dataclass(frozen=True)
class EntryStory:
    entry_key: str
    entry_id: int
    business_date: date
    kind: str
    description: str
    reference_key: str | None
    postings: list[dict[str, Any]]
    run: dict[str, Any] | None
    item: dict[str, Any] | None
    rule_version: str | None
    corrected_by: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    feedback: FeedbackRecord
    entries: list[EntryStory]


def explain(store: Store, feedback_id: int) -> Explanation:
    with store.read() as conn:
        record = load_record(conn, feedback_id)
        product = conn.execute(
            select(card_accounts.c.product_code).where(
                card_accounts.c.account_id == record.account_id
            )
        ).scalar_one_or_none()
        stories = [_story(conn, link.entry_key, product) for link in record.links]
    return Explanation(record, stories)


def _story(conn: Connection, key: str, product: str | None) -> EntryStory:
    je = journal_entries.c
    head = conn.execute(select(journal_entries).where(je.idempotency_key == key)).one()
    legs = [
        {"account_id": a, "component": c, "amount_fen": amount}
        for a, c, amount in conn.execute(
            select(postings.c.account_id, postings.c.component, postings.c.amount_fen)
            .where(postings.c.entry_id == head.entry_id)
            .order_by(postings.c.posting_id)
        )
    ]
    version = version_in_force(conn, product, head.business_date) if product else None
    corrected = [
        {"entry_key": r.idempotency_key, "kind": r.kind, "business_date": r.business_date,
         "run_id": r.run_id}
        for r in conn.execute(
            select(journal_entries).where(je.reference_key == key).order_by(je.entry_id)
        )
    ]  # fmt: skip
    return EntryStory(
        key, head.entry_id, head.business_date, head.kind, head.description, head.reference_key,
        legs, _run(conn, head.run_id), _item(conn, head.entry_id),
        version.label if version is not None else None, corrected,
    )  # fmt: skip


def _run(conn: Connection, run_id: str | None) -> dict[str, Any] | None:
    if run_id is None:
        return None
    row = conn.execute(select(job_runs).where(job_runs.c.run_id == run_id)).first()
    if row is None:
        return {"run_id": run_id}
    return {"run_id": run_id, "job": row.job_name, "business_date": row.business_date,
            "status": row.status, "rerun_no": row.rerun_no}  # fmt: skip


def _item(conn: Connection, entry_id: int) -> dict[str, Any] | None:
    """The first engine item (by run) that holds the entry: the one that posted it."""
    ir = item_results.c
    row = conn.execute(
        select(item_results).where(ir.entry_id == entry_id).order_by(ir.run_id).limit(1)
    ).first()
    if row is None:
        return None
    return {"run_id": row.run_id, "step": row.step_name, "item_key": row.item_key,
            "status": row.status, "reason_code": row.reason_code,
            "amount_fen": row.amount_fen, "message": row.message}  # fmt: skip
