"""Pushed messages: rows of the ``notifications`` table delivered to Telegram chats.

Other components (the staff console's handoff inbox, request status changes, the 接诉即办
acknowledgement) queue notifications with :class:`community.records.notifications.Notifications`,
and the channel itself keeps there the answers Telegram would not take while it was down (kind
``answer``). A :class:`PushPump` started with the application looks at the table every
``interval`` seconds and hands the due rows of channel "telegram" to ``send`` (the channel's
:meth:`~bot.telegram.delivery.Delivery.notification`):

* per chat, in the order they were queued, one delivery task per chat at a time, and never in
  the middle of an answer being sent to that chat (``send`` holds the chat's send lock);
* each row is claimed in the store before it is sent (one more attempt, counted there) and
  marked delivered as soon as Telegram accepted all of its text. A row Telegram accepted is
  never sent again by this process, even when marking it delivered fails for a while (it is
  remembered and marked at the next look);
* at start-up, rows an earlier run claimed and never confirmed (it stopped between sending and
  marking, so the resident may or may not have them) go out once more, marked "（补发）":
  better twice, and said so, than never;
* while Telegram is down (5xx, timeouts, 429 after :func:`with_retry`) rows wait and are tried
  again at the next look; that does not count against them;
* a row Telegram refuses (the resident blocked the bot: 403; a bad request: 400) waits with a
  growing pause, and the chat's later rows wait behind it (in the store, so other chats are not
  held up); after ``max_attempts`` refusals it is given up and logged (masked), not retried
  forever. A row whose conversation is not a Telegram chat is given up at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.telegram.chats import CHANNEL, chat_id_of
from community.db import utcnow
from community.privacy import mask_text
from community.records.notifications import Notifications
from community.sealed import is_sealed

log = logging.getLogger(__name__)

Send = Callable[[int, dict[str, Any]], Awaitable[None]]  # (chat id, row): returns once accepted
BATCH = 200  # rows read at one look
REFUSED_FIRST_PAUSE = 30.0  # seconds before a row Telegram refused is tried again; doubled up to…
REFUSED_MAX_PAUSE = 3600.0
MAX_ATTEMPTS = 8  # refusals before a row is given up (TelegramSettings.notify_max_attempts)


def preview(row: dict[str, Any]) -> str:
    """What a log line may show of a row's text: short and masked; a sealed answer not at all."""
    text = str(row.get("text") or "")
    if is_sealed(text):
        return "(sealed)"
    return mask_text(" ".join(text.split())[:30])


