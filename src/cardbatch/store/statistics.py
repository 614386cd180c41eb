"""Planner statistics after bulk loads: ``ANALYZE`` on PostgreSQL where they are stale.

PostgreSQL plans a query from the statistics ``ANALYZE`` keeps per table. A table
filled in bulk and read at once (a portfolio load, a day's transactions, then the
night) still has the statistics of before the load, or none at all, until
autovacuum gets to it, and the planner then takes a join for tiny: the cycle's read
of a chunk's ledger activity ran as a nested loop over every entry of the period
(170 ms instead of 75 ms for 10,000 accounts, and growing with the ledger, not the
chunk). :func:`refresh_statistics` analyzes the tables named whose
statistics are missing or older than a tenth of their rows (the rule autovacuum
itself uses), in the caller's transaction. SQLite plans these reads well from its
indexes alone, and its statistics would change plans that are measured as they are:
there it does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

# What the night's jobs read in bulk: the ledger, the card accounts and their cycle state.
NIGHT_READS: tuple[str, ...] = (
    "journal_entries", "postings", "balances", "card_accounts", "deposit_accounts",
    "cycle_accounts", "cycle_lots", "statements", "autopay_attempts", "instalment_lines",
)  # fmt: skip
STALE_FRACTION = 0.1  # changed rows since the last ANALYZE, as a share of the table's rows
STALE_ROWS_MIN = 50  # as autovacuum: a tiny table is not re-analyzed for every row

_STALENESS = text(
    "SELECT c.relname, c.reltuples, COALESCE(s.n_mod_since_analyze, 0) "
    "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
    "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace "
    "AND c.relname = ANY(:names)"
)


def stale_tables(conn: Connection, tables: Sequence[str]) -> list[str]:
    """The tables among ``tables`` whose PostgreSQL statistics are missing or stale."""
    if conn.dialect.name != "postgresql":
        return []
    stale = []
    for name, rows, changed in conn.execute(_STALENESS, {"names": list(tables)}):
        never_analyzed = rows < 0  # PostgreSQL 14+: -1 until the first ANALYZE or VACUUM
        if never_analyzed or changed > STALE_ROWS_MIN + STALE_FRACTION * rows:
            stale.append(str(name))
    return sorted(stale)


def refresh_statistics(conn: Connection, tables: Sequence[str]) -> list[str]:
    """``ANALYZE`` the stale ones among ``tables`` (PostgreSQL); the names analyzed."""
    stale = stale_tables(conn, tables)
    for name in stale:
        conn.exec_driver_sql(f'ANALYZE "{name}"')
    return stale
