"""Alembic environment: runs on the connection that ``Store.migrate`` passes in."""

from alembic import context

from community.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through Store.migrate
    raise RuntimeError("Run migrations through community.store.Store.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
