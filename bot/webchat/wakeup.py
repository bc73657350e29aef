"""Wakes a web process's notification delivery when any process queued a notification.

With several web processes (``deploy/``, ``make run-cluster`` scaled out), a resident's event
stream is held by one of them, and the staff member who replies may be on another. On
PostgreSQL every queued notification sends ``NOTIFY community_notifications`` with its
transaction (``community.records.notifications.queue``); this listener (one connection per web
process, ``LISTEN``) wakes the local :class:`bot.webchat.delivery.Delivery`, which claims the
rows for the residents whose streams it holds. Which process pushes a row is decided by the claim
in the store, not by who heard the ``NOTIFY``: a wake-up is only a hint, and the delivery still
polls every few seconds, so a lost wake-up (a connection that dropped) only delays.

On SQLite (``make run``: one web process) there is nothing to listen to; the console in the
same process wakes the delivery directly.
"""

from __future__ import annotations

import asyncio
import logging
import select
import threading
from typing import Callable

import sqlalchemy as sa

from community.records.notifications import WAKE_CHANNEL

log = logging.getLogger(__name__)


class NotificationWakeup:
    def __init__(self, engine: sa.engine.Engine, wake: Callable[[], None], retry_s: float = 5.0):
        self.engine = engine
        self.wake = wake
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen in a thread (PostgreSQL only); whether it listens."""
        if self.engine.dialect.name != "postgresql":
            return False
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._listen, args=(loop,), name="notify-listener", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            try:
                connection = self.engine.raw_connection()
            except Exception as err:  # the database is away: the delivery's polling goes on
                log.warning("notification listener: cannot connect (%s)", type(err).__name__)
                self._stop.wait(self.retry_s)
                continue
            try:
                raw = connection.dbapi_connection  # psycopg2
                raw.autocommit = True
                with raw.cursor() as cursor:
                    cursor.execute(f"LISTEN {WAKE_CHANNEL}")
                loop.call_soon_threadsafe(self.wake)  # anything queued while not listening
                while not self._stop.is_set():
                    if select.select([raw], [], [], 1.0)[0]:
                        raw.poll()
                        if raw.notifies:
                            raw.notifies.clear()
                            loop.call_soon_threadsafe(self.wake)
            except Exception as err:
                log.warning("notification listener: connection lost (%s)", type(err).__name__)
                self._stop.wait(self.retry_s)
            finally:
                connection.invalidate()  # never back to the pool in LISTEN/autocommit state
