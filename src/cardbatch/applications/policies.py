"""Decision policy versions: a TOML decision table stored, pending, approved, in force by date.

A loaded version is ``pending`` until a different user with the approver role
approves it; the version in force on a business date is the approved one with
the latest effective date on or before it. Stored versions never change.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from cardbatch.applications.policy import Policy, parse_policy
from cardbatch.applications.roles import require_approver
from cardbatch.applications.service import ApplicationsError
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables_apps import decision_policies

POLICY_CACHE_MAX = 32


@dataclass(frozen=True)
class PolicyVersion:
    policy_id: int
    code: str
    version: int
    effective_from: date
    status: str
    created_by: str
    approved_by: str | None
    content_hash: str


def load_policy(
    store: Store, text: str, source: str, effective_from: date, actor: str
) -> PolicyVersion:
    """Store a validated decision table as a new pending version of its code."""
    policy = parse_policy(text, source)
    code = policy.policy.code
    digest = hashlib.sha256(text.encode()).hexdigest()
    with store.write() as conn:
        latest = conn.execute(
            select(func.max(decision_policies.c.version)).where(decision_policies.c.code == code)
        ).scalar_one_or_none()
        version = int(latest or 0) + 1
        policy_id = conn.execute(
            insert(decision_policies)
            .values(
                code=code,
                version=version,
                effective_from=effective_from,
                content=text,
                content_hash=digest,
                status="pending",
                created_at=utc_now(),
                created_by=actor,
            )
            .returning(decision_policies.c.policy_id)
        ).scalar_one()
        audit.record(conn, actor, "policy.load", f"{code} v{version}", hash=digest)
    return get_policy_version(store, int(policy_id))


def approve_policy(store: Store, policy_id: int, actor: str) -> PolicyVersion:
    """Approve a pending version: the approver is a different user with the approver role."""
    version = get_policy_version(store, policy_id)
    if version.status != "pending":
        raise ApplicationsError(f"policy {policy_id} is {version.status}, not pending")
    with store.write() as conn:
        require_approver(
            conn, actor, version.created_by, f"policy {version.code} v{version.version}"
        )
        conn.execute(
            update(decision_policies)
            .where(
                decision_policies.c.policy_id == policy_id, decision_policies.c.status == "pending"
            )
            .values(status="approved", approved_by=actor, approved_at=utc_now())
        )
        audit.record(conn, actor, "policy.approve", f"{version.code} v{version.version}")
    return get_policy_version(store, policy_id)


def get_policy_version(store: Store, policy_id: int) -> PolicyVersion:
    with store.read() as conn:
        row = conn.execute(
            select(decision_policies).where(decision_policies.c.policy_id == policy_id)
        ).first()
    if row is None:
        raise ApplicationsError(f"no decision policy with id {policy_id}")
    return _version(row._mapping)


def list_policies(store: Store) -> list[PolicyVersion]:
    with store.read() as conn:
        rows = conn.execute(
            select(decision_policies).order_by(
                decision_policies.c.code, decision_policies.c.version
            )
        ).all()
    return [_version(r._mapping) for r in rows]


def policy_in_force(conn: Connection, code: str, business_date: date) -> tuple[int, Policy]:
    """The approved version with the latest effective date on or before the business date."""
    row = conn.execute(
        select(decision_policies.c.policy_id, decision_policies.c.content)
        .where(
            decision_policies.c.code == code,
            decision_policies.c.status == "approved",
            decision_policies.c.effective_from <= business_date,
        )
        .order_by(decision_policies.c.effective_from.desc(), decision_policies.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise ApplicationsError(
            f"no approved decision policy {code!r} in force on {business_date}; "
            "load one and have it approved"
        )
    return int(row.policy_id), parse_policy(row.content, f"policy {row.policy_id}")


def policy_by_id(conn: Connection, policy_id: int) -> Policy:
    content = conn.execute(
        select(decision_policies.c.content).where(decision_policies.c.policy_id == policy_id)
    ).scalar_one()
    return _parsed(content, policy_id)


@functools.lru_cache(maxsize=POLICY_CACHE_MAX)
def _parsed(content: str, policy_id: int) -> Policy:
    """Stored versions never change, so each is parsed once per process."""
    return parse_policy(content, f"policy {policy_id}")


def _version(m: RowMapping) -> PolicyVersion:
    return PolicyVersion(
        int(m["policy_id"]),
        m["code"],
        int(m["version"]),
        m["effective_from"],
        m["status"],
        m["created_by"],
        m["approved_by"],
        m["content_hash"],
    )
