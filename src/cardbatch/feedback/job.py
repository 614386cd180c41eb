"""The ``corrections`` job: approved reversals and waivers posted on the engine.

Items are the corrections approved (or already posted) for the run's business
date, in id order, keyed ``c<id>``; a correction stays in the list once posted,
so a resumed run lists the same items. Each posts one journal entry,
``reversal:<key>`` or ``waiver:<key>``, referencing the original; an entry
already in the ledger is skipped with ``already_posted``. Running the job again
(``--rerun``), or after a crash, never posts a correction twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import Connection, select

from cardbatch.engine.job import Item, ItemOutcome, Job, JobContext, Step, skipped, succeeded
from cardbatch.engine.monitor import RunReport
from cardbatch.engine.registry import get_job, register
from cardbatch.engine.runner import AlreadyCompleted, OnChunk, RunRequest, run_job
from cardbatch.engine.settings import EngineSettings, load_settings
from cardbatch.feedback.corrections import correction_entry
from cardbatch.feedback.model import CorrectionKind, CorrectionStatus
from cardbatch.feedback.service import read_original
from cardbatch.store import Store
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_feedback import corrections

JOB_NAME = "corrections"
_LISTED = (CorrectionStatus.APPROVED.value, CorrectionStatus.POSTED.value)


def list_corrections(conn: Connection, ctx: JobContext) -> list[Item]:
    c = corrections.c
    rows = conn.execute(
        select(c.correction_id)
        .where(c.business_date == ctx.business_date, c.status.in_(_LISTED))
        .order_by(c.correction_id)
    )
    return [Item(f"c{cid:010d}", int(cid)) for (cid,) in rows]


def post_corrections(conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> list[ItemOutcome]:
    outcomes = []
    for item in chunk:
        row = conn.execute(
            select(corrections).where(corrections.c.correction_id == item.payload)
        ).one()
        posted = conn.execute(
            select(journal_entries.c.entry_id).where(
                journal_entries.c.idempotency_key == row.entry_key
            )
        ).first()
        if posted is not None:
            outcomes.append(skipped(item, "already_posted", row.entry_key))
            continue
        original = read_original(conn, row.target_key)
        entry = correction_entry(CorrectionKind(row.kind), original, ctx.business_date, ctx.run_id)
        conn.execute(
            corrections.update()
            .where(corrections.c.correction_id == item.payload)
            .values(status=CorrectionStatus.POSTED.value, run_id=ctx.run_id)
        )
        outcomes.append(succeeded(item, entry, abs(row.amount_fen), tally=row.kind))
    return outcomes


CORRECTIONS_JOB = register(
    Job(
        JOB_NAME,
        "Post approved corrections (reversals and waivers) from upheld feedback.",
        (Step("post", list_corrections, post_corrections),),
    )
)


def run_corrections(
    store: Store,
    business_date: date,
    actor: str,
    settings: EngineSettings | None = None,
    on_chunk: OnChunk | None = None,
) -> RunReport:
    """Post the date's approved corrections on the engine (resuming an unfinished run).

    When the date's run already completed and more corrections were approved
    since, a rerun lists them all again; those posted before are skipped.
    """
    request = RunRequest(get_job(JOB_NAME), business_date, {}, actor, settings or load_settings())
    try:
        return run_job(store, request, on_chunk)
    except AlreadyCompleted:
        if not _unposted(store, business_date):
            raise
        return run_job(store, replace(request, rerun=True), on_chunk)


def _unposted(store: Store, business_date: date) -> bool:
    c = corrections.c
    with store.read() as conn:
        found = conn.execute(
            select(c.correction_id).where(
                c.business_date == business_date, c.status == CorrectionStatus.APPROVED.value
            )
        ).first()
    return found is not None
