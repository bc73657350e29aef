"""Delivers queued notifications (staff replies, request status changes) to web chat residents.

Notifications are queued in the store by the staff console (``Notifications.notify`` and
``Requests.set_status``). A resident whose page is open gets them at once over server-sent events; one
who is away gets them when a page next opens its event stream. A notification is marked
delivered only when the page acknowledges it (``POST /api/ack``): a write into a connection the
browser has already left (or frozen in its back/forward cache) can look successful, so until the
page confirms, the notification is sent again — to a page that opens later, or after
:data:`RESEND_AFTER` seconds to a page still open. Pages ignore a repeat they already showed.

Several web processes share the work: each pushes only to the streams it holds, and claims a row
in the store before pushing it (``Notifications.claim_push``), so a notification goes out once
whichever process holds the resident's stream; on PostgreSQL a queued notification wakes every
process at once (:mod:`bot.webchat.wakeup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Callable, Iterable

from bot.webchat.hub import PushHub, PushMessage
from bot.webchat.wakeup import NotificationWakeup
from community.store import Store

log = logging.getLogger(__name__)
CHANNEL = "web"
PREFIX = "web-"
RESEND_AFTER = 30.0
KIND_OF = {
    "staff_reply": "staff",
    "status": "status",
    "ack": "status",
    "release": "notice",
    "outbox": "notice",
}


class Delivery:
    def __init__(
        self,
        store: Callable[[], Store],
        hub: PushHub,
        interval: float = 2.0,
        resend_after: float = RESEND_AFTER,
    ):
        self._store = store
        self.hub = hub
        self.interval = interval
        self.resend_after = resend_after
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None
        self._sent: dict[int, float] = {}  # notification id → when it was last handed to a page
        self._wakeup: NotificationWakeup | None = None

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task = asyncio.create_task(self._run(), name="web-notifications")
        try:
            self._wakeup = NotificationWakeup(self._store().engine, self.wake)
            self._wakeup.start()
        except Exception as err:  # no store yet: polling alone
            log.warning("notification wake-ups off: %s", type(err).__name__)

    async def stop(self) -> None:
        if self._wakeup is not None:
            await asyncio.to_thread(self._wakeup.stop)
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
        """Push pending notifications to open pages. With ``resident`` (a page just opened its
        stream), everything not yet acknowledged goes to that resident's pages."""
        assert self._lock is not None
        notifications = self._store().notifications
        async with self._lock:
            conversation = PREFIX + resident if resident else None
            pending = await asyncio.to_thread(notifications.pending, CHANNEL, conversation)
            now = time.monotonic()
            sent = 0
            for note in pending:
                rid = str(note["conversation_id"]).removeprefix(PREFIX)
                recent = now - self._sent.get(note["id"], -1e9) < self.resend_after
                if (recent and resident is None) or not self.hub.listeners(rid):
                    continue
                # Another web process may hold a stream of this resident too: one push per row
                # (a page that just opened takes the row over).
                stale_after = 0.0 if resident else self.resend_after
                if not await asyncio.to_thread(notifications.claim_push, note["id"], stale_after=stale_after):
                    continue
                message = PushMessage(note["text"], KIND_OF.get(note["kind"], "notice"), note["id"])
                if self.hub.publish(rid, message):
                    self._sent[note["id"]] = now
                    sent += 1
        return sent

    async def acknowledge(self, resident: str, ids: Iterable[int]) -> int:
        """The resident's page showed these notifications: mark them delivered (only the
        resident's own); how many."""
        wanted = {int(i) for i in ids}
        notifications = self._store().notifications
        pending = await asyncio.to_thread(notifications.pending, CHANNEL, PREFIX + resident, 1000)
        mine = [n["id"] for n in pending if n["id"] in wanted]
        if mine:
            await asyncio.to_thread(notifications.mark_delivered, mine)
        for i in mine:
            self._sent.pop(i, None)
        return len(mine)

    def not_written(self, message: PushMessage) -> None:
        """The page went away before its stream wrote ``message``: send it again soon."""
        if message.notification is not None:
            self._sent.pop(message.notification, None)
            with contextlib.suppress(RuntimeError):  # no loop: stopping
                asyncio.get_running_loop().create_task(self._unclaim(message.notification))

    async def _unclaim(self, notification: int) -> None:
        with contextlib.suppress(Exception):  # the store away: the claim goes stale instead
            await asyncio.to_thread(self._store().notifications.unclaim_push, notification)
        self.wake()
