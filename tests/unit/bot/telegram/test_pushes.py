"""Pushed messages: notifications queued in the store reach the chat once, in order, and survive
Telegram's 429, 5xx and refusals."""

from __future__ import annotations

import time

import pytest

from bot.telegram import pushes, texts
from community.records.notifications import notifications
from community.records.requests import NewRequest
from community.recovery import recovery_reply
from community.settings import Settings
from community.store import Store
from tests.support.fake_telegram_api import FakeRasa, text_update
from tools.stack import free_port
from voice.tts import FakeSynthesizer

CHAT = 5150


def report(chat: int, title: str = "楼道灯不亮", kind: str = "report") -> NewRequest:
    return NewRequest(
        kind=kind, title=title, channel="telegram", conversation_id=f"tg-{chat}",
        fields={"where": "3栋"}, summary=title,
    )


def pending(store: Store) -> list[dict]:
    return store.notifications.pending("telegram")


def test_a_status_change_and_the_report_acknowledgement_reach_the_chat_on_postgresql(make_bot, pg_url):
    store = Store.from_url(pg_url)
    chat = CHAT + 1
    bot = make_bot(FakeRasa(), store=store)
    certificate = store.requests.create(report(chat, "居住证明", kind="certificate"))
    street = store.requests.create(report(chat))
    store.requests.set_status(certificate["ref"], "accepted", actor="staff")
    store.requests.set_status(street["ref"], "accepted", actor="staff")  # staff take the report
    store.requests.set_status(certificate["ref"], "rejected", actor="staff", note="请补交户口本复印件")
    bot.wait_for(lambda: len(bot.api.texts(chat)) >= 3, what="three pushed messages")
    time.sleep(0.6)  # a few more looks at the table: nothing is sent twice
    assert bot.api.texts(chat) == [
        f"您的居住证明（{certificate['ref']}）已受理。",
        f"接诉即办：您反映的问题（{street['ref']}）已由社区工作人员受理，我们会尽快处理并告诉您结果。",
        f"您的居住证明（{certificate['ref']}）未通过。\n工作人员说明：请补交户口本复印件",
    ]
    assert not pending(store)  # all marked delivered


def test_a_staff_reply_is_pushed_and_spoken_when_voice_is_on(make_bot, sqlite_url):
    synthesizer = FakeSynthesizer(seconds_per_char=0.01)
    bot = make_bot(FakeRasa(), synthesizer=synthesizer)
    bot.send(text_update(CHAT, "/voice"))
    bot.wait_text(texts.VOICE_ON, chat_id=CHAT)
    store = Store.from_url(sqlite_url)
    store.notifications.notify("telegram", f"tg-{CHAT}", "您反映的路灯问题已派人维修，电话 010-8765-4311。")
    call = bot.wait_text("路灯问题", chat_id=CHAT)
    assert call.params["text"] == "【社区工作人员回复】\n您反映的路灯问题已派人维修，电话 010-8765-4311。"
    # the first voice note is the spoken "已打开语音回复" (every reply is spoken)
    voice = bot.wait_for(lambda: bot.api.sent("sendVoice", CHAT)[1:], what="the spoken staff reply")[0]
    assert voice.params["voice"].startswith(b"OggS")
    spoken = synthesizer.calls[-1][0]
    assert "路灯" in spoken and "【" not in spoken and "010" not in spoken  # read for the ear
    bot.wait_for(lambda: not pending(store), what="the notification marked delivered")


def test_a_429_during_a_push_is_waited_out_and_the_message_delivered_once(make_bot, sqlite_url):
    bot = make_bot(FakeRasa())
    store = Store.from_url(sqlite_url)
    bot.api.fail("sendMessage", 429, retry_after=1)
    store.notifications.notify("telegram", f"tg-{CHAT}", "请明天上午来社区领取证明。")
    call = bot.wait_text("领取证明", chat_id=CHAT)
    [refused] = [c for c in bot.api.calls if c.status == 429]
    assert call.at - refused.at >= 0.95  # Telegram's retry_after was honoured
    time.sleep(1.0)  # five more looks at the table
    assert bot.api.texts(CHAT) == ["【社区工作人员回复】\n请明天上午来社区领取证明。"]
    assert not pending(store)


def test_5xx_during_a_push_is_retried(make_bot, sqlite_url):
    bot = make_bot(FakeRasa())
    store = Store.from_url(sqlite_url)
    bot.api.fail("sendMessage", 502, times=2)
    store.notifications.notify("telegram", f"tg-{CHAT}", "已安排网格员上门。", kind="status")
    bot.wait_text("网格员", chat_id=CHAT)
    assert [c.status for c in bot.api.calls if c.method == "sendMessage"] == [502, 502, 200]
    bot.wait_for(lambda: not pending(store), what="the notification marked delivered")


