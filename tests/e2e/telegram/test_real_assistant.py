"""The Telegram channel in front of the real assistant (Rasa + action server, trained model)."""

from __future__ import annotations

import pytest

from community.catalogue import load_catalogue
from community.store import Store
from tests.support.fake_telegram_api import callback_update, markup, text_update
from tools.stack import start_stack, stop_stack

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
CHAT = 20260001


@pytest.fixture(scope="module")
def stack(trained_model, pg_url, tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("var"), database_url=pg_url)
    yield stack
    stop_stack(stack)


@pytest.fixture
def real_bot(make_bot, stack, pg_url):
    return make_bot(
        rasa_url=stack.rasa, action_health_url=f"http://127.0.0.1:{stack.action_port}/health",
        store=Store.from_url(pg_url), rasa_timeout=60, catalogue=load_catalogue("catalogue"),
    )


def test_a_question_is_answered_by_the_assistant_and_can_be_rated(real_bot, pg_url):
    bot = real_bot
    bot.send(text_update(CHAT, "我妈八十多了想申请高龄津贴要带啥"))
    call = bot.wait_text("高龄津贴", chat_id=CHAT, timeout=60)
    assert "010-8765-" in call.params["text"]
    rows = markup(call)["inline_keyboard"]
    up = rows[-1][0]
    assert up["text"] == "👍 有用"
    bot.send(callback_update(CHAT, up["callback_data"]))
    bot.wait_for(lambda: bot.api.sent("answerCallbackQuery"), what="the rating's acknowledgement")
    [rating] = Store.from_url(pg_url, migrate=False).ratings.list(f"tg-{CHAT}")
    assert rating["rating"] == "up" and rating["question"] == "我妈八十多了想申请高龄津贴要带啥"
    assert rating["answer"] == call.params["text"]


def test_a_big_button_and_an_inline_button_tap_reach_the_assistant(real_bot):
    bot = real_bot
    chat = CHAT + 1
    bot.send(text_update(chat, "/start"))
    bot.wait_text("社区服务助手", chat_id=chat)
    bot.send(text_update(chat, "养老服务"))
    bot.wait_for(lambda: len(bot.api.sent(chat_id=chat)) >= 2, timeout=60, what="the elderly-care menu")
    menu = bot.api.sent(chat_id=chat)[-1]
    rows = markup(menu).get("inline_keyboard", [])
    buttons = [b for row in rows for b in row if b["text"] not in ("👍 有用", "👎 没用")]  # not a rating
    assert buttons, menu.params
    before = len(bot.api.sent(chat_id=chat))
    bot.send(callback_update(chat, buttons[0]["callback_data"]))
    bot.wait_for(lambda: len(bot.api.sent(chat_id=chat)) > before, timeout=60, what="the tapped service")
    assert bot.api.sent("answerCallbackQuery")
    assert bot.api.sent(chat_id=chat)[-1].params["text"].strip()


def test_words_about_small_text_switch_elder_mode_and_a_tapping_resident_reaches_高龄津贴(real_bot):
    bot = real_bot
    chat = CHAT + 2
    bot.send(text_update(chat, "字太小了看不清"))  # the assistant's interface_help, done by the channel
    on = bot.wait_text("已打开长辈模式", chat_id=chat, timeout=60)
    assert "resize_keyboard" not in markup(on)
    bot.send(text_update(chat, "养老服务"))
    menu = bot.wait_text("关于「养老服务」", chat_id=chat, timeout=60)
    titles = [b["text"] for row in markup(menu)["inline_keyboard"] for b in row]
    assert "高龄津贴" in titles and "更多…" in titles and "在线办理" not in titles and "👍 有用" not in titles
    allowance = next(b for row in markup(menu)["inline_keyboard"] for b in row if b["text"] == "高龄津贴")
    bot.send(callback_update(chat, allowance["callback_data"]))
    answer = bot.wait_text("高龄津贴：", chat_id=chat, timeout=60)  # 长辈模式: the essentials
    assert "010-8765-4300" in answer.params["text"] and len(answer.params["text"]) < 100
    titles = [b["text"] for row in markup(answer)["inline_keyboard"] for b in row]
    assert titles[-2:] == ["👍 有用", "👎 没用"] and "办理时间" in titles
