"""Alembic environment: runs on the connection that ``community.db.migrate`` passes in."""

from alembic import context

import community.store  # noqa: F401 - every record module defines its tables on db.metadata
from community.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through community.db.migrate
    raise RuntimeError("Run migrations through community.db.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
