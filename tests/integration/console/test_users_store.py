"""Console users in a real database: tokens shown once and stored hashed, passwords, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cardbatch.domain.roles import Role
from cardbatch.services import audit, users
from cardbatch.services.users import UserError, UserExists
from cardbatch.store import Store
from cardbatch.store.tables_console import users as users_table


def test_token_is_stored_only_as_a_salted_hash(store: Store) -> None:
    created = users.add_user(store, "wang.fang", "approver", actor="root")
    assert created.user.role is Role.APPROVER
    with store.read() as conn:
        row = conn.execute(select(users_table)).one()
    secret = created.token.split("_", 2)[2]
    assert secret not in str(tuple(row)) and created.token not in str(tuple(row))
    assert len(row.token_hash) == 64 and len(row.token_salt) == 32
    found = users.authenticate_token(store, created.token)
    assert found is not None and found.name == "wang.fang"
    last = created.token[-1]
    tampered = created.token[:-1] + ("B" if last == "A" else "A")
    assert users.authenticate_token(store, tampered) is None
    assert users.authenticate_token(store, "cb_" + "0" * 16 + "_x") is None
    assert users.authenticate_token(store, "garbage") is None


def test_adding_users_is_audited_and_checked(store: Store) -> None:
    users.add_user(store, "li.lei", "operator", actor="root")
    with pytest.raises(UserExists):
        users.add_user(store, "li.lei", "auditor", actor="root")
    for name, role, password in (("bad name", "operator", None), ("ok", "boss", None),
                                 ("ok", "operator", "short")):  # fmt: skip
        with pytest.raises(UserError):
            users.add_user(store, name, role, actor="root", password=password)
    events = audit.list_events(store, 10)
    assert [(e.actor, e.action, e.subject) for e in events] == [
        ("root", "users.add", "user:li.lei")
    ]
    assert [u.name for u in users.list_users(store)] == ["li.lei"]


def test_password_and_sessions(store: Store) -> None:
    users.add_user(store, "han.mei", "auditor", actor="root", password="a long passphrase")
    assert users.authenticate_password(store, "han.mei", "wrong passphrase!") is None
    assert users.authenticate_password(store, "nobody", "a long passphrase") is None
    user = users.authenticate_password(store, "han.mei", "a long passphrase")
    assert user is not None and user.has_password
    cookie, session = users.start_session(store, user, ttl_s=600)
    again = users.session_for(store, cookie)
    assert again is not None and again.user.name == "han.mei"
    assert again.csrf_token == session.csrf_token
    assert users.session_for(store, cookie + "x") is None
    users.end_session(store, cookie, "han.mei")
    assert users.session_for(store, cookie) is None
    expired_cookie, _ = users.start_session(store, user, ttl_s=-1)
    assert users.session_for(store, expired_cookie) is None
    actions = [e.action for e in audit.list_events(store, 10)]
    assert actions.count("web.sign_in") == 2 and "web.sign_out" in actions
