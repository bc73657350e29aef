"""Service requests: reference numbers, status changes, notifications, retention."""

import datetime as dt
import threading

import pytest

from community.records.requests import NewRequest, RequestError, masked
from community.store import Store

TABLES = ("notifications", "request_events", "service_requests", "request_sequences")


@pytest.fixture()
def store(store_url):
    store = Store.from_url(store_url)
    _empty(store)
    yield store
    _empty(store)
    store.engine.dispose()


def _empty(store):
    with store.engine.begin() as connection:
        for table in TABLES:
            connection.exec_driver_sql(f"DELETE FROM {table}")


def meal(conversation="web-1", **extra):
    values = dict(
        kind="meal",
        title="助餐登记",
        channel="web",
        conversation_id=conversation,
        fields={"elder_name": "张三明", "age": 82, "meal_mode": "delivery"},
        summary="张三明 82岁 3栋2单元501 送餐 13812345678",
        contact_name="张三明",
        phone="13812345678",
        address="3栋2单元501",
        due_days=3,
    )
    values.update(extra)
    return NewRequest(**values)


NOON = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.timezone.utc)  # 12:00 in Beijing


def test_references_are_sequential_per_local_day(store):
    first = store.requests.create(meal(), now=NOON)
    second = store.requests.create(meal(), now=NOON)
    # 23:30 Beijing time on the 29th is still the 29th; 00:30 on the 30th starts a new day.
    late = store.requests.create(meal(), now=dt.datetime(2026, 11, 29, 15, 30, tzinfo=dt.timezone.utc))
    next_day = store.requests.create(meal(), now=dt.datetime(2026, 11, 29, 16, 30, tzinfo=dt.timezone.utc))
    assert [r["ref"] for r in (first, second, late, next_day)] == [
        "SQ-20261129-0001",
        "SQ-20261129-0002",
        "SQ-20261129-0003",
        "SQ-20261130-0001",
    ]
    stored = store.requests.get("sq-20261129-0002")
    assert stored["status"] == "submitted" and stored["fields"]["age"] == 82
    assert stored["phone"] == "13812345678"


def test_client_key_makes_creation_idempotent(store):
    one = store.requests.create(meal(client_key="outbox-1"))
    again = store.requests.create(meal(client_key="outbox-1"))
    assert one["ref"] == again["ref"]
    assert len(store.requests.list()) == 1


def test_status_change_is_recorded_and_notified(store):
    ref = store.requests.create(meal(conversation="tg-42", channel="telegram"))["ref"]
    store.requests.set_status(ref, "accepted", actor="wang")
    store.requests.set_status(ref, "done", actor="wang", note="已安排每天中午送餐")
    history = store.requests.history(ref)
    assert [h["status"] for h in history] == ["submitted", "accepted", "done"]
    assert history[-1]["actor"] == "wang"
    pending = store.notifications.pending("telegram", "tg-42")
    assert [n["kind"] for n in pending] == ["status", "status"]
    assert "已办结" in pending[-1]["text"] and "已安排每天中午送餐" in pending[-1]["text"]
    store.notifications.mark_delivered(n["id"] for n in pending)
    assert store.notifications.pending("telegram") == []


def test_report_acceptance_is_a_jiesu_jiban_acknowledgement(store):
    report = meal(kind="report", title="问题反映", contact_name=None, phone=None, address=None)
    ref = store.requests.create(report)["ref"]
    store.requests.set_status(ref, "accepted", actor="li")
    [note] = store.notifications.pending("web")
    assert note["kind"] == "ack" and "接诉即办" in note["text"] and ref in note["text"]


def test_bad_status_changes_are_refused(store):
    ref = store.requests.create(meal())["ref"]
    with pytest.raises(RequestError) as err:
        store.requests.set_status(ref, "rejected", actor="li")
    assert err.value.code == "note-required"
    store.requests.set_status(ref, "done", actor="li")
    with pytest.raises(RequestError) as err:
        store.requests.set_status(ref, "in_progress", actor="li")
    assert err.value.code == "bad-transition"
    with pytest.raises(RequestError) as err:
        store.requests.set_status("SQ-20000101-0001", "done", actor="li")
    assert err.value.code == "not-found"


def test_filters_and_overdue(store):
    old = store.requests.create(meal(), now=NOON - dt.timedelta(days=10))
    store.requests.create(meal(kind="report", title="问题反映"), now=NOON)
    assert [r["ref"] for r in store.requests.list(overdue=True, now=NOON)] == [old["ref"]]
    assert len(store.requests.list(kind="report")) == 1
    assert len(store.requests.list(since=NOON - dt.timedelta(days=1))) == 1
    assert store.requests.counts_by_status()["submitted"] == 2


def test_lists_show_personal_data_masked(store):
    row = masked(store.requests.create(meal()))
    assert row["contact_name"] == "张*明" and row["phone"] == "138****5678"
    assert row["address"] == "3栋***" and "13812345678" not in row["summary"]


def test_retention_anonymises_requests_closed_long_ago(store):
    old = store.requests.create(meal(), now=NOON - dt.timedelta(days=500))
    store.requests.set_status(old["ref"], "done", actor="li", now=NOON - dt.timedelta(days=400))
    recent = store.requests.create(meal(), now=NOON)
    store.requests.set_status(recent["ref"], "done", actor="li", now=NOON)
    open_old = store.requests.create(meal(), now=NOON - dt.timedelta(days=500))
    assert store.requests.purge_closed(older_than_days=365, now=NOON) == 1
    gone = store.requests.get(old["ref"])
    assert gone["anonymised"] and gone["phone"] is None and gone["contact_name"] is None
    assert "13812345678" not in gone["summary"] and gone["fields"] == {}
    assert store.requests.get(recent["ref"])["phone"] == "13812345678"
    assert store.requests.get(open_old["ref"])["phone"] == "13812345678"
    assert store.requests.purge_closed(older_than_days=365, delete=True, now=NOON) == 1
    assert store.requests.get(old["ref"]) is None


@pytest.mark.postgres
def test_concurrent_confirmations_never_share_a_reference(pg_url):
    store = Store.from_url(pg_url)
    _empty(store)
    refs: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def confirm(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                refs.append(store.requests.create(meal(conversation=f"web-{i}"), now=NOON)["ref"])
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(refs) == 80 and len(set(refs)) == 80
    assert sorted(refs) == [f"SQ-20261129-{n:04d}" for n in range(1, 81)]
    _empty(store)
    store.engine.dispose()
