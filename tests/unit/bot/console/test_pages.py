"""The console's pages over real HTTP, with what residents then see on their web chat (server-
sent events) and what the fake Rasa was told (pause/resume, staff replies in the transcript)."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import yaml

from bot.webchat.app import HELD
from community.records.requests import NewRequest
from community.records.review_queue import IntentScore
from tests.support.console import read_events


def group_key(html: str, text: str) -> str:
    match = re.search(r'href="/staff/review/([A-Za-z0-9_-]+)"[^>]*>[^<]*' + re.escape(text), html)
    assert match, f"{text} not in the queue: " + html[html.find("<tbody>") :]
    return match.group(1)


def ids_in(html: str) -> list[str]:
    return re.findall(r'name="ids" value="(\d+)"', html)


async def open_chat(h):
    """A resident opens the web chat: cookie, then the event stream."""
    await h.client.get("/")
    stream = await h.client.get("/api/events")
    assert b"connected" in await stream.content.readuntil(b"\n\n")
    return stream


def test_near_duplicates_are_one_item_and_assigning_writes_reviewed_training_data(harness, project):
    async def scenario(h):
        for i, text in enumerate(
            [
                "小区停车费怎么交",
                "小区停车费怎么交啊",
                "小区的停车费怎么交？",
                "我的电话13812345678，停车费怎么交",
            ]
        ):
            h.store.review_queue.record(
                text=text,
                channel="web" if i % 2 else "telegram",
                conversation_id=f"web-r{i}",
                reason="fallback",
                top_intents=[IntentScore("community_affairs", 0.41), IntentScore("cert_apply", 0.2)],
            )
            h.rasa.events[f"web-r{i}"] += [
                {"event": "user", "text": "你好", "timestamp": 1.0},
                {"event": "bot", "text": "您好！", "timestamp": 2.0},
                {"event": "user", "text": text, "timestamp": 3.0},
            ]
        await h.login("wang")
        _, queue = await h.page("/staff/review")
        assert "13812345678" not in queue  # masked in the queue
        # The four ask the same (the phone number is a detail): one item, counted.
        assert re.search(r">\s*4\s*<", queue)
        key = group_key(queue, "停车费怎么交")
        status, page = await h.page(f"/staff/review/{key}")
        assert status == 200 and len(ids_in(page)) == 4
        assert "社区事务" in page and "41%" in page  # the intents considered, with confidences
        assert "助手猜的是「社区事务」" in page  # the assistant's best guess, preselected
        assert re.search(r'<option value="community_affairs" selected>', page)
        assert "前后对话" in page and "您好！" in page  # the conversation around it
        assert "网页聊天" in page and "Telegram" in page
        assert "13812345678" not in page
        # Correct one text, assign the group to an existing intent.
        ids = ids_in(page)
        first = ids[-1]  # the oldest: 小区停车费怎么交
        fields = [("ids", i) for i in ids] + [(f"text_{first}", "小区停车费在哪儿交")]
        response = await h.post(
            f"/staff/review/{key}", [*fields, ("intent", "community_affairs"), ("action", "assign")]
        )
        assert response.status == 302
        _, queue = await h.page(response.headers["Location"])
        assert "已把 4 条问题加入「社区事务」的例句" in queue  # in staff's words, no internal name
        assert "小区停车费怎么交" not in queue and "小区的停车费" not in queue  # gone from the queue
        text = (project / "nlu_data" / "nlu" / "reviewed.yml").read_text(encoding="utf-8")
        reviewed = yaml.safe_load(text)
        examples = str([b["examples"] for b in reviewed["nlu"] if b["intent"] == "community_affairs"])
        assert "小区停车费在哪儿交" in examples and "小区停车费怎么交" in examples
        assert "13812345678" not in text
        assert "138****5678" in text, text  # written masked
        rows = h.store.review_queue.questions([int(i) for i in ids])
        assert {r["status"] for r in rows} == {"assigned"} and {r["reviewed_by"] for r in rows} == {"wang"}
        assert [r["corrected_text"] for r in rows if r["id"] == int(first)] == ["小区停车费在哪儿交"]
        await h.logout()
        await h.login("boss")
        _, audit = await h.page("/staff/audit")
        assert "加入训练数据" in audit and "wang" in audit

    harness(scenario, root=project)


def test_a_new_question_becomes_an_faq_with_the_staff_answer(harness, project):
    async def scenario(h):
        h.store.review_queue.record(
            text="电动车充电桩在哪",
            channel="web",
            conversation_id="web-ev",
            reason="rated_down",
            top_intents=[],
        )
        await h.login("wang")
        _, queue = await h.page("/staff/review")
        key = group_key(queue, "电动车充电桩在哪")
        _, page = await h.page(f"/staff/review/{key}")
        [qid] = ids_in(page)
        base = [("ids", qid), (f"text_{qid}", "电动车充电桩在哪"), ("action", "new_intent")]
        assert 'name="new_name"' not in page and "faq_" not in page  # nothing to type in English
        preview = await h.post(
            f"/staff/review/{key}", [*base[:2], ("action", "preview"), ("new_label", "电动车充电桩"),
                                     ("answer", "充电桩在3号楼北侧，扫码付费。")],
        )
        shown = await preview.text()
        assert preview.status == 200 and "居民问「电动车充电桩在哪」时会看到" in shown
        assert "充电桩在3号楼北侧，扫码付费。" in shown
        assert h.store.review_queue.questions([int(qid)])[0]["status"] == "new"  # nothing done yet
        bad = await h.post(f"/staff/review/{key}", [*base, ("new_label", "电动车充电桩"), ("answer", "")])
        assert bad.status == 400 and "问题名称和回答" in await bad.text()
        good = await h.post(
            f"/staff/review/{key}",
            [*base, ("new_label", "电动车充电桩"), ("answer", "充电桩在3号楼北侧，扫码付费。")],
        )
        assert good.status == 302
        _, queue = await h.page(good.headers["Location"])
        assert "已新建问题「电动车充电桩」" in queue and "faq_" not in queue
        domain = yaml.safe_load((project / "domain" / "reviewed.yml").read_text(encoding="utf-8"))
        # The identifier is made from the Chinese name with pypinyin.
        name = "faq_dian_dong_che_chong_dian_zhuang"
        assert domain["responses"][f"utter_{name}"][0]["text"] == "充电桩在3号楼北侧，扫码付费。"
        assert h.store.review_queue.questions([int(qid)])[0]["assigned_intent"] == name

    harness(scenario, root=project)


def test_noise_leaves_the_queue_without_touching_training_data(harness, project):
    async def scenario(h):
        h.store.review_queue.record(
            text="啊啊啊啊", channel="web", conversation_id="web-n", reason="fallback", top_intents=[]
        )
        await h.login("li")
        _, queue = await h.page("/staff/review")
        key = group_key(queue, "啊啊啊啊")
        _, page = await h.page(f"/staff/review/{key}")
        response = await h.post(
            f"/staff/review/{key}", [("ids", i) for i in ids_in(page)] + [("action", "noise")]
        )
        _, queue = await h.page(response.headers["Location"])
        assert "标记为“不是问题”" in queue and "啊啊啊啊" not in queue
        assert not (project / "nlu_data" / "nlu" / "reviewed.yml").exists()

    harness(scenario, root=project)


def test_take_reply_and_release_reach_the_resident_and_pause_the_assistant(harness):
    async def scenario(h):
        stream = await open_chat(h)
        rid = h.resident_id()
        conversation = f"web-{rid}"
        answer = await (await h.client.post("/api/chat", json={"message": "我要找工作人员"})).json()
        assert answer["messages"]  # the assistant still answers
        urgent = h.store.handoffs.create(
            conversation_id="web-other", channel="web", reason="emergency", text="家里着火了", emergency=True
        )
        handoff = h.store.handoffs.create(
            conversation_id=conversation, channel="web", reason="asked", text="我要找工作人员"
        )
        await h.login("wang")
        _, inbox = await h.page("/staff/handoffs")
        assert inbox.index("家里着火了") < inbox.index("我要找工作人员")  # emergencies first
        assert "紧急" in inbox
        response = await h.post(f"/staff/handoffs/{handoff}/take", {})
        assert response.status == 302
        _, page = await h.page(response.headers["Location"])
        assert "您已接手这位居民" in page and "我要找工作人员" in page  # the transcript
        assert h.rasa.paused(conversation)
        [joined] = await read_events(stream)
        assert "工作人员已经接入" in joined["text"] and joined["kind"] == "staff"
        # While held, the assistant is silent and the resident is told a person will answer.
        held = await (await h.client.post("/api/chat", json={"message": "我家水管漏了"})).json()
        assert held == {"messages": [], "notice": HELD}
        _, transcript = await h.page(f"/staff/handoffs/{handoff}/transcript")
        assert "我家水管漏了" in transcript
        reply = await h.post(f"/staff/handoffs/{handoff}/reply", {"text": "您好，我是小王，马上派人去看。"})
        assert reply.status == 302
        [message] = await read_events(stream)
        assert message["text"] == "您好，我是小王，马上派人去看。" and message["kind"] == "staff"
        assert h.store.handoffs.get(handoff)["first_response_at"] is not None
        _, transcript = await h.page(f"/staff/handoffs/{handoff}/transcript")
        assert "工作人员（wang）" in transcript and "马上派人去看" in transcript
        # Someone else cannot reply to or take this resident.
        await h.logout()
        await h.login("li")
        other = await h.post(f"/staff/handoffs/{handoff}/reply", {"text": "我来"})
        assert other.status == 403
        taken = await h.post(f"/staff/handoffs/{handoff}/take", {})
        assert taken.status == 409 and "wang" in await taken.text()
        await h.logout()
        await h.login("wang")
        released = await h.post(f"/staff/handoffs/{handoff}/release", {})
        assert released.status == 302
        [bye] = await read_events(stream)
        assert bye["kind"] == "notice" and "智能助手" in bye["text"]
        assert not h.rasa.paused(conversation)
        after = await (await h.client.post("/api/chat", json={"message": "谢谢"})).json()
        assert after["messages"][0]["text"] == "助手回答：谢谢"
        _, inbox = await h.page("/staff/handoffs")
        assert "我要找工作人员" not in inbox and "家里着火了" in inbox
        assert h.store.handoffs.get(urgent)["status"] == "waiting"
        stream.close()

    harness(scenario)


def test_a_reply_sent_while_the_resident_is_away_arrives_at_the_next_visit(harness):
    async def scenario(h):
        await h.client.get("/")
        conversation = f"web-{h.resident_id()}"
        handoff = h.store.handoffs.create(
            conversation_id=conversation, channel="web", reason="failed_twice", text="听不懂"
        )
        await h.login("wang")
        await h.post(f"/staff/handoffs/{handoff}/take", {})
        await h.post(f"/staff/handoffs/{handoff}/reply", {"text": "请问您具体想办什么？"})
        await asyncio.sleep(0.5)  # the poller ran: nobody to deliver to
        assert len(h.store.notifications.pending("web", conversation)) == 2
        stream = await h.client.get("/api/events")
        events = await read_events(stream, 2)
        assert [e["text"] for e in events][-1] == "请问您具体想办什么？"
        # Not delivered until the page says it showed them (a write can vanish into a closed tab).
        assert len(h.store.notifications.pending("web", conversation)) == 2
        stream.close()
        again = await h.client.get("/api/events")  # the next page gets them again
        events = await read_events(again, 2)
        assert [e["text"] for e in events][-1] == "请问您具体想办什么？"
        stranger = await h.client.post("/api/ack", json={"ids": [e["id"] for e in events]},
                                       cookies={"sqa_rid": "0" * 32})
        assert (await stranger.json())["acknowledged"] == 0  # only the resident's own
        acked = await h.client.post("/api/ack", json={"ids": [e["id"] for e in events]})
        assert (await acked.json())["acknowledged"] == 2
        assert h.store.notifications.pending("web", conversation) == []
        form = await h.client.post("/api/ack", data="ids=1")
        assert form.status == 415
        again.close()

    harness(scenario)


def test_taking_over_when_rasa_is_down_warns_the_staff_member(harness):
    async def scenario(h):
        handoff = h.store.handoffs.create(
            conversation_id="web-down", channel="web", reason="asked", text="人工"
        )
        h.rasa.up = False
        await h.login("wang")
        response = await h.post(f"/staff/handoffs/{handoff}/take", {})
        _, page = await h.page(response.headers["Location"])
        assert "没能让助手暂停" in page and "对话记录暂时取不到" in page

    harness(scenario)


def make_request(h, conversation: str, **kw):
    values = dict(
        kind="report",
        title="反映问题",
        channel="web",
        conversation_id=conversation,
        fields={"问题": "楼道灯坏了"},
        summary="3号楼2单元楼道灯坏了，联系13912345678",
        contact_name="张小明",
        phone="13912345678",
        id_number="110101199001011234",
        address="3号楼2单元401",
        due_days=3,
    )
    values.update(kw)
    return h.store.requests.create(NewRequest(**values))


def test_requests_list_masked_detail_in_full_status_change_notifies_the_resident(harness):
    async def scenario(h):
        stream = await open_chat(h)
        conversation = f"web-{h.resident_id()}"
        request = make_request(h, conversation)
        other = make_request(h, "web-someone", kind="cert", title="开证明")
        await h.login("wang")
        _, listing = await h.page("/staff/requests")
        assert request["ref"] in listing and other["ref"] in listing
        assert "13912345678" not in listing and "139****5678" in listing and "张*明" in listing
        _, filtered = await h.page("/staff/requests?kind=cert")
        assert other["ref"] in filtered and request["ref"] not in filtered
        _, filtered = await h.page("/staff/requests?status=done")
        assert "没有符合条件的工单" in filtered
        _, detail = await h.page(f"/staff/requests/{request['ref']}")
        assert "13912345678" in detail and "110101199001011234" in detail and "张小明" in detail
        # A rejection needs a note.
        refused = await h.post(f"/staff/requests/{request['ref']}/status", {"status": "rejected", "note": ""})
        assert refused.status == 400 and "必须填写说明" in await refused.text()
        done = await h.post(
            f"/staff/requests/{request['ref']}/status", {"status": "accepted", "note": "明天上午电工上门"}
        )
        assert done.status == 302
        _, detail = await h.page(done.headers["Location"])
        assert "状态已更新" in detail and "已受理" in detail and "明天上午电工上门" in detail
        [notice] = await read_events(stream)
        assert notice["kind"] == "status" and request["ref"] in notice["text"]
        assert "明天上午电工上门" in notice["text"]
        stream.close()

    harness(scenario)


def test_csv_export_is_masked_and_safe_for_spreadsheets(harness):
    async def scenario(h):
        make_request(h, "web-a", summary='=HYPERLINK("http://evil")', contact_name="李四")
        await h.login("wang")
        response = await h.client.get("/staff/requests/export.csv")
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        raw = await response.read()
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0][:3] == ["编号", "事项", "状态"]
        assert rows[1][2] == "已提交" and rows[1][6] == "李*" and rows[1][7] == "139****5678"
        assert rows[1][9].startswith("'=")  # not run as a formula
        assert "13912345678" not in raw.decode("utf-8-sig")

    harness(scenario)


def test_statistics_page_draws_charts_on_the_server(harness):
    async def scenario(h):
        h.store.ratings.record(conversation_id="web-s", channel="web", question="q", answer="a", rating="up")
        h.store.ratings.record(
            conversation_id="web-s", channel="web", question="助餐在哪", answer="a", rating="down"
        )
        make_request(h, "web-s")
        await h.login("wang")
        status, html = await h.page("/staff/stats?days=7")
        assert status == 200
        # No tracker store here: the charts that need resident messages say why they are empty.
        assert html.count("<svg") == 3 and "满意度" in html and "50%（1/2）" in html
        assert html.count("暂无数据") == 4 and "对话记录库读不到" in html
        assert "合计：好评 1 / 评价 2 = 50%" in html
        assert "助餐在哪" in html  # the top unanswered questions
        assert "已提交：<strong>1</strong>" in html  # the backlog
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")

    harness(scenario)


def test_admin_manages_accounts_from_the_console(harness):
    async def scenario(h):
        await h.login("boss")
        weak = await h.post(
            "/staff/users", {"action": "create", "username": "zhao", "password": "short", "role": "staff"}
        )
        assert weak.status == 400 and "至少10位" in await weak.text()
        made = await h.post(
            "/staff/users",
            {"action": "create", "username": "zhao", "password": "a long enough password", "role": "staff"},
        )
        assert made.status == 302
        assert h.accounts.authenticate("zhao", "a long enough password").user["role"] == "staff"
        await h.post("/staff/users", {"action": "disable", "username": "zhao"})
        assert h.accounts.authenticate("zhao", "a long enough password").user is None
        myself = await h.post("/staff/users", {"action": "disable", "username": "boss"})
        assert myself.status == 400 and "不能停用自己" in await myself.text()
        _, audit = await h.page("/staff/audit")
        assert "新建账号" in audit and "停用账号" in audit and "角色：工作人员" in audit
        assert "user_create" not in audit

    harness(scenario)


def test_retrain_page_without_the_module_says_so(harness, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_retrain(name, *args, **kwargs):
        if name == "bot.console.retrain":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_retrain)

    async def scenario(h):
        await h.login("boss")
        _, html = await h.page("/staff/retrain")
        assert "还没有安装" in html and "disabled" in html

    harness(scenario)
