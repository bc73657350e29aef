import pytest

from community.records.review_queue import IntentScore
from community.store import Store


@pytest.fixture()
def store(store_url):
    store = Store.from_url(store_url)
    _empty(store)  # the PostgreSQL database is shared with other tests of the session
    yield store
    _empty(store)
    store.engine.dispose()


def _empty(store):
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM unanswered_questions")
        connection.exec_driver_sql("DELETE FROM handoffs")
        connection.exec_driver_sql("DELETE FROM ratings")


def test_unanswered_question_is_kept_with_its_context(store):
    row_id = store.review_queue.record(
        text="小区能不能装个充电桩",
        channel="web",
        conversation_id="web-abc",
        reason="fallback",
        top_intents=[IntentScore("complaint_report", 0.31), IntentScore("community_affairs", 0.22)],
    )
    [row] = store.review_queue.list()
    assert row["id"] == row_id
    assert row["text"] == "小区能不能装个充电桩"
    assert row["channel"] == "web" and row["conversation_id"] == "web-abc"
    assert row["top_intents"][0] == {"name": "complaint_report", "confidence": 0.31}
    assert row["created_at"] is not None and row["status"] == "new"


def test_emergency_handoffs_come_first(store):
    store.handoffs.create(conversation_id="a", channel="web", reason="asked", text="找人工")
    store.handoffs.create(
        conversation_id="b", channel="telegram", reason="emergency", text="着火了", emergency=True
    )
    waiting = store.handoffs.list()
    assert [h["conversation_id"] for h in waiting] == ["b", "a"]


def test_migrating_twice_is_harmless(store):
    store.migrate()
    store.migrate()
    assert store.review_queue.list() == []


def test_confidence_must_be_a_probability():
    with pytest.raises(ValueError):
        IntentScore("greet", 1.5)


def test_thumbs_down_puts_the_question_in_the_review_queue(store):
    store.ratings.record(conversation_id="web-1", channel="web", question="助餐多少钱",
                        answer="【老年餐桌】…", rating="up")
    store.ratings.record(conversation_id="web-1", channel="web", question="居住证明怎么开",
                        answer="【居住证明】…", rating="down")
    assert [r["rating"] for r in store.ratings.list("web-1")] == ["up", "down"]
    [queued] = store.review_queue.list()
    assert queued["text"] == "居住证明怎么开" and queued["reason"] == "rated_down"
    with pytest.raises(ValueError):
        store.ratings.record(conversation_id="x", channel="web", question="q", answer="a", rating="meh")


def test_repeated_handoffs_from_one_conversation_are_one(store):
    """/emergency_help typed five times, or 找人工 asked again while waiting: one inbox item."""
    ids = {
        store.handoffs.create(conversation_id="web-x", channel="web", reason="emergency", text="着火了",
                             emergency=True)
        for _ in range(5)
    }
    assert len(ids) == 1 and len(store.handoffs.list()) == 1
    [handoff] = store.handoffs.list()
    assert handoff["text"] == "着火了" and handoff["emergency"]


def test_a_later_emergency_makes_the_waiting_handoff_urgent_and_keeps_both_words(store):
    first = store.handoffs.create(conversation_id="web-y", channel="web", reason="asked", text="找人工")
    again = store.handoffs.create(
        conversation_id="web-y", channel="web", reason="emergency", text="有人晕倒了", emergency=True
    )
    [handoff] = store.handoffs.list()
    assert again == first and handoff["emergency"] and handoff["reason"] == "emergency"
    assert handoff["text"].splitlines() == ["找人工", "有人晕倒了"]


def test_other_conversations_and_old_handoffs_stay_apart(store):
    import datetime as dt

    from community.db import utcnow

    old = store.handoffs.create(conversation_id="web-z", channel="web", reason="asked", text="找人",
                               created_at=utcnow() - dt.timedelta(hours=1))
    new = store.handoffs.create(conversation_id="web-z", channel="web", reason="asked", text="找人")
    other = store.handoffs.create(conversation_id="web-w", channel="web", reason="asked", text="找人")
    assert len({old, new, other}) == 3
