"""Per-chat ordering and the flood limit.

Every chat has its own queue of jobs (one per message the resident sent), worked through in
order by one task, so chats never hold each other up. A chat over ``flood_messages`` per
``flood_seconds`` has its extra messages dropped and is told once (``on_flood``). While the job at
the head of a chat's queue waits for the assistant to come back, every later message is
acknowledged at once (``on_kept``) and kept in the queue. A job that fails is reported to
``on_failure`` and the queue goes on with the next.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


@dataclasses.dataclass
class _Queue:
    jobs: collections.deque[Job] = dataclasses.field(default_factory=collections.deque)
    worker: asyncio.Task[None] | None = None
    recent: collections.deque[float] = dataclasses.field(default_factory=collections.deque)
    flood_warned: bool = False
    waiting: bool = False  # the head job waits for the assistant to come back


class ChatQueues:
    def __init__(
        self,
        flood_messages: int,
        flood_seconds: float,
        *,
        on_flood: Callable[[int], Coroutine[Any, Any, None]],
        on_kept: Callable[[int, str], Coroutine[Any, Any, None]],
        on_failure: Callable[[int, BaseException], Awaitable[None]],
    ) -> None:
        self.flood_messages = flood_messages
        self.flood_seconds = flood_seconds
        self.on_flood = on_flood
        self.on_kept = on_kept
        self.on_failure = on_failure
        self._queues: dict[int, _Queue] = {}
        self._notices: set[asyncio.Task[None]] = set()

    def accept(self, chat_id: int, job: Job, said: str = "") -> None:
        """Queue ``job`` for the chat unless it is over the flood limit; ``said`` is what the
        resident wrote (an emergency is answered at once even while the head job waits)."""
        if self.admit(chat_id):
            self.enqueue(chat_id, job, said)

    def admit(self, chat_id: int) -> bool:
        """Count a message against the chat's flood limit; False (and one notice) when over it."""
        queue = self._queues.setdefault(chat_id, _Queue())
        now = time.monotonic()
        while queue.recent and now - queue.recent[0] > self.flood_seconds:
            queue.recent.popleft()
        if len(queue.recent) >= self.flood_messages:
            if not queue.flood_warned:
                queue.flood_warned = True
                log.info("chat %s is over the flood limit", chat_id)
                self._notice(self.on_flood(chat_id))
            return False
        queue.flood_warned = False
        queue.recent.append(now)
        return True

    def enqueue(self, chat_id: int, job: Job, said: str = "") -> None:
        queue = self._queues.setdefault(chat_id, _Queue())
        if queue.waiting:  # the assistant is away: say at once that the message is kept
            self._notice(self.on_kept(chat_id, said))
        queue.jobs.append(job)
        if queue.worker is None or queue.worker.done():
            queue.worker = asyncio.get_running_loop().create_task(
                self._drain(chat_id, queue), name=f"telegram-chat-{chat_id}"
            )

    def waiting(self, chat_id: int) -> bool:
        return self._queues.setdefault(chat_id, _Queue()).waiting

    def set_waiting(self, chat_id: int, waiting: bool) -> None:
        self._queues.setdefault(chat_id, _Queue()).waiting = waiting

    async def stop(self) -> None:
        """Stop the chats' workers (what they had not answered yet is lost, and logged)."""
        pending = sum(len(q.jobs) for q in self._queues.values())
        if pending:
            log.warning("stopping with %d message(s) not yet answered", pending)
        tasks = [q.worker for q in self._queues.values() if q.worker and not q.worker.done()]
        tasks += [t for t in self._notices if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, chat_id: int, queue: _Queue) -> None:
        while queue.jobs:
            try:
                await queue.jobs[0]()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                await self.on_failure(chat_id, err)
            queue.jobs.popleft()

    def _notice(self, sending: Coroutine[Any, Any, None]) -> None:
        """Send a notice now, ahead of the chat's queue (the callbacks log their failures)."""
        task = asyncio.get_running_loop().create_task(sending)
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)
