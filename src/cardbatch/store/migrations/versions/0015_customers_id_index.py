"""customers: the unique ID number becomes a unique index (droppable for bulk loads)

The table constraint ``uq_customers_id_number`` becomes a unique index of the
same name, enforcing the same rule. An index, unlike a table constraint, can be
dropped and rebuilt inside a transaction, which a bulk import into an empty
customers table does (building it once from sorted keys instead of a million
random inserts).

SQLite cannot drop a table constraint, so the table is rebuilt: its rows are
held in a temporary table, the table is dropped and created again, and the
rows copied back. Foreign keys of other tables point at ``customers`` by name;
with ``defer_foreign_keys`` the rows removed by the drop count as pending
violations that copying them back clears before the commit.

Revision ID: 0015
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

_COLUMNS = (
    "customer_id, name, id_number, phone, city, birth_date, credit_score, "
    "created_at, created_by, updated_at, updated_by"
)


def _create_customers(*, unique_constraint: bool) -> None:
    constraints: list[sa.Constraint] = [sa.PrimaryKeyConstraint("customer_id", name="pk_customers")]
    if unique_constraint:
        constraints.append(sa.UniqueConstraint("id_number", name="uq_customers_id_number"))
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=50), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("credit_score", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        *constraints,
    )


def _rebuild_sqlite(*, unique_constraint: bool) -> None:
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute("DROP TABLE IF EXISTS temp.customers_hold")
    op.execute(f"CREATE TEMP TABLE customers_hold AS SELECT {_COLUMNS} FROM customers")
    op.execute("DROP TABLE customers")
    _create_customers(unique_constraint=unique_constraint)
    op.execute(f"INSERT INTO customers ({_COLUMNS}) SELECT {_COLUMNS} FROM temp.customers_hold")
    op.execute("DROP TABLE temp.customers_hold")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(unique_constraint=False)
    else:
        op.drop_constraint("uq_customers_id_number", "customers", type_="unique")
    op.create_index("uq_customers_id_number", "customers", ["id_number"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_customers_id_number", table_name="customers")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(unique_constraint=True)
    else:
        op.create_unique_constraint("uq_customers_id_number", "customers", ["id_number"])
