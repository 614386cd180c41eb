"""Card activation: a new card stays ``inactive`` until the holder activates it."""

from __future__ import annotations

from sqlalchemy import select, update

from cardbatch.applications.service import ApplicationsError
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts


def activate(store: Store, account_id: str, actor: str) -> str:
    """``inactive`` -> ``active``; any other status is refused with what it is."""
    with store.write() as conn:
        status = conn.execute(
            select(card_accounts.c.status).where(card_accounts.c.account_id == account_id)
        ).scalar_one_or_none()
        if status is None:
            raise ApplicationsError(f"no card account {account_id}")
        if status != "inactive":
            raise ApplicationsError(f"card account {account_id} is {status}, not inactive")
        conn.execute(
            update(card_accounts)
            .where(card_accounts.c.account_id == account_id, card_accounts.c.status == "inactive")
            .values(status="active", updated_at=utc_now(), updated_by=actor)
        )
        audit.record(conn, actor, "cards.activate", account_id)
    return "active"
