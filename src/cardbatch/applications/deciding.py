"""Deciding a batch: each received application gets approve, decline or refer.

Applications are taken in sequence order, in chunks; each chunk's facts are
read and its decisions written in one transaction. An application is decided
once (``status = 'received'`` guards the update), so a re-run after a crash
decides only what is left. ``dry_run`` computes the same decisions and writes
nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, RowMapping, and_, select, update

from cardbatch.applications.decision import Decision, Facts, Outcome, decide
from cardbatch.applications.intake import Application
from cardbatch.applications.policies import policy_in_force
from cardbatch.applications.policy import Policy
from cardbatch.applications.service import ApplicationsError
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts, customers, deposit_accounts, enterprises
from cardbatch.store.tables_apps import application_batches, applications, blocked_parties

CHUNK_ITEMS_DEFAULT = 500
CHUNK_ITEMS_MAX = 10_000
OPEN_STATUSES = ("received", "referred", "approved")
CLOSED_CARD_STATUSES = ("closed", "charged_off")
POLICY_CODE_DEFAULT = "standard"


@dataclass(frozen=True)
class DecidedItem:
    application_id: str
    line_no: int
    outcome: str
    reasons: tuple[str, ...]
    score: int | None
    credit_limit_fen: int | None


@dataclass
class DecideReport:
    batch_id: str
    business_date: date
    policy_id: int
    dry_run: bool
    items: list[DecidedItem] = field(default_factory=list)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)


def decide_batch(
    store: Store,
    batch_id: str,
    business_date: date,
    actor: str,
    *,
    dry_run: bool = False,
    policy_code: str = POLICY_CODE_DEFAULT,
    chunk_items: int = CHUNK_ITEMS_DEFAULT,
) -> DecideReport:
    """Decide every received application of a batch with the policy in force."""
    if not 1 <= chunk_items <= CHUNK_ITEMS_MAX:
        raise ApplicationsError(f"chunk size must be 1..{CHUNK_ITEMS_MAX}")
    with store.read() as conn:
        _require_batch(conn, batch_id)
        policy_id, policy = policy_in_force(conn, policy_code, business_date)
    report = DecideReport(batch_id, business_date, policy_id, dry_run)
    after_seq = 0
    while True:
        with store.read() if dry_run else store.write() as conn:
            rows = _received(conn, batch_id, after_seq, chunk_items)
            if not rows:
                break
            decided = _decide_rows(conn, rows, policy, business_date)
            if not dry_run:
                _write(conn, decided, policy_id, actor)
        report.items.extend(item for _, item in decided)
        after_seq = int(rows[-1]["seq"])
    if not dry_run:
        with store.write() as conn:
            audit.record(conn, actor, "applications.decide", batch_id, decided=len(report.items))
    outcomes = Counter(i.outcome for i in report.items)
    reasons = Counter(r for i in report.items for r in i.reasons)
    report.by_outcome = dict(sorted(outcomes.items()))
    report.by_reason = dict(sorted(reasons.items()))
    return report


def _require_batch(conn: Connection, batch_id: str) -> None:
    found = conn.execute(
        select(application_batches.c.batch_id).where(application_batches.c.batch_id == batch_id)
    ).first()
    if found is None:
        raise ApplicationsError(f"no application batch {batch_id}")


def _received(conn: Connection, batch_id: str, after_seq: int, limit: int) -> list[RowMapping]:
    query = (
        select(applications)
        .where(
            applications.c.batch_id == batch_id,
            applications.c.status == "received",
            applications.c.seq > after_seq,
        )
        .order_by(applications.c.seq)
        .limit(limit)
    )
    return [r._mapping for r in conn.execute(query)]


def application_of(row: RowMapping) -> Application:
    return Application(
        row["line_no"],
        row["name"],
        row["id_number"],
        row["phone"],
        row["employer"],
        row["monthly_income_fen"],
        row["product_code"],
        row["address"],
    )


def _decide_rows(
    conn: Connection, rows: Sequence[RowMapping], policy: Policy, business_date: date
) -> list[tuple[RowMapping, DecidedItem]]:
    facts = gather_facts(conn, rows)
    out = []
    for row in rows:
        decision: Decision = decide(
            application_of(row), facts[row["application_id"]], policy, business_date
        )
        item = DecidedItem(
            row["application_id"],
            row["line_no"],
            decision.outcome.value,
            decision.reasons,
            decision.score,
            decision.credit_limit_fen,
        )
        out.append((row, item))
    return out


def gather_facts(conn: Connection, rows: Sequence[RowMapping]) -> dict[str, Facts]:
    """Everything the store knows about each applicant, in a few queries per chunk."""
    ids = sorted({r["id_number"] for r in rows})
    phones = sorted({r["phone"] for r in rows})
    blocked = {
        (k, v)
        for k, v in conn.execute(
            select(blocked_parties.c.kind, blocked_parties.c.value).where(
                blocked_parties.c.value.in_(ids + phones)
            )
        )
    }
    people = {
        r.id_number: (r.customer_id, r.name)
        for r in conn.execute(
            select(customers.c.id_number, customers.c.customer_id, customers.c.name).where(
                customers.c.id_number.in_(ids)
            )
        )
    }
    with_deposit = _customers_with_deposit(conn, [c for c, _ in people.values()])
    cards = {
        (r.id_number, r.product_code)
        for r in conn.execute(
            select(customers.c.id_number, card_accounts.c.product_code)
            .join(card_accounts, card_accounts.c.customer_id == customers.c.customer_id)
            .where(
                customers.c.id_number.in_(ids), card_accounts.c.status.not_in(CLOSED_CARD_STATUSES)
            )
        )
    }
    open_seqs = _open_applications(conn, ids)
    employers = _payroll_employers(conn, sorted({r["employer"] for r in rows if r["employer"]}))
    facts = {}
    for r in rows:
        person = people.get(r["id_number"])
        earlier = [
            s for s in open_seqs.get((r["id_number"], r["product_code"]), []) if s < r["seq"]
        ]
        facts[r["application_id"]] = Facts(
            blocked=("ric", r["id_number"]) in blocked or ("phone", r["phone"]) in blocked,
            customer_name=person[1] if person else None,
            has_deposit_account=bool(person and person[0] in with_deposit),
            open_application=bool(earlier),
            existing_card=(r["id_number"], r["product_code"]) in cards,
            payroll_employer=r["employer"] in employers,
        )
    return facts


def _customers_with_deposit(conn: Connection, customer_ids: list[str]) -> set[str]:
    if not customer_ids:
        return set()
    query = select(deposit_accounts.c.customer_id).where(
        deposit_accounts.c.customer_id.in_(customer_ids), deposit_accounts.c.status == "active"
    )
    return {r.customer_id for r in conn.execute(query)}


def _open_applications(conn: Connection, ids: list[str]) -> dict[tuple[str, str], list[int]]:
    query = select(applications.c.id_number, applications.c.product_code, applications.c.seq).where(
        applications.c.id_number.in_(ids), applications.c.status.in_(OPEN_STATUSES)
    )
    found: dict[tuple[str, str], list[int]] = {}
    for r in conn.execute(query):
        found.setdefault((r.id_number, r.product_code), []).append(int(r.seq))
    return found


def _payroll_employers(conn: Connection, names: list[str]) -> set[str]:
    if not names:
        return set()
    query = select(enterprises.c.name).where(
        and_(enterprises.c.name.in_(names), enterprises.c.kind == "employer")
    )
    return {r.name for r in conn.execute(query)}


def _write(
    conn: Connection,
    decided: list[tuple[RowMapping, DecidedItem]],
    policy_id: int,
    actor: str,
) -> None:
    now = utc_now()
    status = {
        Outcome.APPROVE.value: "approved",
        Outcome.DECLINE.value: "declined",
        Outcome.REFER.value: "referred",
    }
    for row, item in decided:
        done = conn.execute(
            update(applications)
            .where(
                applications.c.application_id == row["application_id"],
                applications.c.status == "received",
            )
            .values(
                status=status[item.outcome],
                score=item.score,
                credit_limit_fen=item.credit_limit_fen,
                reason_codes=",".join(item.reasons),
                policy_id=policy_id,
                decided_at=now,
                decided_by=actor,
            )
        )
        if done.rowcount != 1:  # another run decided it meanwhile: roll the chunk back
            raise ApplicationsError(
                f"application {row['application_id']} was decided by another run; run again"
            )
