"""The Telegram channel under faults, against the fake Bot API over real HTTP: Rasa stopped (an
emergency still gets 119/110/120 at once), Telegram down longer than the retries (the answer is
kept and delivered later), notifications claimed before sending (re-sent once, marked, after a
run stopped before confirming), and a chat that blocked the bot (given up, others unaffected)."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa

from bot.telegram import pushes, texts
from community.records.notifications import notifications
from community.recovery import recovery_reply
from community.settings import Settings
from community.store import Store
from tests.support.fake_telegram_api import FakeRasa, text_update
from tools.stack import free_port

CHAT = 7300
PHONE = Settings.community_phone


def rows(store: Store, **where: object) -> list[dict]:
    query = notifications.select().order_by(notifications.c.id)
    for key, value in where.items():
        query = query.where(notifications.c[key] == value)
    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(query)]


# --- Rasa stopped or silent ----------------------------------------------------------------------


def test_with_rasa_stopped_an_emergency_gets_its_number_first_then_the_kept_answers(make_bot):
    port = free_port()  # nothing listens there: Rasa is stopped
    bot = make_bot(rasa_url=f"http://127.0.0.1:{port}", action_health_url="")
    bot.send(text_update(CHAT, "厨房煤气泄漏了怎么办"))
    first = bot.wait_text("119", chat_id=CHAT).params["text"]
    assert first.startswith("请马上拨打 119") and PHONE in first
    assert first == "\n".join(recovery_reply("厨房煤气泄漏了怎么办", PHONE).lines)
    bot.send(text_update(CHAT, "我想办居住证明"))  # kept behind the first
    bot.wait_text(texts.KEPT, chat_id=CHAT)
    bot.send(text_update(CHAT, "楼下有人晕倒了"))  # an emergency does not wait for the assistant
    assert bot.wait_text("120", chat_id=CHAT).params["text"].startswith("请马上拨打 120")
    bot.send(text_update(CHAT + 1, "老年餐桌在哪"))  # another resident, not an emergency
    other = bot.wait_text("系统正在恢复", chat_id=CHAT + 1).params["text"]
    assert PHONE in other and "110" in other  # the numbers are there, after the recovery line
    rasa = FakeRasa()
    bot.rasa = rasa
    bot.run(rasa.start(port))  # Rasa is back: every kept message is answered, in order
    bot.wait_text("答：楼下有人晕倒了", chat_id=CHAT, timeout=20)
    answers = [t for t in bot.api.texts(CHAT) if t.startswith("答：")]
    assert answers == ["答：厨房煤气泄漏了怎么办", "答：我想办居住证明", "答：楼下有人晕倒了"]


def test_an_empty_answer_gets_the_recovery_reply_never_nothing(make_bot):
    bot = make_bot(FakeRasa(lambda message: []))  # Rasa up, but its answer is empty
    bot.send(text_update(CHAT, "着火了"))
    call = bot.wait_text("119", chat_id=CHAT)
    assert call.params["text"] == "\n".join(recovery_reply("着火了", PHONE).lines)
    assert "inline_keyboard" not in str(call.params.get("reply_markup") or "")  # nothing to rate
    bot.send(text_update(CHAT, "老年餐桌几点开门"))
    assert bot.wait_text("系统正在恢复", chat_id=CHAT).params["text"].startswith("系统正在恢复")


# --- Telegram down longer than the retries ------------------------------------------------------


def test_an_answer_telegram_would_not_take_is_kept_sealed_and_delivered_when_it_is_back(
    make_bot, sqlite_url
):
    store = Store.from_url(sqlite_url)
    bot = make_bot(FakeRasa(lambda m: [{"text": f"答：{m}，电话 13812345678"}]), store=store)
    bot.api.fail("sendMessage", 502, times=8)  # about 16 s of 502s: more than with_retry's 6 tries
    started = time.monotonic()
    bot.send(text_update(CHAT, "居住证明怎么开"))
    kept = bot.wait_for(lambda: rows(store, kind="answer"), timeout=30, what="the answer kept")
    [row] = kept
    assert row["conversation_id"] == f"tg-{CHAT}" and row["text"].startswith("sealed:")
    assert "13812345678" not in row["text"]  # what the answer says is not in the store in clear
    call = bot.wait_text("答：居住证明怎么开", chat_id=CHAT, timeout=30)
    print(f"\nanswer delivered {call.at - started:.1f} s after the question, through 8 502s")
    assert call.params["text"] == (
        texts.LATE_ANSWER.format(question="居住证明怎么开") + "\n答：居住证明怎么开，电话 13812345678"
    )
    statuses = [c.status for c in bot.api.calls if c.method == "sendMessage"]
    assert statuses == [502] * 8 + [200]
    bot.wait_for(lambda: rows(store, kind="answer")[0]["delivered_at"] is not None, what="marked delivered")
    time.sleep(0.6)
    assert len(bot.api.texts(CHAT)) == 1  # once


def test_a_long_answer_cut_off_by_telegram_keeps_only_the_rest(make_bot, sqlite_url):
    store = Store.from_url(sqlite_url)
    long_answer = "\n".join(f"第{i}行：" + "社区服务" * 30 for i in range(40))  # two messages
    bot = make_bot(FakeRasa(lambda m: [{"text": long_answer}, {"text": "还有别的事吗？"}]), store=store)
    bot.api.slow["sendMessage"] = 0.2
    bot.send(text_update(CHAT, "全部服务"))
    bot.wait_for(lambda: bot.api.sent("sendMessage", CHAT), what="the first part")
    bot.api.fail("sendMessage", 502, times=6)
    bot.wait_text("还有别的事吗？", chat_id=CHAT, timeout=40)
    sent = bot.api.texts(CHAT)
    first, rest = texts.split_message(long_answer)
    assert sent == [first, texts.LATE_ANSWER.format(question="全部服务") + "\n" + rest, "还有别的事吗？"]


# --- claims, restarts, blocked chats ------------------------------------------------------------


def test_a_row_an_earlier_run_claimed_is_resent_once_marked(make_bot, sqlite_url):
    store = Store.from_url(sqlite_url)
    unsure = store.notifications.notify("telegram", f"tg-{CHAT}", "您的申请已受理。", kind="status")
    sure = store.notifications.notify("telegram", f"tg-{CHAT}", "已经送达的通知", kind="status")
    store.notifications.notify("telegram", f"tg-{CHAT}", "新的通知", kind="status")
    # An earlier run claimed two rows and stopped: one after Telegram took it and it was marked,
    # the other before it could confirm (sent or not, nobody knows).
    assert store.notifications.claim(unsure) is not None
    assert store.notifications.claim(sure) is not None
    store.notifications.mark_delivered([sure])
    bot = make_bot(FakeRasa(), store=store)
    bot.wait_text("新的通知", chat_id=CHAT)
    time.sleep(0.6)  # a few more looks: nothing twice
    assert bot.api.texts(CHAT) == [texts.RESENT + "您的申请已受理。", "新的通知"]
    assert store.notifications.pending("telegram") == []
    assert [r["attempts"] for r in rows(store)] == [2, 1, 1]


def test_a_push_cut_off_by_a_stop_is_resent_marked_after_the_restart(make_bot, sqlite_url):
    store = Store.from_url(sqlite_url)
    bot = make_bot(FakeRasa(), store=store)
    bot.api.slow["sendMessage"] = 1.5  # Telegram has it, but its answer comes too late
    store.notifications.notify("telegram", f"tg-{CHAT}", "请明天上午来领取证明。", kind="status")
    bot.wait_for(lambda: [c for c in bot.api.arrived if c.method == "sendMessage"], what="the send")
    bot.run(bot.channel.stop_polling())  # stopped between sending and confirming
    [row] = rows(store)
    assert row["claimed_at"] is not None and row["delivered_at"] is None
    bot.api.slow.clear()
    bot.run(bot.channel.start_polling())
    bot.wait_text(texts.RESENT + "请明天上午来领取证明。", chat_id=CHAT)
    bot.wait_for(lambda: not store.notifications.pending("telegram"), what="marked delivered")
    time.sleep(0.6)
    # The resident may have it twice (if Telegram kept the first), the second time said so.
    assert bot.api.texts(CHAT)[-1] == texts.RESENT + "请明天上午来领取证明。"
    assert len(bot.api.texts(CHAT)) <= 2


def test_a_chat_that_blocked_the_bot_holds_up_nobody_and_is_given_up_after_n_tries(
    make_bot, sqlite_url, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(pushes, "REFUSED_FIRST_PAUSE", 0.2)
    caplog.set_level(logging.WARNING, logger="bot.telegram.pushes")
    store = Store.from_url(sqlite_url)
    blocked, other = CHAT, CHAT + 1
    bot = make_bot(FakeRasa(), store=store, notify_max_attempts=3)
    bot.api.blocked.add(blocked)
    first = store.notifications.notify("telegram", f"tg-{blocked}", "请回电 13812345678 王先生")
    second = store.notifications.notify("telegram", f"tg-{blocked}", "第二条", kind="status")
    for i in range(5):  # queued after the blocked chat's: delivered at once all the same
        store.notifications.notify("telegram", f"tg-{other}", f"通知{i}", kind="status")
    bot.wait_for(lambda: len(bot.api.texts(other)) == 5, what="the other chat's notifications")
    gave_up = bot.wait_for(
        lambda: [r for r in rows(store) if r["gave_up_at"] is not None], timeout=20, what="given up"
    )
    assert [r["id"] for r in gave_up][0] == first
    refused = [r for r in rows(store) if r["id"] == first][0]
    assert refused["attempts"] == 3 and refused["last_error"] == "Forbidden"
    assert refused["delivered_at"] is None
    tries = [c for c in bot.api.calls if c.method == "sendMessage" and c.status == 403]
    assert len([c for c in tries if "13812345678" in c.params["text"]]) == 3  # no more than N
    bot.wait_for(lambda: "given up" in caplog.text, what="the log line")
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text  # masked
    bot.wait_for(  # the chat's later row gets its own tries, after the first
        lambda: [r for r in rows(store) if r["id"] == second][0]["gave_up_at"] is not None,
        timeout=20, what="the second given up too",
    )
    time.sleep(1.0)
    assert len([c for c in bot.api.calls if c.status == 403]) == 6  # and then no more


def test_telegram_down_does_not_use_up_a_rows_tries(make_bot, sqlite_url):
    store = Store.from_url(sqlite_url)
    bot = make_bot(FakeRasa(), store=store, notify_max_attempts=1)
    bot.api.fail("sendMessage", 502, times=7)  # a round of six (about 16 s), and one more
    store.notifications.notify("telegram", f"tg-{CHAT}", "您的申请已办结。", kind="status")
    bot.wait_text("已办结", chat_id=CHAT, timeout=60)
    bot.wait_for(lambda: rows(store)[0]["delivered_at"] is not None, what="marked delivered")
    [row] = rows(store)
    assert row["delivered_at"] is not None and row["gave_up_at"] is None and row["attempts"] == 1


def test_settings_read_the_attempts_and_the_phone():
    from bot.telegram.settings import TelegramSettings

    settings = TelegramSettings.from_env({"TELEGRAM_NOTIFY_MAX_ATTEMPTS": "3", "COMMUNITY_PHONE": "0571-1"})
    assert settings.notify_max_attempts == 3 and settings.community_phone == "0571-1"
    assert settings.var_dir is not None
    assert TelegramSettings().notify_max_attempts == 8


def test_the_migration_adds_the_claim_columns(sqlite_url):
    store = Store.from_url(sqlite_url)
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("notifications")}
    assert {"claimed_at", "attempts", "not_before", "gave_up_at", "last_error", "resend"} <= columns
