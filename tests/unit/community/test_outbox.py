"""The outbox keeps handoffs (and requests) while the store can't take them."""

import asyncio
import time

import pytest

from community.handoff_keeper import HandoffKeeper
from community.outbox import Outbox, PendingHandoff
from community.sealed import Sealer
from community.store import Store


class BrokenStore:
    """A store whose database refuses every write (a full disk, a locked file)."""

    def create(self, **_):
        raise OSError("database or disk is full")


class SlowStore:
    def create(self, **_):
        time.sleep(5)
        return 1


@pytest.fixture()
def outbox(tmp_path):
    return Outbox(tmp_path / "outbox", Sealer.from_env(tmp_path))


def keep(store, outbox, **kwargs):
    keeper = HandoffKeeper(store, outbox, timeout=0.5)
    return asyncio.run(keeper.keep(conversation_id="web-1", channel="web", reason="emergency",
                                   text="我家煤气泄漏了", emergency=True, **kwargs))


def test_a_handoff_the_store_refuses_waits_in_the_outbox_then_reaches_the_inbox(tmp_path, outbox):
    assert keep(BrokenStore(), outbox) is False
    [entry] = outbox.pending()
    assert "煤气" not in entry.read_text()  # sealed on disk
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    # no requests, one handoff
    assert outbox.flush(store.requests, store.notifications, store.handoffs.create) == []
    [handoff] = store.handoffs.list()
    assert handoff["emergency"] and handoff["text"] == "我家煤气泄漏了" and handoff["channel"] == "web"
    assert len(outbox) == 0


def test_a_slow_store_does_not_hold_the_reply(tmp_path, outbox):
    async def timed():
        started = time.monotonic()
        kept = await HandoffKeeper(SlowStore(), outbox, timeout=0.5).keep(
            conversation_id="web-1", channel="web", reason="asked", text="找人工"
        )
        return kept, time.monotonic() - started

    kept, seconds = asyncio.run(timed())  # (asyncio.run then waits for the slow write to end)
    assert kept is False and seconds < 2 and len(outbox) == 1


def test_delivering_twice_gives_one_handoff(tmp_path, outbox):
    keep(BrokenStore(), outbox)
    [entry] = outbox.pending()
    copy = entry.with_name("0" + entry.name)
    copy.write_bytes(entry.read_bytes())  # a crash between storing and removing the entry
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    outbox.flush(store.requests, store.notifications, store.handoffs.create)
    assert len(store.handoffs.list()) == 1


def test_when_even_the_disk_refuses_the_handoff_is_kept_in_memory(tmp_path):
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the folder should be")  # mkdir fails: as on a full disk
    outbox = Outbox(blocked, Sealer.from_env(tmp_path))
    assert outbox.put_handoff(
        PendingHandoff("web-2", "web", "asked", "找人工", False, time.time())
    ) is False
    assert len(outbox) == 1
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    outbox.flush(store.requests, store.notifications, store.handoffs.create)
    assert [h["text"] for h in store.handoffs.list()] == ["找人工"] and len(outbox) == 0


def test_one_process_at_a_time_delivers(tmp_path, outbox):
    import fcntl

    keep(BrokenStore(), outbox)
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    with open(outbox.directory / ".flush.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is delivering
        outbox.flush(store.requests, store.notifications, store.handoffs.create)
        assert store.handoffs.list() == [] and len(outbox) == 1
    outbox.flush(store.requests, store.notifications, store.handoffs.create)
    assert len(store.handoffs.list()) == 1
