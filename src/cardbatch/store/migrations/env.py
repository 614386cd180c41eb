"""Alembic environment: runs migrations on the connection cardbatch hands over."""

from __future__ import annotations

from alembic import context

from cardbatch.store import all_tables

target_metadata = all_tables.metadata
connection = context.config.attributes.get("connection")

if connection is None:
    from cardbatch.store.db import open_store

    url = context.config.get_main_option("sqlalchemy.url") or ""
    store = open_store(url, require_schema=False)
    with store.write() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        context.run_migrations()
    store.dispose()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()
