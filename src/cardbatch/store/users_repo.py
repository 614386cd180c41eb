"""Reading and writing console users and web sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from cardbatch.store.tables_console import users, web_sessions


def insert_user(conn: Connection, **values: Any) -> None:
    conn.execute(users.insert().values(**values))


def user_by_name(conn: Connection, name: str) -> Row[Any] | None:
    return conn.execute(select(users).where(users.c.name == name)).first()


def user_by_token_id(conn: Connection, token_id: str) -> Row[Any] | None:
    return conn.execute(select(users).where(users.c.token_id == token_id)).first()


def all_users(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(users).order_by(users.c.name)))


def insert_session(conn: Connection, **values: Any) -> None:
    conn.execute(web_sessions.insert().values(**values))


def session_by_hash(conn: Connection, digest: str) -> Row[Any] | None:
    return conn.execute(select(web_sessions).where(web_sessions.c.session_hash == digest)).first()


def delete_session(conn: Connection, digest: str) -> int:
    return conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == digest)).rowcount


def delete_expired_sessions(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now)).rowcount
