"""Rasa's tracker store, read-only: the resident messages the statistics page counts.

The one place in the project that reads Rasa's own ``events`` table (its SQL tracker store's
schema: ``sender_id``, ``type_name``, ``timestamp``, ``intent_name``). The store's statistics
(:mod:`community.records.statistics`) take this as their message source.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import sqlalchemy as sa

from community.records.statistics import MessageSource

events = sa.table(
    "events",
    sa.column("sender_id"),
    sa.column("type_name"),
    sa.column("timestamp"),
    sa.column("intent_name"),
)


def resident_messages(engine: sa.engine.Engine | None) -> MessageSource | None:
    """Resident messages (conversation id, timestamp, intent) from the tracker store at ``engine``."""
    if engine is None:
        return None

    def since(start: dt.datetime) -> Iterator[tuple[str, float, str | None]]:
        query = sa.select(events.c.sender_id, events.c.timestamp, events.c.intent_name).where(
            events.c.type_name == "user", events.c.timestamp >= start.timestamp()
        )
        with engine.connect() as connection:
            yield from connection.execute(query)

    return since
