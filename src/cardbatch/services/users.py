"""Console users: adding them (with a token shown once), listing them, signing them in.

The API authenticates a bearer token; the web console signs in with the same
token or with a password set by ``users add --password``, then keeps a
server-side session (only the cookie's hash is stored) with its CSRF token.
Adding a user is audited; tokens and passwords never reach the audit trail.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from cardbatch.domain import credentials
from cardbatch.domain.roles import Role, parse_role
from cardbatch.services import audit
from cardbatch.services.actor import resolve_actor, utc_now
from cardbatch.store import Store
from cardbatch.store import users_repo as repo


class UserError(ValueError):
    """A user that cannot be added (bad name, bad role or password)."""


class UserExists(UserError):
    """The name is taken."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: datetime
    created_by: str
    has_password: bool
    disabled: bool


@dataclass(frozen=True)
class NewUser:
    user: User
    token: str  # shown once, never stored


def add_user(
    store: Store, name: str, role: str, actor: str, password: str | None = None
) -> NewUser:
    """Create a user with a fresh API token (and optionally a password)."""
    try:
        name = resolve_actor(name)
        parsed_role = parse_role(role)
        if password is not None:
            credentials.check_password_rules(password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    token = credentials.issue_token()
    now = utc_now()
    row = dict(name=name, role=parsed_role.value, token_id=token.token_id, token_salt=token.salt,
               token_hash=token.secret_hash, created_at=now, created_by=actor,
               password_hash=credentials.hash_password(password) if password else None)  # fmt: skip
    try:
        with store.write() as conn:
            if repo.user_by_name(conn, name) is not None:
                raise UserExists(f"user {name!r} already exists")
            repo.insert_user(conn, **row)
            audit.record(conn, actor, "users.add", f"user:{name}", role=parsed_role.value,
                         password=password is not None)  # fmt: skip
    except IntegrityError:
        raise UserExists(f"user {name!r} already exists") from None
    user = User(name, parsed_role, now, actor, password is not None, disabled=False)
    return NewUser(user, token.text)


def list_users(store: Store) -> list[User]:
    with store.read() as conn:
        return [_user(row) for row in repo.all_users(conn)]


def _user(row: object) -> User:
    r = row._mapping  # type: ignore[attr-defined]
    return User(r["name"], Role(r["role"]), r["created_at"], r["created_by"],
                r["password_hash"] is not None, r["disabled_at"] is not None)  # fmt: skip


def authenticate_token(store: Store, token: str) -> User | None:
    """The active user holding this API token, else None."""
    parts = credentials.split_token(token)
    if parts is None:
        return None
    token_id, secret = parts
    with store.read() as conn:
        row = repo.user_by_token_id(conn, token_id)
    if row is None or row.disabled_at is not None:
        return None
    if not credentials.token_matches(secret, row.token_salt, row.token_hash):
        return None
    return _user(row)


def authenticate_password(store: Store, name: str, password: str) -> User | None:
    with store.read() as conn:
        row = repo.user_by_name(conn, name)
    if row is None or row.disabled_at is not None or row.password_hash is None:
        credentials.password_matches(password, _dummy_hash())  # same work either way
        return None
    return _user(row) if credentials.password_matches(password, row.password_hash) else None


@functools.cache
def _dummy_hash() -> str:
    return credentials.hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class WebSession:
    user: User
    csrf_token: str
    expires_at: datetime


def start_session(store: Store, user: User, ttl_s: int) -> tuple[str, WebSession]:
    """A new web session: (cookie value, session). Signing in is audited."""
    cookie, digest = credentials.new_session_secret()
    now = utc_now()
    session = WebSession(user, secrets.token_urlsafe(32), now + timedelta(seconds=ttl_s))
    with store.write() as conn:
        repo.delete_expired_sessions(conn, now)
        repo.insert_session(conn, session_hash=digest, user_name=user.name,
                            csrf_token=session.csrf_token, created_at=now,
                            expires_at=session.expires_at)  # fmt: skip
        audit.record(conn, user.name, "web.sign_in", f"user:{user.name}")
    return cookie, session


def session_for(store: Store, cookie: str) -> WebSession | None:
    """The live session behind a cookie value, else None."""
    if not cookie or len(cookie) > credentials.TOKEN_LEN_MAX:
        return None
    with store.read() as conn:
        row = repo.session_by_hash(conn, credentials.session_hash(cookie))
        if row is None:
            return None
        user_row = repo.user_by_name(conn, row.user_name)
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if user_row is None or user_row.disabled_at is not None or expires_at <= utc_now():
        return None
    return WebSession(_user(user_row), row.csrf_token, expires_at)


def end_session(store: Store, cookie: str, actor: str) -> None:
    with store.write() as conn:
        if repo.delete_session(conn, credentials.session_hash(cookie)):
            audit.record(conn, actor, "web.sign_out", f"user:{actor}")
