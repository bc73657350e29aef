"""A turn that costs the same at message 120 as at message 10 (issue 15).

Rasa rebuilds the tracker of the whole conversation session on every turn: it reads every event
of the session from the tracker store, deserialises them, featurises every past turn for the
policies and sends them all to the action server. A turn's cost grows with the conversation
(4.7× at 120 turns). :class:`WindowedSQLTrackerStore` reads only what a turn needs instead:

* the **window**: the events of the latest :data:`KEEP_TURNS` to :data:`COMPACT_AFTER_TURNS`
  resident turns, read by ``id`` from the ``(sender_id, id)`` index;
* the **state before the window**, kept in one row per conversation (``tracker_windows``): the
  original events that set it (the session's start, the latest value of each slot, the active
  form with its original timestamp, a pause), written when the window moves on.

The tracker Rasa works on is those events, so the policies (rules and memoization look back 4
turns), the action server (its tracker is bounded too) and the form (its key is the time it
started: :func:`actions.requests.form_key`) see what they saw before. Rasa's session handling is
unchanged: a ``session_started`` in the window starts from there, as Rasa's own query does.
The whole conversation stays in the ``events`` table, as before: ``retrieve_full_tracker`` (the
web chat's history, the console) and every event written are unchanged.

A save writes only the events that the turn added (the tracker remembers how many it was read
with), instead of counting the session's rows to find them.

:func:`install_cached_event_types` removes the other per-event cost: Rasa looks an event's class
up by walking every ``Event`` subclass, with ``inspect.isabstract``, for each event it reads.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

# The window keeps at least this many resident turns (memoization and rules look back 4; the
# actions look back 2) and is moved on when it holds more than COMPACT_AFTER_TURNS.
KEEP_TURNS = 8
COMPACT_AFTER_TURNS = 12

WINDOWS = sa.Table(
    "tracker_windows", sa.MetaData(),
    sa.Column("sender_id", sa.String(255), primary_key=True),
    # The first event of the window (events.id); the state before it is in `prefix`.
    sa.Column("first_event_id", sa.Integer, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),  # JSON list of events
    sa.Column("updated_at", sa.Float, nullable=False),
)


def install_cached_event_types() -> None:
    """``Event.resolve_by_type`` with a dictionary in front (same answers, same errors)."""
    original = Event.resolve_by_type
    found: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


@dataclass
class _Read:
    """What a retrieved tracker was read with (kept on the tracker for its save)."""

    stored: int  # events in the tracker that are already in the store
    prefix: int  # of which the first `prefix` stand for the state before the window
    ids: list[int] = field(default_factory=list)  # events.id of the window's events, in order


_ATTRIBUTE = "_community_window"


def state_events(events: list[Event], slots: Any = None) -> list[Event]:
    """Events that set the state ``events`` leave: the session start, the latest value of each
    slot, the active form (its own event, for its timestamp) and a pause."""
    tracker = DialogueStateTracker.from_events("window", events, slots)
    applied = tracker.applied_events()
    start = [e for e in events if isinstance(e, SessionStarted)][-1:]
    slots: dict[str, SlotSet] = {}
    loop: ActiveLoop | None = None
    pause: Event | None = None
    for event in applied:
        if isinstance(event, SlotSet):
            slots.pop(event.key, None)
            slots[event.key] = event
        elif isinstance(event, ActiveLoop):
            loop = event
        elif isinstance(event, (ConversationPaused, ConversationResumed)):
            pause = event
    kept: list[Event] = list(start) + list(slots.values())
    if loop is not None and loop.name:
        kept.append(loop)
    if isinstance(pause, ConversationPaused):
        kept.append(pause)
    return kept


def window_start(events: list[Event], first: int, keep_turns: int) -> int | None:
    """Where a window keeping the last ``keep_turns`` resident turns of ``events[first:]``
    starts (an index into ``events``): at the ``action_listen`` before that turn's message, or
    None if it would not move past ``first``."""
    users = [i for i in range(first, len(events)) if isinstance(events[i], UserUttered)]
    if len(users) <= keep_turns:
        return None
    cut = users[-keep_turns]
    if cut - 1 > first and getattr(events[cut - 1], "action_name", None) == "action_listen":
        cut -= 1
    return cut if cut > first else None


class WindowedSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store that reads a bounded window of the current session."""

    keep_turns = KEEP_TURNS
    compact_after_turns = COMPACT_AFTER_TURNS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            WINDOWS.create(self.engine, checkfirst=True)
            with self.engine.begin() as connection:
                # Rasa indexes sender_id alone; a window is read by (sender_id, id).
                connection.exec_driver_sql(
                    "CREATE INDEX IF NOT EXISTS ix_events_sender_id_id ON events (sender_id, id)"
                )
        except sa.exc.SQLAlchemyError as err:
            log.error("Conversation store: cannot create the window table (%s)", type(err).__name__)

    # -- read ---------------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            window = session.execute(
                sa.select(WINDOWS.c.first_event_id, WINDOWS.c.prefix).where(WINDOWS.c.sender_id == sender_id)
            ).first()
            columns = (self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
            if window is None:
                rows = (self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                        .with_entities(*columns).all())
                prefix: list[dict] = []
            else:
                rows = (session.query(*columns)
                        .filter(self.SQLEvent.sender_id == sender_id,
                                self.SQLEvent.id >= window.first_event_id)
                        .order_by(self.SQLEvent.id).all())
                prefix = json.loads(window.prefix)
        if not rows or not self.domain:
            return None
        starts = [i for i, row in enumerate(rows) if row.type_name == SessionStarted.type_name]
        if window is not None and starts:
            rows, prefix = rows[starts[-1]:], []  # a new session began inside the window
        events = prefix + [json.loads(row.data) for row in rows]
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, _ATTRIBUTE, _Read(len(events), len(prefix), [row.id for row in rows]))
        return tracker

    # -- write --------------------------------------------------------------------------------

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        read: _Read | None = getattr(tracker, _ATTRIBUTE, None)
        if read is None:
            return super()._additional_events(session, tracker)
        return iter(list(tracker.events)[read.stored:])

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        read: _Read | None = getattr(tracker, _ATTRIBUTE, None)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                row = self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                )
                session.add(row)
                rows.append(row)
            session.flush()
            if read is not None:
                read.ids.extend(row.id for row in rows)
                read.stored = len(tracker.events)
                self._move_window(session, tracker, read)
            session.commit()

    def _move_window(self, session: Any, tracker: DialogueStateTracker, read: _Read) -> None:
        """When the window holds more than ``compact_after_turns`` resident turns, keep the
        last ``keep_turns`` and store the state before them."""
        events = list(tracker.events)
        if len(read.ids) != len(events) - read.prefix:
            return  # not read by retrieve() (or changed in between): leave the window as it is
        turns = sum(1 for e in events[read.prefix:] if isinstance(e, UserUttered))
        if turns <= self.compact_after_turns:
            return
        cut = window_start(events, read.prefix, self.keep_turns)
        if cut is None:
            return
        prefix = [e.as_dict() for e in state_events(events[:cut], self.domain.slots)]
        values = {"first_event_id": read.ids[cut - read.prefix], "prefix": json.dumps(prefix),
                  "updated_at": time.time()}
        updated = session.execute(
            WINDOWS.update().where(WINDOWS.c.sender_id == tracker.sender_id).values(**values)
        ).rowcount
        if not updated:
            session.execute(WINDOWS.insert().values(sender_id=tracker.sender_id, **values))
