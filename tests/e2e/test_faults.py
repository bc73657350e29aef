"""Faults and abuse against the real assistant (Rasa, actions, web chat on SQLite under a
temporary var/): a store that can't be written, a conversation store that can't be written,
a slow action server, hostile input on the open REST channel, and Rasa's locked HTTP API.

Each test says what the resident got, and that nothing was lost or duplicated.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.rest_chat import meal_form_to_summary, say, texts, until
from tools.stack import post_json, start_stack, stop_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    # A short action timeout keeps the slow-action test short; the default is 15 s.
    stack = start_stack(tmp_path_factory.mktemp("var"), extra_env={"ACTION_TIMEOUT": "4"})
    yield stack
    stop_stack(stack)


def handoffs(stack) -> list[tuple[str, int, str]]:
    with sqlite3.connect(stack.var_dir / "community.db") as db:
        return db.execute("SELECT conversation_id, emergency, text FROM handoffs ORDER BY id").fetchall()


def requests_of(stack, sender) -> list[str]:
    with sqlite3.connect(stack.var_dir / "community.db") as db:
        rows = db.execute("SELECT ref FROM service_requests WHERE conversation_id = ?", (sender,))
        return [r[0] for r in rows]


@contextmanager
def unwritable(path: Path):
    """The file can't be written, even by root (as a full disk or a locked file would)."""
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


# -- the safety line never depends on a database write ------------------------------------------


def test_with_the_store_unwritable_emergencies_and_handoffs_are_answered_then_reach_staff(stack):
    with unwritable(stack.var_dir / "community.db"):
        started = time.monotonic()
        gas = say(stack, "我家煤气泄漏了", "rest-gas")
        fainted = say(stack, "有人晕倒了", "rest-fainted")
        person = say(stack, "找人工", "rest-person")
        assert time.monotonic() - started < 15
        assert gas[0]["text"].startswith("请马上拨打 119")
        assert fainted[0]["text"].startswith("请马上拨打 120")
        assert "工作人员" in texts(person)
        assert not {"rest-gas", "rest-fainted", "rest-person"} & {h[0] for h in handoffs(stack)}
    # The store is back: the outbox delivers all three to the staff inbox.
    arrived = until(
        lambda: {"rest-gas", "rest-fainted", "rest-person"} <= {h[0] for h in handoffs(stack)}, timeout=90
    )
    assert arrived, handoffs(stack)
    inbox = {h[0]: h for h in handoffs(stack)}
    assert inbox["rest-gas"][1] and inbox["rest-fainted"][1] and not inbox["rest-person"][1]
    assert [h[0] for h in handoffs(stack)].count("rest-gas") == 1


def test_five_typed_emergencies_make_one_handoff(stack):
    for _ in range(5):
        reply = say(stack, "/emergency_help", "rest-repeat")
        assert "110" in texts(reply)
    assert [h[0] for h in handoffs(stack)].count("rest-repeat") == 1


# -- nothing lost silently ----------------------------------------------------------------------


def test_with_the_conversation_store_unwritable_the_resident_is_told(stack):
    sender = "rest-tracker-down"
    assert "【" in texts(say(stack, "助餐在哪里吃", sender))
    with unwritable(stack.var_dir / "tracker.db"):
        reply = texts(say(stack, "高龄津贴怎么申请", sender))
        emergency = say(stack, "着火了", sender + "-fire")
    assert "无法保存" in reply
    assert emergency[0]["text"].startswith("请马上拨打 119")
    assert until(lambda: sender + "-fire" in {h[0] for h in handoffs(stack)}, timeout=30)
    assert "【" in texts(say(stack, "助餐在哪里吃", sender))  # and it serves again


def test_a_request_confirmed_while_store_and_outbox_are_unwritable_is_reported_not_saved(stack):
    sender = "rest-nothing-writable"
    meal_form_to_summary(stack, sender)
    outbox = stack.var_dir / "outbox"
    outbox.mkdir(exist_ok=True)
    with unwritable(stack.var_dir / "community.db"), unwritable(outbox):
        reply = texts(say(stack, "确认", sender))
    assert "没能保存" in reply and "SQ-" not in reply
    assert requests_of(stack, sender) == []


def test_a_request_confirmed_while_the_store_is_unwritable_is_kept_and_registered_later(stack):
    sender = "rest-outbox"
    meal_form_to_summary(stack, sender)
    with unwritable(stack.var_dir / "community.db"):
        reply = texts(say(stack, "确认", sender))
    assert "安全保存" in reply
    assert until(lambda: len(requests_of(stack, sender)) == 1, timeout=60)


