"""console: users, web sessions, and the hash chain on audit_events

Revision ID: 0005
Revises: 0004

Existing audit rows are chained in event_id order when the columns are added.
Triggers then refuse UPDATE and DELETE on audit_events (append-only); someone
who drops them can still edit rows, and ``cardbatch audit verify`` finds that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardbatch.domain.audit_chain import GENESIS_HASH, row_hash

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]
_PG_TRIGGERS = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("token_salt", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        sa.UniqueConstraint("token_id", name=op.f("uq_users_token_id")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    _chain_existing_rows()
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_audit_events_prev_hash"), ["prev_hash"])
    for statement in _SQLITE_TRIGGERS if _dialect() == "sqlite" else _PG_TRIGGERS:
        op.execute(statement)


def _dialect() -> str:
    return str(op.get_bind().dialect.name)


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    events = sa.table(
        "audit_events", sa.column("event_id", sa.BigInteger()),
        sa.column("at", sa.DateTime(timezone=True)), sa.column("actor", sa.String()),
        sa.column("action", sa.String()), sa.column("subject", sa.String()),
        sa.column("detail", sa.Text()), sa.column("prev_hash", sa.String()),
        sa.column("row_hash", sa.String()),
    )  # fmt: skip
    c = events.c
    rows = conn.execute(
        sa.select(c.event_id, c.at, c.actor, c.action, c.subject, c.detail).order_by(c.event_id)
    ).all()
    prev = GENESIS_HASH
    for event_id, at, actor, action, subject, detail in rows:
        digest = row_hash(event_id, at, actor, action, subject, detail, prev)
        conn.execute(
            events.update().where(c.event_id == event_id).values(prev_hash=prev, row_hash=digest)
        )
        prev = digest


def downgrade() -> None:
    if _dialect() == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_prev_hash"), type_="unique")
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
    op.drop_table("web_sessions")
    op.drop_table("users")