def test_a_refused_push_stays_queued_and_a_long_one_is_resumed_not_repeated(
    make_bot, sqlite_url, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(pushes, "REFUSED_FIRST_PAUSE", 0.5)
    bot = make_bot(FakeRasa())
    store = Store.from_url(sqlite_url)
    long_reply = "\n".join(f"第{i}条：" + "请携带材料" * 40 for i in range(30))  # about 6,000 characters
    # Telegram takes the first part and then refuses (a 400), and then refuses the next row too.
    bot.api.slow["sendMessage"] = 0.3
    store.notifications.notify("telegram", f"tg-{CHAT}", long_reply)
    bot.wait_for(lambda: bot.api.sent("sendMessage", CHAT), what="the first part")
    bot.api.fail("sendMessage", 400)
    store.notifications.notify("telegram", f"tg-{CHAT}", "第二条通知。", kind="status")
    bot.wait_text("第二条通知", chat_id=CHAT, timeout=20)
    sent = bot.api.texts(CHAT)
    assert sent[-1] == "第二条通知。"  # after the long one: order kept
    parts = sent[:-1]
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)  # each part once
    assert "\n".join(parts) == "【社区工作人员回复】\n" + long_reply
    assert [c.status for c in bot.api.calls if c.method == "sendMessage"].count(400) == 1
    bot.wait_for(lambda: not pending(store), what="both marked delivered")


def test_a_push_never_cuts_into_an_answer(make_bot, sqlite_url):
    long_answer = "\n".join(f"第{i}行：" + "社区服务" * 30 for i in range(80))  # three messages
    bot = make_bot(FakeRasa(lambda m: [{"text": long_answer}]))
    bot.api.slow["sendMessage"] = 0.3
    store = Store.from_url(sqlite_url)
    bot.send(text_update(CHAT, "全部服务"))
    bot.wait_for(lambda: bot.api.sent("sendMessage", CHAT), what="the first part of the answer")
    store.notifications.notify("telegram", f"tg-{CHAT}", "您的申请已受理。", kind="status")
    bot.wait_text("已受理", chat_id=CHAT)
    sent = bot.api.texts(CHAT)
    assert len(sent) == 4 and sent[-1] == "您的申请已受理。"
    assert "\n".join(sent[:3]) == long_answer


def test_pushes_to_other_channels_are_left_alone_and_bad_conversations_given_up(make_bot, sqlite_url):
    bot = make_bot(FakeRasa())
    store = Store.from_url(sqlite_url)
    store.notifications.notify("webchat", "web-abc", "网页上的通知")
    store.notifications.notify("telegram", "not-a-chat", "无法投递")
    store.notifications.notify("telegram", f"tg-{CHAT}", "给居民的通知", kind="status")
    bot.wait_text("给居民的通知", chat_id=CHAT)
    time.sleep(0.5)
    assert bot.api.texts() == ["给居民的通知"]
    assert pending(store) == []  # never deliverable here: given up (kept in the table), not retried
    with store.engine.connect() as connection:
        [(error, gave_up)] = connection.execute(
            notifications.select()
            .with_only_columns([notifications.c.last_error, notifications.c.gave_up_at])
            .where(notifications.c.conversation_id == "not-a-chat")
        ).all()
    assert error == "not-a-telegram-chat" and gave_up is not None
    assert [n["text"] for n in store.notifications.pending("webchat")] == ["网页上的通知"]


def test_pushes_stop_with_the_application_and_resume_after_a_restart(make_bot, sqlite_url):
    bot = make_bot(FakeRasa())
    assert bot.channel is not None and bot.channel.pushes is not None and bot.channel.pushes.running
    bot.run(bot.channel.stop_polling())
    assert not bot.channel.pushes.running
    store = Store.from_url(sqlite_url)
    store.notifications.notify("telegram", f"tg-{CHAT}", "停机时排队的通知", kind="status")
    time.sleep(0.5)
    assert not bot.api.texts() and len(pending(store)) == 1
    bot.run(bot.channel.start_polling())  # a restart: the queued message goes out
    bot.wait_text("停机时排队的通知", chat_id=CHAT)
    bot.wait_for(lambda: not pending(store), what="marked delivered")


def test_a_staff_reply_is_not_held_up_while_the_assistant_is_down(make_bot, sqlite_url):
    port = free_port()
    bot = make_bot(rasa_url=f"http://127.0.0.1:{port}", action_health_url="")
    store = Store.from_url(sqlite_url)
    bot.send(text_update(CHAT, "我想办居住证明"))
    bot.wait_text("系统正在恢复", chat_id=CHAT)
    store.notifications.notify("telegram", f"tg-{CHAT}", "我是网格员小李，稍后给您回电话。")
    bot.wait_text("网格员小李", chat_id=CHAT)
    rasa = FakeRasa()
    bot.rasa = rasa
    bot.run(rasa.start(port))
    bot.wait_text("答：我想办居住证明", chat_id=CHAT)
    assert bot.api.texts(CHAT) == [
        "\n".join(recovery_reply("我想办居住证明", Settings.community_phone).lines),
        "【社区工作人员回复】\n我是网格员小李，稍后给您回电话。", "答：我想办居住证明",
    ]
