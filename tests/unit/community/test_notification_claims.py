"""The notification claims the Telegram sender relies on, on SQLite and PostgreSQL: a row is
claimed once, released to wait (its conversation's later rows wait behind it), given up after N
counted tries, and rows an earlier run left claimed are recovered marked for re-sending."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from community.db import utcnow
from community.store import Store


@pytest.fixture()
def store(store_url):
    store = Store.from_url(store_url)
    yield store
    store.engine.dispose()


def channel() -> str:
    return "t" + uuid.uuid4().hex[:10]  # the PostgreSQL database is shared by the session


def test_a_row_is_claimed_once_even_by_parallel_senders(store):
    ch = channel()
    row_id = store.notifications.notify(ch, "tg-1", "通知", kind="status")
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: store.notifications.claim(row_id), range(8)))
    assert len([c for c in claims if c is not None]) == 1
    assert store.notifications.due(ch) == []  # claimed: not due
    store.notifications.mark_delivered([row_id])
    assert store.notifications.claim(row_id) is None


def test_a_released_row_waits_and_its_conversation_waits_behind_it(store):
    ch = channel()
    first = store.notifications.notify(ch, "tg-1", "一", kind="status")
    second = store.notifications.notify(ch, "tg-1", "二", kind="status")
    other = store.notifications.notify(ch, "tg-2", "别人的", kind="status")
    assert store.notifications.claim(first)["attempts"] == 1
    later = utcnow() + dt.timedelta(minutes=5)
    assert not store.notifications.release(first, error="Forbidden", retry_at=later, max_attempts=3)
    assert [r["id"] for r in store.notifications.due(ch)] == [other]
    due_then = store.notifications.due(ch, now=later + dt.timedelta(seconds=1))
    assert [r["id"] for r in due_then] == [first, second, other]
    assert [r["text"] for r in store.notifications.pending(ch)] == ["一", "二", "别人的"]


def test_counted_tries_give_a_row_up_uncounted_ones_do_not(store):
    ch = channel()
    row_id = store.notifications.notify(ch, "tg-1", "通知", kind="status")
    for _ in range(5):  # the channel was down: these do not count
        assert store.notifications.claim(row_id) is not None
        released = store.notifications.release(
            row_id, error="NetworkError", counted=False, max_attempts=2
        )
        assert not released
    assert store.notifications.claim(row_id)["attempts"] == 1
    assert not store.notifications.release(row_id, error="Forbidden", max_attempts=2)
    assert store.notifications.claim(row_id)["attempts"] == 2
    assert store.notifications.release(row_id, error="Forbidden", max_attempts=2)  # given up
    assert store.notifications.pending(ch) == [] and store.notifications.due(ch) == []
    assert store.notifications.claim(row_id) is None


def test_claims_left_by_an_earlier_run_are_recovered_for_resending(store):
    ch = channel()
    unsure = store.notifications.notify(ch, "tg-1", "不确定", kind="status")
    done = store.notifications.notify(ch, "tg-1", "已送达", kind="status")
    untouched = store.notifications.notify(ch, "tg-1", "没动过", kind="status")
    store.notifications.claim(unsure)
    store.notifications.claim(done)
    store.notifications.mark_delivered([done])
    assert store.notifications.recover_claims(ch) == 1
    due = store.notifications.due(ch)
    assert [(r["id"], r["resend"]) for r in due] == [(unsure, True), (untouched, False)]


def test_answers_are_a_notification_kind(store):
    ch = channel()
    store.notifications.notify(ch, "tg-1", "sealed:xyz", kind="answer")
    assert [r["kind"] for r in store.notifications.pending(ch)] == ["answer"]


def test_a_row_queued_after_its_conversation_started_waiting_waits_too(store):
    ch = channel()
    first = store.notifications.notify(ch, "tg-1", "一", kind="status")
    store.notifications.claim(first)
    later = utcnow() + dt.timedelta(minutes=5)
    store.notifications.release(first, error="Forbidden", retry_at=later, max_attempts=3)
    newer = store.notifications.notify(ch, "tg-1", "后来的", kind="status")  # queued while it waits
    assert store.notifications.due(ch) == []
    assert store.notifications.claim(first) is not None  # while one is claimed, too
    assert store.notifications.due(ch, now=later + dt.timedelta(seconds=1)) == []
    store.notifications.mark_delivered([first])
    assert [r["id"] for r in store.notifications.due(ch)] == [newer]
