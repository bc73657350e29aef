"""The cluster's conversation lock: Rasa's ``RedisLockStore`` made safe for several replicas.

Rasa serialises the turns of one conversation with a ticket lock kept in Redis. Two faults of
Rasa 3.6's store show up when a replica dies in the middle of a turn (issue 15):

* **A waiter that waits for ever.** The turn HAProxy sends to another replica takes the next
  ticket and waits for the dead replica's ticket to expire. Its own ticket was issued a moment
  later with the same lifetime, so both can expire between two of its checks; the lock is then
  empty, ``now_serving`` is 0, never its number, and the turn waits until the client gives up
  (seen: 45 s, HAProxy's server timeout). Here every ticket is a **lease**: its holder renews
  it while it waits and while its turn runs, so a live turn never loses its place, and a dead
  replica's ticket holds the conversation for one lease (``LEASE_SECONDS``), not for
  ``TICKET_LOCK_LIFETIME`` (seen: 20 s).
* **Lost updates.** Every change is a read, a change and a write; two replicas changing the
  same conversation's lock at once can drop each other's ticket. Here each change is one Redis
  transaction (``WATCH``/``MULTI``, redis-py's ``transaction``), retried when the lock changed.

Chosen in ``endpoints.yml`` as ``lock_store: type: bot.lock_store.ClusterLockStore`` (same
settings as Rasa's ``redis`` type).
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, TypeVar

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
# How often a waiting turn looks at the lock (Rasa's own store looks once a second).
POLL_SECONDS = 0.1
# A ticket not renewed for this long is a dead replica's; live holders renew it every quarter.
LEASE_SECONDS = 6.0


class ClusterLockStore(RedisLockStore):
    """``RedisLockStore`` whose waiters never lose their place and whose changes are atomic."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, *,
                 lease_seconds: float = LEASE_SECONDS, **kwargs: object) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        self.lease_seconds = float(kwargs.pop("lease_seconds", lease_seconds))  # type: ignore[arg-type]
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        """Apply ``change`` to the conversation's lock in one Redis transaction; an empty lock is
        deleted. Returns what ``change`` returned."""
        key = self.key_prefix + conversation_id
        result: list[T] = []

        def apply(pipe) -> None:  # redis.client.Pipeline, in WATCH mode until multi()
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(conversation_id)
            result[:] = [change(lock)]
            pipe.multi()
            if lock.tickets:
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)

        self.red.transaction(apply, key)
        return result[0]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        lease = min(lock_lifetime, self.lease_seconds)
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lease))
        except Exception as err:  # noqa: BLE001 - Rasa's contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{err}") from err

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: TicketLock) -> None:
            lock.remove_expired_tickets()
            lock.remove_ticket_for(ticket_number)

        self._change(conversation_id, finish)

    def _renew(self, conversation_id: str, number: int, lease: float) -> TicketLock | None:
        """Renew ticket ``number`` for another ``lease`` (put back in its place if it expired
        meanwhile); the lock when that ticket is served now, else ``None``."""

        def renew(lock: TicketLock) -> TicketLock | None:
            lock.remove_expired_tickets()
            lock.remove_ticket_for(number)
            lock.tickets.append(Ticket(number, time.time() + lease))
            lock.tickets = type(lock.tickets)(sorted(lock.tickets, key=lambda t: t.number))
            return lock if lock.now_serving == number else None

        return self._change(conversation_id, renew)

    async def _keep(self, conversation_id: str, number: int, lease: float) -> None:
        while True:
            await asyncio.sleep(lease / 4)
            self._renew(conversation_id, number, lease)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        lease = min(lock_lifetime, self.lease_seconds)
        number = self.issue_ticket(conversation_id, lock_lifetime)
        keeper = None
        try:
            while (lock := self._renew(conversation_id, number, lease)) is None:
                await asyncio.sleep(min(POLL_SECONDS, wait_time_in_seconds))
            keeper = asyncio.create_task(self._keep(conversation_id, number, lease))
            yield lock
        finally:
            if keeper:
                keeper.cancel()
            self.cleanup(conversation_id, number)
