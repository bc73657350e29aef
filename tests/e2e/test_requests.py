"""Service requests end to end: residents talk to the real Rasa REST channel, the real action
server stores their requests in a real PostgreSQL server, which is stopped and started again to
check that a request confirmed during the outage is kept and delivered.

The database is a private PostgreSQL cluster (so the shared server stays up for other tests);
conversations stay in a local SQLite tracker (TRACKER_DATABASE_URL), as a site would run it to
keep talking to residents while the database is down.
"""

import json
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from community.store import Store
from tests.support.private_pg import PrivatePostgres
from tools.stack import post_json, start_stack, stop_stack

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REF = re.compile(r"SQ-\d{8}-\d{4}")
PHONE, NAME, ADDRESS = "13812345678", "王秀英", "3栋2单元501"


@pytest.fixture(scope="module")
def pg():
    server = PrivatePostgres()
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def stack(trained_model, pg, tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    stack = start_stack(var, database_url=pg.url,
                        extra_env={"TRACKER_DATABASE_URL": f"sqlite:///{var / 'tracker.db'}"})
    yield stack
    stop_stack(stack)


@pytest.fixture(scope="module")
def store(stack, pg):
    store = Store.from_url(pg.url, migrate=False)
    yield store
    store.engine.dispose()


def say(stack, sender, text):
    messages, _ = post_json(f"{stack.rasa}/webhooks/rest/webhook",
                            {"sender": sender, "message": text, "metadata": {"channel": "web"}}, timeout=60)
    return "\n".join(m.get("text", "") for m in messages)


def to_summary(stack, sender):
    say(stack, sender, f"我想给我妈报个助餐她82了住{ADDRESS}")
    say(stack, sender, NAME)
    say(stack, sender, PHONE)
    say(stack, sender, "没有")
    return say(stack, sender, "送餐上门")


def age_conversation(stack, sender, seconds):
    """Move the conversation's events ``seconds`` into the past, as if the resident had left."""
    with sqlite3.connect(stack.var_dir / "tracker.db") as db:
        db.execute("UPDATE events SET timestamp = timestamp - ?, data = json_set(data, '$.timestamp',"
                   " json_extract(data, '$.timestamp') - ?) WHERE sender_id = ?", (seconds, seconds, sender))


def test_a_form_left_for_two_hours_goes_on_where_it_stopped(stack, store):
    sender = "e2e-meal-later"
    assert "您母亲怎么称呼" in say(stack, sender, f"我想给我妈报个助餐她82了住{ADDRESS}")
    age_conversation(stack, sender, 2 * 3600)  # the session (60 minutes) has expired
    assert "电话" in say(stack, sender, NAME), "the form asks its next question"
    say(stack, sender, PHONE)
    say(stack, sender, "没有")
    summary = say(stack, sender, "送餐上门")
    assert "请核对" in summary and NAME in summary and ADDRESS in summary and PHONE in summary
    [ref] = set(REF.findall(say(stack, sender, "确认")))
    assert store.requests.get(ref)["contact_name"] == NAME


def test_a_whole_conversation_ends_in_a_stored_request(stack, store):
    first = say(stack, "e2e-meal", f"我想给我妈报个助餐她82了住{ADDRESS}")
    assert "助餐登记" in first and "您母亲怎么称呼" in first
    assert "称呼" in say(stack, "e2e-meal", "先问一下，助餐多少钱？")  # answered, then back to the form
    say(stack, "e2e-meal", NAME)
    say(stack, "e2e-meal", "电话1381234567")  # one digit short
    assert "11位" in say(stack, "e2e-meal", "我电话是1381234567")
    say(stack, "e2e-meal", PHONE)
    say(stack, "e2e-meal", "少盐")
    summary = say(stack, "e2e-meal", "送餐上门")
    assert "请核对" in summary and NAME in summary and PHONE in summary
    done = say(stack, "e2e-meal", "确认")
    [ref] = set(REF.findall(done))
    row = store.requests.get(ref)
    assert row["conversation_id"] == "e2e-meal" and row["status"] == "submitted"
    assert row["phone"] == PHONE and row["contact_name"] == NAME and row["address"] == ADDRESS
    progress = say(stack, "e2e-meal", f"查询进度 {ref}")
    assert ref in progress and "已提交" in progress
    store.requests.set_status(ref, "accepted", actor="staff-e2e", note="明天中午开始送")
    assert "已受理" in say(stack, "e2e-meal", "我的申请")


def test_cancel_in_the_middle_stores_nothing(stack, store):
    before = len(store.requests.list())
    say(stack, "e2e-cancel", "帮我约个助浴")
    assert "已取消" in say(stack, "e2e-cancel", "不办了")
    assert len(store.requests.list()) == before
    assert "证明" in say(stack, "e2e-cancel", "开居住证明要带什么")  # back to normal answers


def test_a_report_becomes_a_ticket(stack, store):
    first = say(stack, "e2e-report", "5栋楼道的路灯坏了好几天了")
    assert "接诉即办" in first and "位置" in first
    say(stack, "e2e-report", "5栋1单元楼道")
    say(stack, "e2e-report", "匿名")
    [ref] = set(REF.findall(say(stack, "e2e-report", "确认")))
    assert store.requests.get(ref)["fields"]["report_category"] == "路灯"


def test_concurrent_confirmations_never_share_a_reference(stack, store):
    senders = [f"e2e-many-{i}" for i in range(8)]
    for sender in senders:
        assert "请核对" in to_summary(stack, sender)
    with ThreadPoolExecutor(len(senders)) as pool:
        replies = list(pool.map(lambda s: say(stack, s, "确认"), senders))
    refs = [REF.findall(r)[0] for r in replies]
    assert len(set(refs)) == len(senders)
    assert {store.requests.get(ref)["conversation_id"] for ref in refs} == set(senders)


def test_a_request_confirmed_while_the_database_is_down_is_kept_and_delivered(stack, store, pg):
    assert "请核对" in to_summary(stack, "e2e-outage")
    pg.stop()
    try:
        reply = say(stack, "e2e-outage", "确认")
        assert "暂时连不上" in reply and "安全保存" in reply
        assert not REF.search(reply)
    finally:
        pg.start()
    deadline = time.monotonic() + 60
    rows = []
    while time.monotonic() < deadline and not rows:
        try:
            rows = store.requests.list(conversation_id="e2e-outage")
        except Exception:  # the pool may hold connections from before the restart
            store.engine.dispose()
        time.sleep(1)
    [row] = rows
    assert row["phone"] == PHONE and row["fields"]["meal_mode"] == "送餐上门"
    [note] = store.notifications.pending("web", "e2e-outage")
    assert note["kind"] == "outbox" and row["ref"] in note["text"]
    assert row["ref"] in say(stack, "e2e-outage", "我的申请")


def test_handoffs_made_while_the_database_is_down_reach_the_inbox_when_it_is_back(stack, store, pg):
    pg.stop()
    try:
        started = time.monotonic()
        gas = say(stack, "e2e-pg-gas", "我家煤气泄漏了")
        person = say(stack, "e2e-pg-person", "找人工")
        assert time.monotonic() - started < 15
        assert gas.startswith("请马上拨打 119") and "工作人员" in person
    finally:
        pg.start()
    deadline = time.monotonic() + 90
    waiting: dict = {}
    while time.monotonic() < deadline and len(waiting) < 2:
        try:
            waiting = {h["conversation_id"]: h for h in store.handoffs.list()
                       if h["conversation_id"] in ("e2e-pg-gas", "e2e-pg-person")}
        except Exception:  # the pool may hold connections from before the restart
            store.engine.dispose()
        time.sleep(1)
    assert waiting["e2e-pg-gas"]["emergency"] and not waiting["e2e-pg-person"]["emergency"]
    assert waiting["e2e-pg-gas"]["text"] == "我家煤气泄漏了"


def test_no_personal_data_in_the_conversation_store_or_the_logs(stack):
    tracker = stack.var_dir / "tracker.db"
    connection = sqlite3.connect(tracker)
    rows = [json.loads(row[0]) for row in connection.execute("SELECT data FROM events")]
    stored = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    connection.close()
    assert "请核对" in stored  # the summary is there, masked
    log = stack.log()
    raw = b"".join(p.read_bytes() for p in stack.var_dir.glob("tracker.db*"))
    for secret in (PHONE, NAME, ADDRESS, "1381234567"):
        assert secret not in stored, secret
        assert secret not in log, secret
        assert secret.encode() not in raw and json.dumps(secret)[1:-1].encode() not in raw, secret
    assert "138****5678" in stored and "王*英" in stored
