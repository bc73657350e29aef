"""Rasa's SQL tracker store, tuned for SQLite and masking residents' personal data.

On SQLite it switches the database to write-ahead logging with ``synchronous=NORMAL``: a
conversation turn that Rasa has committed survives a crash of the server process (only a power
or OS failure can lose the last turns), and a commit no longer waits for two disk flushes.
PostgreSQL (``TRACKER_DATABASE_URL``/``DATABASE_URL``) is used exactly as Rasa's
``SQLTrackerStore`` uses it.

Before events are written, the personal details a resident gave in a form (kept sealed in the
slots, see ``community/sealed.py``) are masked wherever they appear in the conversation text, as
are any phone numbers, 身份证号 and addresses: the conversation log never holds them in clear.
The running conversation is not affected: Rasa works on the tracker in memory.

A turn reads only a bounded window of the session (``bot.tracker_window``), so its cost does
not grow with the conversation.

Rasa wraps every tracker store in a ``FailSafeTrackerStore`` that, when the database fails,
silently starts a new empty conversation (retrieve) or keeps it in memory only (save): a
resident's confirmed request or form answers then vanish without a word. :class:`StrictTrackerStore`
takes its place (see ``bot.rasa_server``) and raises :class:`ConversationStoreUnavailable`
instead, so the REST channel tells the resident plainly (``bot.rest_channel``).
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_window import WindowedSQLTrackerStore
from community.field_types import FIELD_TYPES
from community.forms import Forms, forms_path, load_forms
from community.privacy import mask_known
from community.sealed import Sealer
from community.settings import Settings

log = logging.getLogger(__name__)



def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class _MaskedEvent:
    """What SQLTrackerStore.save needs of an event, with the text masked."""

    def __init__(self, type_name: str, data: dict):
        self.type_name = type_name
        self._data = data

    def as_dict(self) -> dict:
        return self._data


class CommunitySQLTrackerStore(WindowedSQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            try:
                with self.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            except sa.exc.SQLAlchemyError as err:
                # An unwritable var/: start anyway; each turn then says it can't be saved.
                log.error("Conversation store not writable at start (%s)", type(err).__name__)
        settings = Settings.from_env()
        self._sealer = Sealer.from_env(settings.var_dir)
        forms: Forms = load_forms(forms_path(settings.catalogue_dir))
        self._field_types = {
            f.name: f.type for spec in forms.kinds.values() for f in spec.fields if f.personal
        }

    def _known_values(self, tracker: DialogueStateTracker) -> dict[str, str]:
        known: dict[str, str] = {}
        for event in tracker.events:
            if isinstance(event, SlotSet) and event.key in self._field_types and event.value:
                value = self._sealer.unseal(event.value)
                if isinstance(value, str) and len(value) >= 2 and value != "匿名":
                    known[value] = FIELD_TYPES[self._field_types[event.key]].mask(value)
        return known

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        known = self._known_values(tracker)
        for event in super()._additional_events(session, tracker):
            data = event.as_dict()
            if data.get("event") in ("user", "bot"):
                data = copy.deepcopy(data)
                data["text"] = mask_known(data.get("text") or "", known) or data.get("text")
                parse = data.get("parse_data") or {}
                if parse.get("text"):
                    parse["text"] = mask_known(parse["text"], known)
                for entity in parse.get("entities") or []:
                    if isinstance(entity.get("value"), str):
                        entity["value"] = mask_known(entity["value"], known)
            yield _MaskedEvent(event.type_name, data)


class ConversationStoreUnavailable(RuntimeError):
    """The conversation store could not be read or written for this turn."""


class StrictTrackerStore(FailSafeTrackerStore):
    """Rasa's fail-safe wrapper without the silent in-memory fallback: errors are raised."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as err:
            raise self._unavailable("read", err) from err

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as err:
            raise self._unavailable("read", err) from err

    async def keys(self) -> Iterable[str]:
        try:
            return await self._tracker_store.keys()
        except Exception as err:
            raise self._unavailable("list", err) from err

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as err:
            raise self._unavailable("write", err) from err

    def _unavailable(self, what: str, err: Exception) -> ConversationStoreUnavailable:
        # Only the type: a database error can quote the conversation's text.
        log.error("Conversation store: cannot %s (%s)", what, type(err).__name__)
        return ConversationStoreUnavailable(f"conversation store: cannot {what} ({type(err).__name__})")
