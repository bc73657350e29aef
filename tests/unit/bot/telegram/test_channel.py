"""The Telegram channel against the fake Bot API over real HTTP and a fake Rasa."""

from __future__ import annotations

import time

import pytest

from bot.telegram import texts
from bot.telegram.settings import TelegramSettings
from community.recovery import recovery_reply
from community.settings import Settings
from community.store import Store
from tests.support.fake_telegram_api import FakeRasa, callback_update, markup, text_update
from tools.stack import free_port

CHAT = 4242
ANSWER = (
    "【老年餐桌】幸福里社区养老服务驿站一层101室，周一至周日 11:00-13:00\n"
    "带本人身份证，每餐15元\n电话 010-8765-4311"
)
BUTTONS = [{"title": "详细材料", "payload": '/elderly_meal{"detail":"materials"}'},
           {"title": "找人工", "payload": "/human_handoff"}]


def catalogue_answer(message: str) -> list[dict]:
    if message == "/cancel":
        return [{"text": "好的，已经取消了刚才的申请。还需要办别的吗？"}]
    if message.startswith("/human_handoff"):
        return [{"text": "好的，已为您转人工。"}]
    if message.startswith("/elderly_meal"):
        return [{"text": ANSWER, "buttons": BUTTONS}]
    return [{"text": f"答：{message}"}]


def test_start_shows_the_welcome_and_the_big_buttons(make_bot):
    bot = make_bot(FakeRasa())
    bot.send(text_update(CHAT, "/start"))
    call = bot.wait_text("社区服务助手")
    keyboard = [b["text"] for row in markup(call)["keyboard"] for b in row]
    assert keyboard == ["证明办理", "养老服务", "托育服务", "就业服务", "找人工", "长辈模式"]
    assert markup(call)["resize_keyboard"] is True
    assert "inline_keyboard" not in markup(call)  # no rating on the welcome
    assert any(c.method == "setMyCommands" for c in bot.api.calls)


def test_a_big_button_sends_its_payload_and_the_answer_gets_buttons_and_rating(make_bot):
    rasa = FakeRasa(catalogue_answer)
    bot = make_bot(rasa)
    bot.send(text_update(CHAT, "养老服务"))
    call = bot.wait_text("老年餐桌")
    assert rasa.received[0] == {
        "sender": f"tg-{CHAT}", "message": '/elderly_meal{"menu":"domain"}',
        "metadata": {"channel": "telegram"},
    }
    rows = markup(call)["inline_keyboard"]
    assert [b["text"] for b in rows[0]] == ["详细材料"] and [b["text"] for b in rows[1]] == ["找人工"]
    assert [b["text"] for b in rows[-1]] == ["👍 有用", "👎 没用"]


def test_a_button_tap_sends_the_payload_back_and_answers_the_callback(make_bot):
    rasa = FakeRasa(catalogue_answer)
    bot = make_bot(rasa)
    bot.send(text_update(CHAT, "养老服务"))
    call = bot.wait_text("老年餐桌")
    handoff = markup(call)["inline_keyboard"][1][0]["callback_data"]
    bot.send(callback_update(CHAT, handoff))
    bot.wait_text("已为您转人工")
    assert rasa.received[-1]["message"] == "/human_handoff"
    assert bot.api.sent("answerCallbackQuery")
    bot.send(callback_update(CHAT, "b:no-such-key"))
    bot.wait_for(lambda: any(
        c.params.get("text") == texts.BUTTON_EXPIRED for c in bot.api.sent("answerCallbackQuery")
    ))


