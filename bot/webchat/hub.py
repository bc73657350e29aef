"""Messages pushed to residents while their page is open (server-sent events).

An in-process hub, independent of the store: each open page subscribes with its resident id
and gets a queue; :meth:`PushHub.publish` puts a message on every queue of that resident. A
message for a resident with no open page is dropped (notifications queued in the store are
sent again by :mod:`bot.webchat.delivery` until a page acknowledges them). Queues are bounded
so a stalled page cannot grow memory without limit.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

QUEUE_SIZE = 50
KINDS = ("staff", "status", "notice")


@dataclass(frozen=True)
class PushMessage:
    text: str
    kind: str = "staff"
    notification: int | None = None  # the store's notification id; the page acknowledges it

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a pushed message has text")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"text": self.text, "kind": self.kind}
        if self.notification is not None:
            data["id"] = self.notification
        return data


class PushHub:
    def __init__(self) -> None:
        self._queues: defaultdict[str, set[asyncio.Queue[PushMessage]]] = defaultdict(set)

    def subscribe(self, resident: str) -> asyncio.Queue[PushMessage]:
        queue: asyncio.Queue[PushMessage] = asyncio.Queue(QUEUE_SIZE)
        self._queues[resident].add(queue)
        return queue

    def unsubscribe(self, resident: str, queue: asyncio.Queue[PushMessage]) -> None:
        queues = self._queues.get(resident)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[resident]

    def listeners(self, resident: str) -> int:
        return len(self._queues.get(resident, ()))

    def publish(self, resident: str, message: PushMessage) -> int:
        """Queue ``message`` for every open page of ``resident``; how many got it."""
        delivered = 0
        for queue in list(self._queues.get(resident, ())):
            if queue.full():
                continue  # a stalled page: drop rather than block the sender
            queue.put_nowait(message)
            delivered += 1
        return delivered
