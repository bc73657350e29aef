"""Pushed messages: rows of the ``notifications`` table delivered to Telegram chats.

Other components (the staff console's handoff inbox, request status changes, the 接诉即办
acknowledgement) queue notifications with :class:`community.request_store.RequestStore`. A
:class:`PushPump` started with the application looks at the table every ``interval`` seconds
and delivers the pending rows of channel "telegram":

* per chat, in the order they were queued, one delivery task per chat at a time, and never in
  the middle of an answer being sent to that chat (see :meth:`TelegramChannel.push_notification`);
* a row is marked delivered only after Telegram accepted all of its text. Until then it stays
  pending and is tried again (429 ``retry_after`` and 5xx are honoured by :func:`with_retry`);
* a row Telegram accepted is never sent again by this process, even when marking it delivered
  fails for a while (it is remembered and marked at the next look);
* a row Telegram refuses for good (the resident blocked the bot, the chat is gone) stays pending
  and is tried again with a growing pause, so nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from telegram.error import BadRequest, Forbidden, TelegramError

if TYPE_CHECKING:
    from bot.telegram.app import TelegramChannel
    from community.request_store import RequestStore

log = logging.getLogger(__name__)

CHANNEL = "telegram"
BATCH = 200  # rows read at one look
REFUSED_FIRST_PAUSE = 30.0  # seconds before a row Telegram refused is tried again; doubled up to…
REFUSED_MAX_PAUSE = 3600.0


class PushPump:
    def __init__(self, channel: TelegramChannel, requests: RequestStore, *, interval: float = 1.0) -> None:
        self.channel = channel
        self.requests = requests
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._chats: dict[int, asyncio.Task[None]] = {}  # chat id → its delivery task
        self._unmarked: set[int] = set()  # accepted by Telegram, not yet marked delivered
        self._paused: dict[int, tuple[float, float]] = {}  # row id → (not before, pause)
        self._bad_conversations: set[str] = set()
        self._store_down = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="telegram-pushes")

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._chats.values()] if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._chats.clear()

    async def _run(self) -> None:
        while True:
            try:
                await self.look()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the database is down: try again at the next look
                if not self._store_down:
                    log.warning("notifications: cannot read the store (%s); trying again", type(err).__name__)
                self._store_down = True
            else:
                if self._store_down:
                    log.info("notifications: the store is back")
                self._store_down = False
            await asyncio.sleep(self.interval)

    async def look(self) -> None:
        """One look at the table: start delivering to every idle chat with pending rows."""
        if self._unmarked:
            ids = sorted(self._unmarked)
            await asyncio.to_thread(self.requests.mark_delivered, ids)
            self._unmarked.difference_update(ids)
        # Chats still being delivered to are left alone: their task may deliver (and mark)
        # rows this read still sees as pending. A chat idle now stays idle until we start it.
        for chat in [c for c, t in self._chats.items() if t.done()]:
            del self._chats[chat]
        busy = set(self._chats)
        rows = await asyncio.to_thread(self.requests.pending_notifications, CHANNEL, None, BATCH)
        now = time.monotonic()
        by_chat: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            if row["id"] in self._unmarked:
                continue
            chat = self._chat_of(row["conversation_id"])
            if chat is None or chat in busy:
                continue
            by_chat.setdefault(chat, []).append(row)
        for chat, chat_rows in by_chat.items():
            if self._paused.get(chat_rows[0]["id"], (0.0, 0.0))[0] > now:
                continue  # the first is waiting after a refusal; the later ones wait behind it
            self._chats[chat] = asyncio.get_running_loop().create_task(
                self._deliver(chat, chat_rows), name=f"telegram-pushes-{chat}"
            )

    def _chat_of(self, conversation_id: str) -> int | None:
        from bot.telegram.app import chat_id_of

        try:
            return chat_id_of(conversation_id)
        except ValueError:
            if conversation_id not in self._bad_conversations:
                self._bad_conversations.add(conversation_id)
                log.warning("notifications: %r is not a Telegram conversation; left pending", conversation_id)
            return None

    async def _deliver(self, chat: int, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row_id = int(row["id"])
            try:
                await self.channel.push_notification(chat, row)
            except asyncio.CancelledError:
                raise
            except (Forbidden, BadRequest) as err:  # refused for good, for now: pause this chat
                _, pause = self._paused.get(row_id, (0.0, REFUSED_FIRST_PAUSE / 2))
                pause = min(pause * 2, REFUSED_MAX_PAUSE)
                self._paused[row_id] = (time.monotonic() + pause, pause)
                log.warning(
                    "chat %s: notification %s refused by Telegram (%s); trying again in %.0f s",
                    chat, row_id, type(err).__name__, pause,
                )
                return
            except (TelegramError, OSError) as err:  # retries used up: the next look tries again
                log.warning("chat %s: notification %s not delivered yet (%s)", chat, row_id, err)
                return
            except Exception:
                log.exception("chat %s: notification %s could not be sent; trying again", chat, row_id)
                return
            self._paused.pop(row_id, None)
            self._unmarked.add(row_id)
            try:
                await asyncio.to_thread(self.requests.mark_delivered, [row_id])
            except Exception as err:  # remembered in _unmarked: marked at the next look, never resent
                log.warning("notification %s delivered but not yet marked (%s)", row_id, type(err).__name__)
            else:
                self._unmarked.discard(row_id)
