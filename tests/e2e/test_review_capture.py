"""Done when (issue 17): of 25 resident questions the assistant cannot answer well (上门理发,
快递柜, 充电桩, 老年大学, 糖尿病餐, noise…), at least 23 reach the review queue with a reason,
out-of-scope answers and confident-but-wrong menus included. (Two questions of the first list
are now answered from the catalogue — 哪里可以打乒乓球: 15分钟健身圈, 老人能不能在家剪头发:
上门理发 — and were replaced by 哪里能配钥匙 and 社区有没有游泳池.)

The real assistant (Rasa with the trained model, the action server, the store) answers each
resident over the REST channel; the resident then does what residents do after a poor answer:
nothing, asks again in other words within a minute, types something else instead of tapping the
menu, asks for a person, or says it did not help (👎 by button on the web, by key at the kiosk
and on the phone, through ResidentService.not_understood). The figure is printed.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.resident.rasa import RasaClient
from bot.resident.service import ResidentService
from community.records.review_queue import UNANSWERED_REASON_LABELS
from community.settings import Settings
from community.store import Store
from tools.stack import start_stack, stop_stack

pytestmark = [pytest.mark.slow]

# (channel, the question, what the resident does next: None, ("say", text), ("down",), ("person",))
CONVERSATIONS = [
    # Nothing more: the assistant itself must see it could not answer.
    ("web", "小区wifi密码多少", None),
    ("web", "附近哪有修鞋的", None),
    ("web", "社区有没有共享充电宝", None),
    ("telegram", "丰巢快递柜超时收费怎么办", None),
    ("web", "能帮我取个快递吗", None),
    ("web", "废旧家具怎么扔", None),
    ("web", "物业费一年多少钱", None),
    ("web", "asdf", None),
    ("web", "阿萨德发", None),
    ("web", "哪里能配钥匙", None),
    ("web", "嗯嗯嗯啊", None),  # noise that reads as "yes": nothing to review
    # Asked again in other words within a minute.
    ("web", "上门剃头", ("say", "我是说上门理发")),
    ("web", "有没有上门理发", ("say", "就是理发师到家里来剪头发")),
    ("telegram", "快递柜满了放不进去", ("say", "快递柜塞满了放不下怎么办")),
    ("web", "糖尿病人能吃社区食堂吗", ("say", "我问的是有没有糖尿病餐")),
    ("web", "充电桩在哪", ("say", "电动车充电桩在什么地方")),
    ("web", "老年大学怎么报名", ("say", "老年大学在哪报名")),
    # Typed something else instead of choosing.
    ("web", "社区有没有游泳池", ("say", "小区能装个快递柜吗")),
    # It did not help: 👎.
    ("web", "助餐有没有糖尿病餐", ("down",)),
    ("kiosk", "老人低糖饭菜有吗", ("down",)),
    ("phone", "宠物狗打疫苗去哪", ("down",)),
    ("telegram", "社区书记是谁", ("down",)),
    # A person, right after the answer.
    ("web", "楼上漏水找谁", ("person",)),
    ("phone", "小区能养几只狗", ("person",)),
    ("web", "小区停电了什么时候来电", ("person",)),
]


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("var"))
    yield stack
    stop_stack(stack)


def test_at_least_23_of_25_misses_reach_the_queue_with_a_reason(stack):
    assert len(CONVERSATIONS) == 25
    settings = Settings.from_env(
        {
            "RASA_PORT": str(stack.rasa_port),
            "ACTION_PORT": str(stack.action_port),
            "VAR_DIR": str(stack.var_dir),
            "RASA_AUTH_TOKEN": stack.token,
        }
    )
    store = Store.from_url(settings.store_url, migrate=False)

    async def converse() -> dict[str, str]:
        senders = {}
        async with RasaClient.from_settings(settings, timeout=60) as rasa:
            service = ResidentService(settings, rasa, store)
            for n, (channel, question, then) in enumerate(CONVERSATIONS):
                sender = f"{channel}-capture-{n}"
                senders[question] = sender
                answer = await service.ask(sender, question, channel)
                assert answer.messages, question
                if then is None:
                    continue
                if then[0] == "say":
                    await service.ask(sender, then[1], channel)
                elif then[0] == "person":
                    await service.ask(sender, "我要找工作人员", channel)
                elif channel == "web" or channel == "telegram":  # the 👎 button under the answer
                    await service.rate(sender, channel, question=question, answer=answer.text, rating="down")
                else:  # the kiosk's and the phone's key: no button, the service reads the tracker
                    assert await service.not_understood(sender, channel) is not None
        return senders

    started = time.monotonic()
    senders = asyncio.run(converse())
    rows = store.review_queue.pending()
    by_sender: dict[str, set[str]] = {}
    for row in rows:
        by_sender.setdefault(row["conversation_id"], set()).add(f"{row['text']}:{row['reason']}")
    found = {q: by_sender.get(s, set()) for q, s in senders.items()}
    captured = [
        q
        for q, (_, question, _) in zip(found, CONVERSATIONS, strict=True)
        if any(item.startswith(question + ":") for item in found[q])
    ]
    print(f"\nreview queue capture: {len(captured)}/25 in {time.monotonic() - started:.0f}s")
    for q, items in found.items():
        reasons = [
            UNANSWERED_REASON_LABELS.get(i.split(":", 1)[1], i) for i in items if i.startswith(q + ":")
        ]
        print(f"  {'ok ' if reasons else '---'} {q}: {'、'.join(reasons) or '没有进入待答问题'}")
    assert all(r["reason"] in UNANSWERED_REASON_LABELS for r in rows)
    assert len(captured) >= 23, found
    reasons = {r["reason"] for r in rows}
    assert {"out_of_scope", "rephrased", "rated_down", "asked_person"} <= reasons
    # Nothing a resident asked twice is counted twice.
    assert len({(r["conversation_id"], r["text"]) for r in rows}) == len(rows)
