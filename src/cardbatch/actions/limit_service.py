"""Limit changes as one reviewed batch: propose -> approve -> apply -> (revert).

- ``propose``: one item per target account with its limit before and after;
  the batch id is derived from the date, rule and accounts, so proposing the
  same thing twice gives the same batch. Nothing changes on the accounts.
- ``approve`` / ``reject``: a different user with the approver role.
- ``apply``: only an approved batch; chunk by chunk, each item changes its
  account only if the limit still equals ``before`` (else ``conflict``).
- ``revert``: the applied items go back to ``before`` if still at ``after``.

Every step is idempotent per item: an item's status guards its update.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, insert, select, update

from cardbatch.actions.limits import LimitRule, new_limit, parse_rule
from cardbatch.applications.roles import require_approver
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store, StoreError
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_apps import limit_change_batches, limit_changes

CHUNK_ITEMS_DEFAULT = 500
ELIGIBLE_STATUSES = ("active", "inactive")


class LimitChangeError(StoreError):
    """A limit-change batch in the wrong state, or one that does not exist."""


@dataclass(frozen=True)
class LimitItem:
    account_id: str
    before_fen: int
    after_fen: int
    status: str
    reason: str


@dataclass
class LimitBatch:
    batch_id: str
    rule: str
    business_date: date
    status: str
    created_by: str
    approved_by: str | None
    items: list[LimitItem] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)
    increase_fen: int = 0


def batch_id_for(business_date: date, rule_text: str, account_ids: list[str]) -> str:
    digest = hashlib.sha256("\n".join([rule_text, *sorted(account_ids)]).encode()).hexdigest()
    return f"LC{business_date:%Y%m%d}-{digest[:10]}"


def propose(
    store: Store,
    account_ids: list[str],
    rule_text: str,
    business_date: date,
    actor: str,
    *,
    dry_run: bool = False,
) -> LimitBatch:
    """Compute the proposal for every target account; stored as ``proposed`` unless dry run."""
    rule = parse_rule(rule_text)
    batch_id = batch_id_for(business_date, rule.text, account_ids)
    with store.read() as conn:
        if _batch_row(conn, batch_id) is not None:
            return get_batch(store, batch_id)
        items = _proposals(conn, rule, account_ids)
    batch = LimitBatch(
        batch_id, rule.text, business_date, "dry_run" if dry_run else "proposed", actor, None, items
    )
    _summarise(batch)
    if dry_run:
        return batch
    now = utc_now()
    with store.write() as conn:
        conn.execute(
            insert(limit_change_batches).values(
                batch_id=batch_id,
                rule=rule.text,
                business_date=business_date,
                status="proposed",
                items_total=len(items),
                created_at=now,
                created_by=actor,
            )
        )
        if items:
            conn.execute(
                insert(limit_changes),
                [
                    {
                        "batch_id": batch_id,
                        "account_id": i.account_id,
                        "before_fen": i.before_fen,
                        "after_fen": i.after_fen,
                        "status": i.status,
                        "reason": i.reason,
                    }
                    for i in items
                ],
            )
        audit.record(conn, actor, "limits.propose", batch_id, rule=rule.text, items=len(items))
    return batch


def _proposals(conn: Connection, rule: LimitRule, account_ids: list[str]) -> list[LimitItem]:
    found = {}
    for start in range(0, len(account_ids), CHUNK_ITEMS_DEFAULT):
        part = account_ids[start : start + CHUNK_ITEMS_DEFAULT]
        query = select(
            card_accounts.c.account_id, card_accounts.c.credit_limit_fen, card_accounts.c.status
        ).where(card_accounts.c.account_id.in_(part))
        found.update(
            {r.account_id: (int(r.credit_limit_fen), r.status) for r in conn.execute(query)}
        )
    items = []
    for account_id in account_ids:
        if account_id not in found:
            items.append(LimitItem(account_id, 0, 0, "skipped", "not_found"))
            continue
        before_fen, status = found[account_id]
        if status not in ELIGIBLE_STATUSES:
            items.append(
                LimitItem(account_id, before_fen, before_fen, "skipped", f"status_{status}")
            )
            continue
        after_fen = new_limit(rule, before_fen)
        if after_fen == before_fen:
            items.append(LimitItem(account_id, before_fen, after_fen, "skipped", "no_change"))
        else:
            items.append(LimitItem(account_id, before_fen, after_fen, "proposed", ""))
    return items


def approve(store: Store, batch_id: str, actor: str) -> LimitBatch:
    return _review(store, batch_id, actor, "approved")


def reject(store: Store, batch_id: str, actor: str) -> LimitBatch:
    return _review(store, batch_id, actor, "rejected")


def _review(store: Store, batch_id: str, actor: str, verdict: str) -> LimitBatch:
    batch = get_batch(store, batch_id)
    if batch.status != "proposed":
        raise LimitChangeError(f"limit batch {batch_id} is {batch.status}, not proposed")
    with store.write() as conn:
        require_approver(conn, actor, batch.created_by, f"limit batch {batch_id}")
        _set_batch(
            conn, batch_id, "proposed", status=verdict, approved_by=actor, approved_at=utc_now()
        )
        audit.record(conn, actor, f"limits.{verdict}", batch_id)
    return get_batch(store, batch_id)


def apply(
    store: Store, batch_id: str, actor: str, chunk_items: int = CHUNK_ITEMS_DEFAULT
) -> LimitBatch:
    """Apply an approved batch (or finish one whose apply was interrupted)."""
    batch = get_batch(store, batch_id)
    if batch.status not in ("approved", "applying"):
        raise LimitChangeError(
            f"limit batch {batch_id} is {batch.status}; only an approved batch can be applied"
        )
    with store.write() as conn:
        _set_batch(conn, batch_id, batch.status, status="applying")
    _step(store, batch_id, actor, chunk_items, "proposed", "applied", forward=True)
    with store.write() as conn:
        _set_batch(
            conn, batch_id, "applying", status="applied", applied_by=actor, applied_at=utc_now()
        )
        audit.record(conn, actor, "limits.apply", batch_id)
    return get_batch(store, batch_id)


def revert(
    store: Store, batch_id: str, actor: str, chunk_items: int = CHUNK_ITEMS_DEFAULT
) -> LimitBatch:
    """Put every applied item back to its limit before (approver role; the whole batch)."""
    batch = get_batch(store, batch_id)
    if batch.status not in ("applied", "reverting"):
        raise LimitChangeError(f"limit batch {batch_id} is {batch.status}, not applied")
    with store.write() as conn:
        require_approver(conn, actor, "", f"limit batch {batch_id}")
        _set_batch(conn, batch_id, batch.status, status="reverting")
    _step(store, batch_id, actor, chunk_items, "applied", "reverted", forward=False)
    with store.write() as conn:
        _set_batch(
            conn, batch_id, "reverting", status="reverted", reverted_by=actor, reverted_at=utc_now()
        )
        audit.record(conn, actor, "limits.revert", batch_id)
    return get_batch(store, batch_id)


def _step(
    store: Store,
    batch_id: str,
    actor: str,
    chunk_items: int,
    from_status: str,
    to_status: str,
    *,
    forward: bool,
) -> None:
    while True:
        with store.write() as conn:
            rows = conn.execute(
                select(limit_changes)
                .where(limit_changes.c.batch_id == batch_id, limit_changes.c.status == from_status)
                .order_by(limit_changes.c.account_id)
                .limit(chunk_items)
            ).all()
            if not rows:
                return
            now = utc_now()
            for r in rows:
                old, new = (r.before_fen, r.after_fen) if forward else (r.after_fen, r.before_fen)
                done = conn.execute(
                    update(card_accounts)
                    .where(
                        card_accounts.c.account_id == r.account_id,
                        card_accounts.c.credit_limit_fen == old,
                    )
                    .values(credit_limit_fen=new, updated_at=now, updated_by=actor)
                )
                if done.rowcount == 1:
                    status, reason = to_status, ""
                elif forward:
                    status, reason = "conflict", "limit_changed_since_proposal"
                else:
                    status, reason = "revert_conflict", "limit_changed_since_apply"
                conn.execute(
                    update(limit_changes)
                    .where(
                        limit_changes.c.batch_id == batch_id,
                        limit_changes.c.account_id == r.account_id,
                        limit_changes.c.status == from_status,
                    )
                    .values(status=status, reason=reason)
                )


def _set_batch(conn: Connection, batch_id: str, expected: str, **values: object) -> None:
    done = conn.execute(
        update(limit_change_batches)
        .where(
            limit_change_batches.c.batch_id == batch_id, limit_change_batches.c.status == expected
        )
        .values(**values)
    )
    if done.rowcount != 1:
        raise LimitChangeError(f"limit batch {batch_id} changed state meanwhile; look again")


def _batch_row(conn: Connection, batch_id: str) -> object | None:
    return conn.execute(
        select(limit_change_batches).where(limit_change_batches.c.batch_id == batch_id)
    ).first()


def get_batch(store: Store, batch_id: str) -> LimitBatch:
    with store.read() as conn:
        row = conn.execute(
            select(limit_change_batches).where(limit_change_batches.c.batch_id == batch_id)
        ).first()
        if row is None:
            raise LimitChangeError(f"no limit batch {batch_id}")
        items = conn.execute(
            select(limit_changes)
            .where(limit_changes.c.batch_id == batch_id)
            .order_by(limit_changes.c.account_id)
        ).all()
    batch = LimitBatch(
        row.batch_id,
        row.rule,
        row.business_date,
        row.status,
        row.created_by,
        row.approved_by,
        [
            LimitItem(i.account_id, int(i.before_fen), int(i.after_fen), i.status, i.reason)
            for i in items
        ],
    )
    _summarise(batch)
    return batch


def list_batches(store: Store, rows_max: int = 100) -> list[tuple[str, str, str, int]]:
    with store.read() as conn:
        rows = conn.execute(
            select(
                limit_change_batches.c.batch_id,
                limit_change_batches.c.status,
                limit_change_batches.c.rule,
                limit_change_batches.c.items_total,
            )
            .order_by(limit_change_batches.c.created_at.desc())
            .limit(rows_max)
        ).all()
    return [(r.batch_id, r.status, r.rule, int(r.items_total)) for r in rows]


def _summarise(batch: LimitBatch) -> None:
    batch.by_status = dict(sorted(Counter(i.status for i in batch.items).items()))
    batch.increase_fen = sum(
        i.after_fen - i.before_fen for i in batch.items if i.status in ("proposed", "applied")
    )
