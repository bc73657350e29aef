"""The cluster's conversation lock (bot/lock_store.py) against the real Redis on loopback.

A Rasa replica killed in the middle of a turn leaves its ticket behind; the turn HAProxy sends
to another replica must get its turn once that ticket expires (with Rasa's own store it could
wait for ever), and replicas changing one lock at once must not lose each other's tickets.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import ClusterLockStore

pytestmark = pytest.mark.redis


def store_pair(prefix: str, lease: float = 6) -> tuple[ClusterLockStore, ClusterLockStore]:
    """Two stores on one Redis, as two replicas hold them (made as endpoints.yml makes them)."""
    config = EndpointConfig.from_dict({"type": "bot.lock_store.ClusterLockStore", "url": "127.0.0.1",
                                       "port": 6379, "db": 1, "key_prefix": prefix,
                                       "lease_seconds": lease})
    return ClusterLockStore(endpoint_config=config), ClusterLockStore(endpoint_config=config)


@pytest.fixture
def prefix():
    prefix = "test" + uuid.uuid4().hex[:12]
    yield prefix
    red = RedisLockStore(host="127.0.0.1", db=1, key_prefix=prefix).red
    for key in red.scan_iter(f"{prefix}:*"):
        red.delete(key)


def test_a_turn_behind_a_dead_replicas_ticket_gets_its_turn_when_that_ticket_expires(prefix):
    store, _ = store_pair(prefix)
    store.issue_ticket("resident", lock_lifetime=0.5)  # the killed replica's turn: never cleaned up

    async def retried_turn() -> float:
        started = time.monotonic()
        # Its own ticket, issued a moment later, expires soon after the dead one: Rasa's store
        # then finds the lock empty between two looks and waits for ever.
        async with store.lock("resident", lock_lifetime=0.6, wait_time_in_seconds=1):
            return time.monotonic() - started

    waited = asyncio.run(asyncio.wait_for(retried_turn(), timeout=10))
    assert 0.4 <= waited < 3
    assert store.get_lock("resident") is None, "the lock is gone once the turn is done"


def test_a_dead_replicas_ticket_holds_the_conversation_for_one_lease_only(prefix):
    store, _ = store_pair(prefix, lease=1)
    store.issue_ticket("resident", lock_lifetime=60)  # TICKET_LOCK_LIFETIME 60: never renewed

    async def retried_turn() -> float:
        started = time.monotonic()
        async with store.lock("resident", lock_lifetime=60):
            return time.monotonic() - started

    assert 0.9 <= asyncio.run(asyncio.wait_for(retried_turn(), timeout=10)) < 3


def test_two_replicas_never_run_turns_of_one_conversation_at_once(prefix):
    replicas = store_pair(prefix, lease=0.2)  # turns outlast the lease: their holders renew it
    inside: list[str] = []
    overlaps: list[str] = []

    async def turn(store: ClusterLockStore, name: str) -> None:
        async with store.lock("resident", lock_lifetime=5):
            if inside:
                overlaps.append(f"{name} while {inside}")
            inside.append(name)
            await asyncio.sleep(0.01 if name != "turn3" else 0.7)
            inside.remove(name)

    async def main() -> None:
        await asyncio.gather(*(turn(replicas[i % 2], f"turn{i}") for i in range(20)))

    asyncio.run(asyncio.wait_for(main(), timeout=30))
    assert not overlaps


def test_tickets_issued_at_once_by_several_replicas_are_all_kept(prefix):
    replicas = [store_pair(prefix)[0] for _ in range(6)]
    numbers: list[int] = []

    def issue(store: ClusterLockStore) -> None:
        for _ in range(30):
            numbers.append(store.issue_ticket("resident", lock_lifetime=60))

    threads = [threading.Thread(target=issue, args=(store,)) for store in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [ticket.number for ticket in replicas[0].get_lock("resident").tickets]
    assert len(set(numbers)) == 180, "no two turns got the same ticket"
    assert sorted(kept) == sorted(numbers), "no ticket was lost"
