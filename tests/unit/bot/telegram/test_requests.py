"""/myrequests with service requests stored by the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from bot.telegram import texts
from community.records.requests import NewRequest
from community.store import Store
from tests.support.fake_telegram_api import FakeRasa, markup, text_update

CHAT = 31337
OTHER = 31338
ID_NUMBER = "110101195001011234"
PHONE = "13812345678"


def new_request(chat: int, title: str, kind: str = "certificate") -> NewRequest:
    return NewRequest(
        kind=kind, title=title, channel="telegram", conversation_id=f"tg-{chat}",
        fields={"name": "张三丰", "id_number": ID_NUMBER, "phone": PHONE}, summary=f"{title}，电话{PHONE}",
        contact_name="张三丰", phone=PHONE, id_number=ID_NUMBER, address="幸福里3栋2单元501",
    )


def test_my_requests_lists_the_newest_with_status_and_masks_personal_data(make_bot, sqlite_url):
    store = Store.from_url(sqlite_url)
    requests = store.requests
    start = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Beijing
    titles = ["居住证明", "老年餐桌", "高龄津贴", "托育登记", "就业登记", "无犯罪记录证明", "路灯不亮"]
    made = [
        requests.create(new_request(CHAT, title, "report" if title == "路灯不亮" else "certificate"),
                        now=start + dt.timedelta(days=i))
        for i, title in enumerate(titles)
    ]
    requests.create(new_request(OTHER, "别人的申请"), now=start)
    requests.set_status(made[6]["ref"], "accepted", actor="staff")
    note = f"材料不全，请带身份证{ID_NUMBER}再来，或打{PHONE}"
    requests.set_status(made[5]["ref"], "rejected", actor="staff", note=note)
    requests.set_status(made[4]["ref"], "in_progress", actor="staff")
    requests.set_status(made[3]["ref"], "done", actor="staff")

    bot = make_bot(FakeRasa())
    bot.send(text_update(CHAT, "/myrequests"))
    call = bot.wait_text("您的办事记录", chat_id=CHAT)
    text = call.params["text"]
    lines = text.splitlines()
    assert lines[0] == "您的办事记录（最新 5 件）："
    # newest first, each with its status in Chinese and its reference number
    assert "1. 路灯不亮 —— 已受理" in lines
    assert "2. 无犯罪记录证明 —— 未通过" in lines
    assert "3. 就业登记 —— 办理中" in lines
    assert "4. 托育登记 —— 已办结" in lines
    assert "5. 高龄津贴 —— 已提交" in lines
    assert f"编号 {made[6]['ref']}，11月26日提交" in lines
    assert "老年餐桌" not in text and "居住证明" not in text  # only the newest five
    assert "别人的申请" not in text
    assert text.endswith(texts.REQUESTS_MORE)
    # the staff note is shown, with personal data masked; nothing else personal is shown
    assert "工作人员说明：材料不全" in text
    assert ID_NUMBER not in text and PHONE not in text
    assert "1101**********1234" in text and "138****5678" in text
    assert "张三丰" not in text and "501" not in text
    assert all(len(line) <= 60 for line in lines)  # short lines
    assert [b["text"] for row in markup(call)["keyboard"] for b in row][0] == "证明办理"  # big buttons stay


def test_my_requests_on_postgresql_and_in_elder_mode(make_bot, pg_url):
    store = Store.from_url(pg_url)
    chat = CHAT + 100
    refs = [store.requests.create(new_request(chat, f"申请{i}"))["ref"] for i in range(4)]
    bot = make_bot(FakeRasa(), store=store)
    bot.send(text_update(chat, "/elder"))
    bot.wait_text("长辈模式", chat_id=chat)
    bot.send(text_update(chat, "/myrequests"))
    text = bot.wait_text("您的办事记录", chat_id=chat).params["text"]
    assert text.splitlines()[0] == "您的办事记录（最新 3 件）："  # fewer in 长辈模式
    assert "1. 申请3 —— 已提交" in text and refs[3] in text and refs[0] not in text


def test_no_requests_says_how_to_apply(make_bot):
    bot = make_bot(FakeRasa())
    bot.send(text_update(CHAT, "/myrequests"))
    text = bot.wait_text("暂无", chat_id=CHAT).params["text"]
    assert text == texts.NO_REQUESTS and "证明办理" in text and "/myrequests" in text


def test_while_staff_hold_the_chat_the_resident_is_told_a_person_will_answer(make_bot, sqlite_url):
    store = Store.from_url(sqlite_url)
    handoff = store.handoffs.create(
        conversation_id=f"tg-{CHAT}", channel="telegram", reason="asked", text="找人工"
    )
    store.handoffs.take(handoff, "wang")
    bot = make_bot(FakeRasa(lambda text: []), store=store)  # Rasa is paused: it answers nothing
    bot.send(text_update(CHAT, "我家水管爆了"))
    call = bot.wait_text(texts.HELD, chat_id=CHAT)
    assert "👍" not in str(markup(call))
    bot.send(text_update(OTHER, "你好"))
    bot.wait_text("系统正在恢复", chat_id=OTHER)  # nobody holds this one: the assistant failed
