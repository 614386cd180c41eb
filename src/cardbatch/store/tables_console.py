"""The console's tables: users with hashed API tokens and passwords, and web sessions.

The audit chain's two columns (``prev_hash``, ``row_hash``) live on the
foundation's ``audit_events`` table; the console's migration adds them and
they are declared here so that one metadata describes the whole schema.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, UniqueConstraint

from cardbatch.store.tables import BigId, audit_events, metadata

users = Table(
    "users",
    metadata,
    Column("user_id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    # The token's public id (found by lookup) and the salted SHA-256 of its secret part.
    Column("token_id", String(32), nullable=False, unique=True),
    Column("token_salt", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    # scrypt$n$r$p$salt$hash, or NULL when the user signs in with the token only.
    Column("password_hash", String(300)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the cookie value: a stolen database gives no usable cookie.
    Column("session_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# The audit chain on the foundation's table (added by migration 0005).
if "prev_hash" not in audit_events.c:
    audit_events.append_column(Column("prev_hash", String(64), nullable=False))
    audit_events.append_column(Column("row_hash", String(64), nullable=False))
    audit_events.append_constraint(UniqueConstraint("prev_hash"))
