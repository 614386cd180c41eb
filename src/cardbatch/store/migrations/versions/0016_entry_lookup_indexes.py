"""Partial indexes for looking entries up: the item that posted one, the entries that correct one

Explaining an entry (``feedback explain``) and linking a complaint to the engine
items behind its entries look item results up by entry, and explain lists the
entries whose ``reference_key`` names the one explained (its corrections). Both
were scans: of every item result the store keeps (400 days of nights by default,
hundreds of millions of rows at a million accounts) and of the whole journal.

Each index covers only the rows that carry the value (``IS NOT NULL``): item
results that name an entry (entry ids grow with the ledger, so a night appends
to the index) and the few entries that refer to another (corrections and
reversals; the nightly cycle's entries do not, so it writes nothing there).

Creating them on large existing tables reads those tables once.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_item_results_entry_id", "item_results", "entry_id"),
    ("ix_journal_entries_reference_key", "journal_entries", "reference_key"),
)


def upgrade() -> None:
    for name, table, column in _INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, table, [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, _column in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