class PushPump:
    def __init__(
        self,
        send: Send,
        notifications: Notifications,
        *,
        interval: float = 1.0,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.send = send
        self.notifications = notifications
        self.interval = interval
        self.max_attempts = max_attempts
        self._task: asyncio.Task[None] | None = None
        self._chats: dict[int, asyncio.Task[None]] = {}  # chat id → its delivery task
        self._unmarked: set[int] = set()  # accepted by Telegram, not yet marked delivered
        self._unreleased: dict[int, dict[str, Any]] = {}  # failed sends not yet released in the store
        self._recovered = False  # claims of an earlier run freed (once per start)
        self._store_down = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._recovered = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="telegram-pushes")

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._chats.values()] if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._chats.clear()
        try:  # what Telegram accepted is not re-sent as "（补发）" after a restart, if we can help it
            await self._flush()
        except Exception as err:
            log.warning("notifications: not all confirmed before stopping (%s)", type(err).__name__)

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

    async def _flush(self) -> None:
        """Write what the store missed: deliveries to mark, failed sends to release."""
        if self._unmarked:
            ids = sorted(self._unmarked)
            await asyncio.to_thread(self.notifications.mark_delivered, ids)
            self._unmarked.difference_update(ids)
        for row_id, release in list(self._unreleased.items()):
            await asyncio.to_thread(self.notifications.release, row_id, **release)
            del self._unreleased[row_id]

    async def look(self) -> None:
        """One look at the table: start delivering to every idle chat with due rows."""
        if not self._recovered:
            recovered = await asyncio.to_thread(self.notifications.recover_claims, CHANNEL)
            if recovered:
                log.warning("notifications: %d unconfirmed by an earlier run; re-sent marked 补发", recovered)
            self._recovered = True
        await self._flush()
        # Chats still being delivered to are left alone: their task claims its rows one by one.
        for chat in [c for c, t in self._chats.items() if t.done()]:
            del self._chats[chat]
        busy = set(self._chats)
        rows = await asyncio.to_thread(self.notifications.due, CHANNEL, limit=BATCH)
        by_chat: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            if row["id"] in self._unmarked or row["id"] in self._unreleased:
                continue
            chat = await self._chat_of(row)
            if chat is None or chat in busy:
                continue
            by_chat.setdefault(chat, []).append(row)
        for chat, chat_rows in by_chat.items():
            self._chats[chat] = asyncio.get_running_loop().create_task(
                self._deliver(chat, chat_rows), name=f"telegram-pushes-{chat}"
            )

    async def _chat_of(self, row: dict[str, Any]) -> int | None:
        try:
            return chat_id_of(row["conversation_id"])
        except ValueError:
            await asyncio.to_thread(
                self.notifications.release, int(row["id"]), error="not-a-telegram-chat",
                max_attempts=0,
            )
            log.warning(
                "notification %s given up: %r is not a Telegram conversation (%s)",
                row["id"], mask_text(str(row["conversation_id"])[:40]), preview(row),
            )
            return None

    async def _deliver(self, chat: int, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row_id = int(row["id"])
            claimed = await asyncio.to_thread(self.notifications.claim, row_id)
            if claimed is None:  # delivered or given up meanwhile
                continue
            try:
                await self.send(chat, claimed)
            except asyncio.CancelledError:  # stopping: the claim stays; the next start re-sends it
                raise
            except (Forbidden, BadRequest) as err:  # refused: this row (and the chat's next) wait
                attempts = int(claimed["attempts"])
                pause = min(REFUSED_FIRST_PAUSE * 2 ** (attempts - 1), REFUSED_MAX_PAUSE)
                gave_up = await self._release(
                    row_id, error=type(err).__name__, retry_at=utcnow() + dt.timedelta(seconds=pause),
                    max_attempts=self.max_attempts,
                )
                if gave_up:
                    log.warning(
                        "chat %s: notification %s (%s) given up after %d refusals (%s): %s",
                        chat, row_id, claimed.get("kind"), attempts, err, preview(claimed),
                    )
                else:
                    log.warning(
                        "chat %s: notification %s refused by Telegram (%s); trying again in %.0f s",
                        chat, row_id, type(err).__name__, pause,
                    )
                return
            except (NetworkError, RetryAfter, OSError) as err:  # Telegram is down: next look
                log.warning("chat %s: notification %s not delivered yet (%s)", chat, row_id, err)
                await self._release(row_id, error=type(err).__name__, counted=False)
                return
            except Exception as err:
                log.exception("chat %s: notification %s could not be sent", chat, row_id)
                retry_at = utcnow() + dt.timedelta(seconds=REFUSED_FIRST_PAUSE)
                await self._release(
                    row_id, error=type(err).__name__, retry_at=retry_at, max_attempts=self.max_attempts
                )
                return
            self._unmarked.add(row_id)
            try:
                await asyncio.to_thread(self.notifications.mark_delivered, [row_id])
            except Exception as err:  # remembered in _unmarked: marked at the next look, never resent
                log.warning("notification %s delivered but not yet marked (%s)", row_id, type(err).__name__)
            else:
                self._unmarked.discard(row_id)

    async def _release(self, row_id: int, **release: Any) -> bool:
        """Free a claimed row after a failed send; if the store is away, at the next look."""
        try:
            return bool(await asyncio.to_thread(self.notifications.release, row_id, **release))
        except Exception as err:
            log.warning("notification %s: claim not released yet (%s)", row_id, type(err).__name__)
            self._unreleased[row_id] = release
            return False