def test_confirming_again_after_a_lost_turn_gives_the_same_reference(stack):
    """The request row was committed but the turn was never saved (as when Rasa dies between
    the two): the form is still at its summary, and the resident confirms again."""
    sender = "rest-twice"
    meal_form_to_summary(stack, sender)
    with unwritable(stack.var_dir / "tracker.db"):
        first = texts(say(stack, "确认", sender))
    assert "无法保存" in first
    second = texts(say(stack, "确认", sender))
    refs = requests_of(stack, sender)
    assert len(refs) == 1 and refs[0] in first and refs[0] in second


def test_a_slow_action_server_gets_a_recovery_answer_not_silence(stack):
    pid = stack.child("actions")
    os.kill(pid, signal.SIGSTOP)  # hung: it accepts connections and never answers
    try:
        started = time.monotonic()
        reply = say(stack, "高龄津贴怎么申请", "rest-slow")
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "系统正在恢复" in texts(reply) and elapsed < 15
    assert "【" in texts(say(stack, "高龄津贴怎么申请", "rest-slow"))


# -- hostile input on the open REST channel -----------------------------------------------------


def test_a_huge_message_is_refused_at_once_and_delays_no_one(stack):
    timings: dict[str, float] = {}

    def huge():
        started = time.monotonic()
        timings["reply"] = say(stack, "高" * 100_000, "rest-huge")
        timings["huge"] = time.monotonic() - started

    thread = threading.Thread(target=huge)
    thread.start()
    started = time.monotonic()
    hello = say(stack, "你好", "rest-neighbour")
    timings["hello"] = time.monotonic() - started
    thread.join()
    assert timings["huge"] < 5 and timings["hello"] < 2
    assert timings["reply"][0]["status"] == 413 and "太长" in timings["reply"][0]["text"]
    assert "社区服务助手" in texts(hello)


@pytest.mark.parametrize(
    "body, status",
    [(b"not json", 400), (b'{"sender": "a", "message": 12}', 400), (b'{"sender": "a"}', 400),
     (b'{"sender": "a", "message": "x", "n": ' + b"[" * 1000 + b"]" * 1000 + b"}", 400)],
)
def test_malformed_bodies_get_a_clear_error(stack, body, status):
    request = urllib.request.Request(f"{stack.rasa}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == status
    answer = json.loads(refused.value.read())
    assert answer["error"] and any("\u4e00" <= c <= "\u9fff" for c in answer["message"])


def test_typed_restart_does_not_wipe_a_form(stack):
    sender = "rest-restart"
    say(stack, "我想给我妈报个助餐她82了住3栋2单元501", sender)
    reply = texts(say(stack, "/restart", sender))
    assert reply  # never silence
    with urllib.request.urlopen(stack.api(f"/conversations/{sender}/tracker"), timeout=10) as response:
        tracker = json.loads(response.read())
    assert tracker["active_loop"].get("name") == "request_form"
    assert not any(e.get("event") == "restart" for e in tracker["events"])


def test_greeting_writes_no_error_to_the_log(stack):
    size = len(stack.log())
    messages = say(stack, "你好", "rest-greeting")
    assert messages[0]["buttons"][1]["payload"] == '/elderly_meal{"menu":"domain"}'
    time.sleep(0.5)
    assert "ERROR" not in stack.log()[size:]


# -- Rasa's HTTP API is locked ------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/conversations/rest-gas/tracker", None),
        ("POST", "/conversations/x/tracker/events",
         [{"event": "slot", "name": "request_confirmed", "value": True}]),
        ("POST", "/conversations/x/execute", {"name": "action_submit_request"}),
        ("PUT", "/model", {"model_file": "models/community.tar.gz"}),
        ("POST", "/model/parse", {"text": "你好"}),
    ],
)
def test_rasa_http_api_refuses_without_the_token(stack, method, path, body):
    for content_type in ("application/json", "text/plain"):  # text/plain: what a web page can send
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{stack.rasa}{path}", data=data, method=method,
                                         headers={"Content-Type": content_type})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (401, 403)
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{stack.rasa}{path}?token=wrong", timeout=10)
    assert requests_of(stack, "x") == []
    parsed, _ = post_json(stack.api("/model/parse"), {"text": "你好"})
    assert parsed["intent"]["name"]


def test_token_file_is_private(stack):
    assert oct((stack.var_dir / "rasa_auth_token").stat().st_mode & 0o777) == "0o600"


def test_no_personal_data_in_logs_or_var(stack):
    sender = "rest-privacy"
    meal_form_to_summary(stack, sender)
    say(stack, "确认", sender)
    leaked = []
    for path in stack.var_dir.rglob("*"):
        if not path.is_file() or path.name.startswith("community.db"):
            continue  # the request store itself holds the request
        data = path.read_bytes()
        for secret in ("13812345678", "王秀英", "2单元501"):
            if secret.encode() in data:
                leaked.append((path.name, secret))
    assert leaked == []
