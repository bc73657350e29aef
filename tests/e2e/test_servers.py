"""End to end: the real launcher starts Rasa, the action server and the web chat; residents
talk to the REST channel over real HTTP. Conversations go to PostgreSQL (DATABASE_URL)."""

import json
import os
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from tests.support.rest_chat import say, texts
from tools.stack import post_json, start_stack, stop_stack

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def stack(trained_model, pg_url, tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("var"), database_url=pg_url)
    stack.pg_url = pg_url
    yield stack
    stop_stack(stack)


def test_a_service_question_gets_the_catalogue_answer(stack):
    reply = texts(say(stack, "我妈八十多了想申请高龄津贴要带啥"))
    assert "高龄津贴" in reply and "010-8765-" in reply
    assert len(reply.splitlines()) <= 3


def test_retired_certificate(stack):
    reply = texts(say(stack, "居委会能开无犯罪证明吗"))
    assert "不开" in reply and "派出所" in reply


def test_emergency_says_call_first(stack):
    messages = say(stack, "家里煤气味好大怎么办")
    assert messages[0]["text"].startswith("请马上拨打 119")


def test_buttons_come_back_and_a_tap_works(stack):
    messages = say(stack, "你好")
    buttons = messages[0]["buttons"]
    assert [b["title"] for b in buttons][:4] == ["证明办理", "养老服务", "托育服务", "就业服务"]
    menu = say(stack, buttons[1]["payload"])
    assert "请点选" in menu[0]["text"] and len(menu[0]["buttons"]) >= 3


def test_model_parse_api(stack):
    parsed, _ = post_json(stack.api("/model/parse"), {"text": "我想报名当志愿者"})
    assert parsed["intent"]["name"] == "volunteer_signup"
    parsed, _ = post_json(stack.api("/model/parse"), {"text": "我爸八十二岁住3栋2单元501"})
    found = {e["entity"]: e["value"] for e in parsed["entities"]}
    assert found["age"] == 82 and found["building"] == 3 and found["room"] == 501


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "还没有输入"),
        ("   ", "还没有输入"),
        ("高龄津贴" * 1250, "太长"),
        ("😀😀😀", "表情"),
        ("How do I apply for elderly meal service?", "只能看懂中文"),
        ("<script>alert(1)</script>", "网页代码"),
    ],
)
def test_bad_input_gets_a_chinese_reply_and_the_server_keeps_serving(stack, text, expected):
    reply = texts(say(stack, text, sender="resident-bad-input"))
    assert expected in reply
    assert "【" in texts(say(stack, "助餐在哪里吃", sender="resident-bad-input"))


@pytest.mark.parametrize("text", ["高齡津貼怎麼申請", "３号楼的老人助餐在哪", "我想问问 elderly 助餐 的事"])
def test_traditional_full_width_and_mixed_text_are_understood(stack, text):
    assert "【" in texts(say(stack, text, sender="resident-variants"))


def test_unanswered_question_is_recorded_for_staff(stack):
    sender = "resident-unknown"
    # Rare characters the model has never seen: nothing fits.
    reply = texts(say(stack, "请问羴靐龘齉爩怎么弄", sender=sender))
    assert "答不上来" in reply
    engine = sa.create_engine(stack.pg_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT channel, conversation_id, text, top_intents FROM unanswered_questions"
                    " WHERE conversation_id = :s"), {"s": sender}).all()
        events = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
    engine.dispose()
    assert rows and rows[0].text == "请问羴靐龘齉爩怎么弄" and rows[0].channel == "rest"
    assert '"confidence"' in rows[0].top_intents
    assert events > 0  # the conversation is in the PostgreSQL tracker store


def test_web_chat_page_and_proxy(stack):
    with urllib.request.urlopen(f"{stack.web}/", timeout=10) as response:
        page = response.read().decode("utf-8")
    assert "社区服务助手" in page and "/static/chat.js" in page
    body, headers = post_json(f"{stack.web}/api/chat", {"message": "失业登记在哪办"})
    assert "sqa_rid=" in headers.get("Set-Cookie", "")
    assert any("【" in m.get("text", "") for m in body["messages"])


def test_web_chat_rejects_malformed_requests(stack):
    request = urllib.request.Request(f"{stack.web}/api/chat", data=b"not json",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400
    assert "请求格式不对" in json.loads(info.value.read())["error"]


def test_no_personal_data_in_the_launcher_log(stack):
    say(stack, "我电话13812345678帮我登记助餐", sender="resident-privacy")
    assert "13812345678" not in stack.log()


def test_ctrl_c_stops_everything(tmp_path, trained_model):
    # Started with SIGINT ignored, as from a script or a shell without job control: Ctrl-C
    # (SIGINT) must still stop everything.
    stack = start_stack(tmp_path / "var", sigint_ignored=True)
    children = stack.children()
    assert len(children) == 4  # actions, rasa, web and the phone line
    assert stop_stack(stack) == 0
    alive = [pid for pid in children if os.path.exists(f"/proc/{pid}") and
             "zombie" not in open(f"/proc/{pid}/status").read()]
    assert alive == []
    for port in (stack.rasa_port, stack.action_port, stack.web_port):
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    assert (tmp_path / "var" / "tracker.db").exists()  # SQLite tracker store by default
