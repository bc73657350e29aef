"""Rasa's SQL tracker store, tuned for SQLite.

On SQLite it switches the database to write-ahead logging with ``synchronous=NORMAL``: a
conversation turn that Rasa has committed survives a crash of the server process (only a power
or OS failure can lose the last turns), and a commit no longer waits for two disk flushes.
PostgreSQL (``DATABASE_URL``) is used exactly as Rasa's ``SQLTrackerStore`` uses it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class CommunitySQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
