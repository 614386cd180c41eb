"""The store: tables, migrations, connections and bulk writers (SQLite and PostgreSQL).

``open_store(url)`` gives a :class:`~cardbatch.store.db.Store` with a ``read()``
and a ``write()`` transaction; ``tables`` holds the SQLAlchemy Core schema that
the Alembic migrations in ``migrations/`` create.
"""

from cardbatch.store.db import (
    DEFAULT_DB_URL,
    SchemaMissing,
    Store,
    StoreError,
    StoreUnavailable,
    open_store,
)

__all__ = [
    "DEFAULT_DB_URL",
    "SchemaMissing",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]