def test_a_rating_is_stored_and_a_thumbs_down_goes_to_review(make_bot, sqlite_url):
    bot = make_bot(FakeRasa(catalogue_answer))
    bot.send(text_update(CHAT, "老年食堂在哪"))
    bot.wait_text("答：老年食堂在哪")
    rows = markup(bot.api.sent()[-1])["inline_keyboard"]
    down = rows[-1][1]["callback_data"]
    bot.send(callback_update(CHAT, down))
    bot.wait_for(lambda: any(
        c.params.get("text") == texts.RATED_DOWN for c in bot.api.sent("answerCallbackQuery")
    ))
    store = Store.from_url(sqlite_url)
    [rating] = store.ratings.list(f"tg-{CHAT}")
    assert (rating["question"], rating["answer"]) == ("老年食堂在哪", "答：老年食堂在哪")
    assert rating["rating"] == "down"
    assert rating["channel"] == "telegram"
    assert [u["reason"] for u in store.review_queue.list()] == ["rated_down"]
    bot.send(callback_update(CHAT, down))
    bot.wait_for(lambda: any(
        c.params.get("text") == texts.RATED_ALREADY for c in bot.api.sent("answerCallbackQuery")
    ))
    assert len(store.ratings.list(f"tg-{CHAT}")) == 1


def test_cancel_without_a_reply_from_the_assistant_still_says_so(make_bot):
    rasa = FakeRasa(lambda m: [])
    bot = make_bot(rasa)
    bot.send(text_update(CHAT, "/cancel"))
    assert bot.wait_text("已取消").params["text"] == texts.CANCELLED
    assert [r["message"] for r in rasa.received] == ["/cancel"]


def test_greetings_are_not_rated(make_bot):
    bot = make_bot(FakeRasa(lambda m: [{"text": "您好！我是幸福里社区服务助手。"}]))
    bot.send(text_update(CHAT, "你好"))
    call = bot.wait_text("您好")
    assert "inline_keyboard" not in markup(call)


def test_commands(make_bot):
    from voice.tts import FakeSynthesizer

    rasa = FakeRasa(catalogue_answer)
    bot = make_bot(rasa, synthesizer=FakeSynthesizer(seconds_per_char=0.01))
    bot.send(text_update(CHAT, "/help"))
    bot.wait_text("/elder")
    bot.send(text_update(CHAT, "/myrequests"))
    assert bot.wait_text("暂无", timeout=5).params["text"] == texts.NO_REQUESTS
    bot.send(text_update(CHAT, "/cancel"))
    call = bot.wait_text("已经取消了刚才的申请")  # the assistant's own reply to the cancel intent
    assert rasa.received[-1]["message"] == "/cancel"
    assert "inline_keyboard" not in markup(call)  # not rated
    bot.send(text_update(CHAT, "/voice"))
    bot.wait_text(texts.VOICE_ON)
    bot.send(text_update(CHAT, "/voice"))
    bot.wait_text(texts.VOICE_OFF)


def test_a_long_answer_is_split_at_line_boundaries(make_bot):
    lines = [f"第{i}行：" + "社区服务" * 30 for i in range(80)]  # about 9,800 characters
    long_answer = "\n".join(lines)
    bot = make_bot(FakeRasa(lambda m: [{"text": long_answer}]))
    bot.send(text_update(CHAT, "全部服务"))
    bot.wait_for(lambda: len(bot.api.texts()) >= 3 and "inline_keyboard" in markup(bot.api.sent()[-1]))
    parts = bot.api.texts()
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == long_answer
    assert all(p.split("\n")[0].startswith("第") for p in parts)  # every part starts on a whole line
    assert "reply_markup" not in bot.api.sent()[0].params  # buttons only under the last part


def recovering(text: str) -> str:
    return "\n".join(recovery_reply(text, Settings.community_phone).lines)


def test_rasa_down_then_up_the_kept_message_is_answered(make_bot):
    port = free_port()
    bot = make_bot(rasa_url=f"http://127.0.0.1:{port}", action_health_url="")
    bot.send(text_update(CHAT, "我想办居住证明"))
    bot.wait_text("系统正在恢复")
    bot.send(text_update(CHAT, "第二个问题"))
    bot.wait_text(texts.KEPT)
    time.sleep(0.5)
    rasa = FakeRasa()
    bot.rasa = rasa
    bot.run(rasa.start(port))
    bot.wait_text("答：第二个问题")
    assert bot.api.texts() == [
        recovering("我想办居住证明"), texts.KEPT, "答：我想办居住证明", "答：第二个问题",
    ]


