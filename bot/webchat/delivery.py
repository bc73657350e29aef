"""Delivers queued notifications (staff replies, request status changes) to web chat residents.

Notifications are queued in the store by the staff console (``RequestStore.notify`` and
``set_status``). A resident whose page is open gets them at once over server-sent events; one
who is away gets them when the page next opens its event stream. A notification is marked
delivered only once it went out to an open page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Callable

from bot.webchat.hub import PushHub, PushMessage
from community.store import Store

log = logging.getLogger(__name__)
CHANNEL = "web"
PREFIX = "web-"
KIND_OF = {
    "staff_reply": "staff",
    "status": "status",
    "ack": "status",
    "release": "notice",
    "outbox": "notice",
}


class Delivery:
    def __init__(self, store: Callable[[], Store], hub: PushHub, interval: float = 2.0):
        self._store = store
        self.hub = hub
        self.interval = interval
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task = asyncio.create_task(self._run(), name="web-notifications")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        if self._wake is not None:
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.deliver()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the database is away for a moment: try again later
                log.warning("notification delivery failed: %s", type(err).__name__)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def deliver(self, resident: str | None = None) -> int:
        """Push pending notifications to open pages (of ``resident`` only, if given)."""
        assert self._lock is not None
        requests = self._store().requests
        async with self._lock:  # the poller and a page opening never send the same one twice
            conversation = PREFIX + resident if resident else None
            pending = await asyncio.to_thread(requests.pending_notifications, CHANNEL, conversation)
            sent = []
            for note in pending:
                rid = str(note["conversation_id"]).removeprefix(PREFIX)
                if not self.hub.listeners(rid):
                    continue
                message = PushMessage(note["text"], KIND_OF.get(note["kind"], "notice"))
                if self.hub.publish(rid, message):
                    sent.append(note["id"])
            if sent:
                await asyncio.to_thread(requests.mark_delivered, sent)
        return len(sent)
