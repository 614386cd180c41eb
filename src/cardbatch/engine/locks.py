"""Exactly one runner per run identity, enforced by a row in ``run_locks``.

The lock key is job + business date + parameters hash; its row is the primary
key, so two processes inserting it at once cannot both succeed (on SQLite the
write transaction holds the database lock from BEGIN IMMEDIATE; on PostgreSQL
the unique index makes the second insert fail). The holder proves it still
owns the lock at the start of every chunk transaction (:func:`fence`), which
also renews the lease: a chunk of a runner whose lock was taken over rolls
back instead of committing.

A lock is stale, and may be taken over, when its lease expired (no heartbeat
for ``lease_s``) or when its holder is a process on this host that no longer
exists (killed, crashed). Clocks of hosts sharing a database are assumed to be
synchronised (NTP); a lease should be longer than the slowest chunk.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cardbatch.engine.job import EngineError
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables_engine import run_locks

HOST = socket.gethostname()[:128]


class RunLocked(EngineError):
    """Another live process holds the run identity's lock."""


class LockLost(EngineError):
    """This process no longer holds the lock it took (a stale-lock takeover happened)."""


@dataclass(frozen=True)
class LockHolder:
    lock_key: str
    owner_token: str
    run_id: str | None
    host: str
    pid: int
    heartbeat_at: datetime
    lease_expires_at: datetime

    def describe(self) -> str:
        return (
            f"run {self.run_id or '(starting)'} held by pid {self.pid} on {self.host}, "
            f"last heartbeat {self.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"lease until {self.lease_expires_at:%H:%M:%S} UTC"
        )


def new_token() -> str:
    return secrets.token_hex(16)


def holder(conn: Connection, lock_key: str) -> LockHolder | None:
    row = conn.execute(select(run_locks).where(run_locks.c.lock_key == lock_key)).first()
    if row is None:
        return None
    return LockHolder(
        row.lock_key, row.owner_token, row.run_id, row.host, row.pid,
        _aware(row.heartbeat_at), _aware(row.lease_expires_at),
    )  # fmt: skip


def is_stale(lock: LockHolder, now: datetime) -> bool:
    """True when the lease expired or the holder is a dead process on this host."""
    if lock.lease_expires_at <= now:
        return True
    return lock.host == HOST and not process_alive(lock.pid)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")  # a zombie is dead, just not reaped yet


def acquire(store: Store, lock_key: str, lease_s: int, run_id: str | None = None) -> str:
    """Take the lock or raise :class:`RunLocked` naming the live holder. Returns the token."""
    token = new_token()
    try:
        with store.write() as conn:
            now = utc_now()
            current = holder(conn, lock_key)
            if current is None:
                conn.execute(insert(run_locks).values(_row(lock_key, token, run_id, now, lease_s)))
                return token
            if not is_stale(current, now):
                raise RunLocked(_refusal(current))
            taken = conn.execute(
                update(run_locks)
                .where(run_locks.c.lock_key == lock_key)
                .where(run_locks.c.owner_token == current.owner_token)
                .where(run_locks.c.heartbeat_at == current.heartbeat_at)
                .values(_row(lock_key, token, current.run_id, now, lease_s))
            ).rowcount
            if taken != 1:
                raise RunLocked(f"{lock_key}: another process took over the stale lock first")
            return token
    except IntegrityError:
        with store.read() as conn:
            current = holder(conn, lock_key)
        raise RunLocked(_refusal(current) if current else f"{lock_key}: lock contended") from None


def _refusal(current: LockHolder) -> str:
    job, day, _ = [*current.lock_key.split("|"), "", ""][:3]
    return f"job {job} for {day} is already running: {current.describe()}"


def _row(
    lock_key: str, token: str, run_id: str | None, now: datetime, lease_s: int
) -> dict[str, object]:
    return {
        "lock_key": lock_key, "owner_token": token, "run_id": run_id, "host": HOST,
        "pid": os.getpid(), "acquired_at": now, "heartbeat_at": now,
        "lease_expires_at": now + timedelta(seconds=lease_s),
    }  # fmt: skip


def fence(conn: Connection, lock_key: str, token: str, lease_s: int, run_id: str) -> None:
    """Inside a write transaction: prove ownership and renew the lease, or raise LockLost."""
    now = utc_now()
    renewed = conn.execute(
        update(run_locks)
        .where(run_locks.c.lock_key == lock_key)
        .where(run_locks.c.owner_token == token)
        .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_s), run_id=run_id)
    ).rowcount
    if renewed != 1:
        raise LockLost(f"lock {lock_key} was taken over by another process; this runner stops")


def release(conn: Connection, lock_key: str, token: str) -> None:
    conn.execute(
        delete(run_locks)
        .where(run_locks.c.lock_key == lock_key)
        .where(run_locks.c.owner_token == token)
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