def test_action_server_down_is_busy_too(make_bot):
    rasa = FakeRasa(lambda m: [] if not rasa.healthy else [{"text": f"答：{m}"}])
    rasa.healthy = False
    bot = make_bot(rasa)
    bot.send(text_update(CHAT, "高龄津贴"))
    bot.wait_text("系统正在恢复")
    rasa.healthy = True
    bot.wait_text("答：高龄津贴")


def test_per_chat_order_is_kept(make_bot):
    rasa = FakeRasa()
    rasa.delay = lambda m: 0.3 if m == "一" else 0.0
    bot = make_bot(rasa)
    for word in ["一", "二", "三"]:
        bot.send(text_update(CHAT, word))
    bot.send(text_update(CHAT + 1, "别的居民"))
    bot.wait_for(lambda: len(bot.api.texts(CHAT)) == 3)
    assert bot.api.texts(CHAT) == ["答：一", "答：二", "答：三"]
    assert bot.api.sent(chat_id=CHAT + 1)[0].at < bot.api.sent(chat_id=CHAT)[0].at  # not held up


def test_flood_limit_says_slow_down_once(make_bot):
    bot = make_bot(FakeRasa(), flood_messages=3, flood_seconds=10)
    for i in range(7):
        bot.send(text_update(CHAT, f"消息{i}"))
    bot.wait_for(lambda: len(bot.api.texts()) >= 4)
    time.sleep(0.5)
    sent = bot.api.texts()
    assert sent.count(texts.FLOOD) == 1
    assert [t for t in sent if t.startswith("答")] == ["答：消息0", "答：消息1", "答：消息2"]


def test_telegram_429_retry_after_is_honoured(make_bot):
    bot = make_bot(FakeRasa())
    bot.api.fail("sendMessage", 429, retry_after=1)
    bot.send(text_update(CHAT, "/help"))
    call = bot.wait_text("/elder")
    [refused] = [c for c in bot.api.calls if c.status == 429]
    assert call.at - refused.at >= 0.95


def test_telegram_5xx_is_retried(make_bot):
    bot = make_bot(FakeRasa())
    bot.api.fail("sendMessage", 502, times=2)
    bot.send(text_update(CHAT, "/myrequests"))
    bot.wait_text("暂无")
    assert [c.status for c in bot.api.calls if c.method == "sendMessage"] == [502, 502, 200]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("a\nb\nc", 3, ["a\nb", "c"]), ("abcdef", 4, ["abcd", "ef"]), ("短", 10, ["短"])],
)
def test_split_message(text, limit, expected):
    assert texts.split_message(text, limit) == expected


def test_settings_derive_the_file_url_and_stay_off_without_a_token():
    settings = TelegramSettings.from_env({"TELEGRAM_API_URL": "http://127.0.0.1:8081/bot"})
    assert settings.file_url == "http://127.0.0.1:8081/file/bot" and not settings.enabled
    assert TelegramSettings.from_env({}).api_url == "https://api.telegram.org/bot"


def test_a_failing_handler_is_logged_masked_and_the_resident_is_told(make_bot, monkeypatch, caplog):
    from bot.telegram.handlers import Handlers

    async def broken_help(self, update, context):  # fails inside PTB: its error handler answers
        raise RuntimeError("请回电 13812345678")

    def broken_requests(rows, more=False):  # fails in the chat's queue
        raise RuntimeError("身份证 110101195001011234")

    monkeypatch.setattr(Handlers, "on_help", broken_help)
    monkeypatch.setattr(texts, "format_requests", broken_requests)
    bot = make_bot(FakeRasa())
    bot.send(text_update(CHAT, "/help"))
    assert bot.wait_text("没有处理好").params["text"] == texts.FAILED
    bot.send(text_update(CHAT, "/myrequests"))
    bot.wait_for(lambda: bot.api.texts(CHAT).count(texts.FAILED) == 2, what="the second apology")
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text
    assert "110101195001011234" not in caplog.text and "RuntimeError" in caplog.text
    bot.send(text_update(CHAT, "你好"))
    bot.wait_text("答：你好")  # the chat goes on
