"""The per-process token cache: a checked token is remembered for its TTL only, keyed by the
token's hash; a user disabled in the database stops working once the entry expires, and a
change to users through the API forgets every entry at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from cardbatch.api.deps import TokenCache
from cardbatch.domain.roles import Role
from cardbatch.services.actor import utc_now
from cardbatch.services.users import User, add_user
from cardbatch.store import open_store
from cardbatch.store.tables_console import users as users_table
from tests.console_support import ConsoleDemo


class Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock(console_app: FastAPI) -> Iterator[Clock]:
    fake = Clock()
    kept = console_app.state.token_cache
    console_app.state.token_cache = TokenCache(ttl_s=5.0, clock=fake)
    yield fake
    console_app.state.token_cache = kept


def _disable(db_url: str, name: str) -> None:
    store = open_store(db_url)
    try:
        with store.write() as conn:
            conn.execute(update(users_table).where(users_table.c.name == name)
                         .values(disabled_at=utc_now()))  # fmt: skip
    finally:
        store.dispose()


def test_a_disabled_user_works_until_the_entry_expires_then_not(
    client: TestClient, console_demo: ConsoleDemo, clock: Clock
) -> None:
    store = open_store(console_demo.db_url)
    try:
        token = add_user(store, "cache-expiry", "operator", "test").token
    finally:
        store.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    _disable(console_demo.db_url, "cache-expiry")
    clock.now_s += 4.9
    assert client.get("/api/me", headers=headers).status_code == 200  # still cached
    clock.now_s += 0.2
    assert client.get("/api/me", headers=headers).status_code == 401  # expired: checked again


def test_adding_a_user_through_the_api_forgets_every_cached_token(
    client: TestClient, console_demo: ConsoleDemo, clock: Clock
) -> None:
    store = open_store(console_demo.db_url)
    try:
        token = add_user(store, "cache-clear", "operator", "test").token
    finally:
        store.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    _disable(console_demo.db_url, "cache-clear")
    admin = {"Authorization": f"Bearer {console_demo.tokens[Role.ADMIN]}"}
    made = client.post("/api/users", json={"name": "cache-new", "role": "auditor"}, headers=admin)
    assert made.status_code == 201
    assert client.get("/api/me", headers=headers).status_code == 401  # no waiting for the TTL


def test_entries_are_keyed_by_the_token_hash_and_bounded() -> None:
    clock = Clock()
    cache = TokenCache(ttl_s=5.0, entries_max=2, clock=clock)
    user = User("u", Role.OPERATOR, utc_now(), "test", has_password=False, disabled=False)
    cache.put("cb_a_secret", user)
    assert cache.get("cb_a_secret") == user and cache.get("cb_a_secreT") is None
    assert all("secret" not in key for key in cache._users)
    cache.put("cb_b_secret", user)
    cache.put("cb_c_secret", user)  # over the bound: the old entries are dropped
    assert cache.get("cb_a_secret") is None and cache.get("cb_c_secret") == user
