"""The web chat's server side for a reload and for 👍/👎: ``GET /api/history`` gives a resident
their own conversation (by cookie, never another's), read from Rasa's tracker through the
resident service; only final answers are marked to rate. A fake Rasa over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.webchat.app import COOKIE, create_app
from community.settings import Settings
from voice.settings import VoiceSettings
from voice.tts import FakeSynthesizer

SUMMARY = "请核对：\n事项：助餐登记\n姓名：王*英（母亲）\n没问题请说“确认”；要改哪项直接说。"


class FakeRasa:
    """Rasa's REST channel and tracker API: what each sender said is kept as tracker events."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict]] = {}
        self.replies: dict[str, list[dict]] = {}
        self.asking = False
        self.tracker_status = 200
        self.tracker_reads: list[tuple[str, str]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        replies = self.replies.get(text, [{"text": f"收到：{text}"}])
        events = self.events.setdefault(sender, [])
        events.append({"event": "user", "text": text})
        for reply in replies:
            events.append({"event": "bot", "text": reply.get("text"),
                           "data": {"buttons": reply.get("buttons"), "custom": reply.get("custom")}})
        return web.json_response([{"recipient_id": sender, **r} for r in replies])

    async def tracker(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        self.tracker_reads.append((sender, request.query.get("include_events", "")))
        if self.tracker_status != 200:
            return web.Response(status=self.tracker_status)
        events = self.events.get(sender, []) if request.query.get("include_events") != "NONE" else []
        loop = {"name": "request_form"} if self.asking else {}
        return web.json_response({"sender_id": sender, "events": events, "active_loop": loop})


@pytest.fixture
def run(tmp_path: Path):
    def runner(scenario) -> None:
        async def main() -> None:
            rasa = FakeRasa()
            rasa_app = web.Application()
            rasa_app.router.add_post("/webhooks/rest/webhook", rasa.webhook)
            rasa_app.router.add_get("/conversations/{sender}/tracker", rasa.tracker)
            rasa_server = TestServer(rasa_app, host="127.0.0.1")
            await rasa_server.start_server()
            settings = Settings(rasa_port=rasa_server.port, action_port=1, web_port=2, var_dir=tmp_path)
            app = create_app(settings, voice_settings=VoiceSettings(), recognizer=None,
                             synthesizer=FakeSynthesizer(), console=False)
            clients = [TestClient(TestServer(app, host="127.0.0.1")) for _ in range(2)]
            for client in clients:
                await client.start_server()
            try:
                await scenario(clients, rasa)
            finally:
                for client in clients:
                    await client.close()
                await rasa_server.close()

        asyncio.run(main())

    return runner


def test_history_is_the_residents_own_conversation_with_tapped_buttons_shown_by_title(run):
    async def scenario(clients, rasa):
        mine, other = clients
        button = {"title": "助餐登记：已受理", "payload": "查询进度 SQ-20261202-0002"}
        mine_text = "您的申请：SQ-20261202-0002 助餐登记：已受理"
        rasa.replies["我的申请"] = [{"text": mine_text, "buttons": [button]}]
        rasa.replies["/elderly_meal"] = [{"text": "【老年餐桌】一层101室"}]
        rasa.replies["说慢一点"] = [{"text": "好的，我慢一点说。"}, {"custom": {"speech_rate": "slow"}}]
        await mine.post("/api/chat", json={"message": "我的申请"})
        await mine.post("/api/chat", json={"message": "查询进度 SQ-20261202-0002"})
        await mine.post("/api/chat", json={"message": "/elderly_meal"})  # a quick button's payload
        await mine.post("/api/chat", json={"message": "说慢一点"})
        await other.post("/api/chat", json={"message": "别人的问题"})
        response = await mine.get("/api/history")
        assert response.status == 200
        past = (await response.json())["messages"]
        assert [(m["from"], m["text"]) for m in past] == [
            ("resident", "我的申请"),
            ("assistant", "您的申请：SQ-20261202-0002 助餐登记：已受理"),
            ("resident", "助餐登记：已受理"),  # the button's title, not its payload
            ("assistant", "收到：查询进度 SQ-20261202-0002"),
            ("assistant", "【老年餐桌】一层101室"),  # a payload with no button to name it is not shown
            ("resident", "说慢一点"),
            ("assistant", "好的，我慢一点说。"),
        ]
        assert past[1]["references"] == ["SQ-20261202-0002"]
        assert past[1]["buttons"][0]["title"] == "助餐登记：已受理"
        assert "别人的问题" not in str(past)
        theirs = [m["text"] for m in (await (await other.get("/api/history")).json())["messages"]]
        assert theirs == ["别人的问题", "收到：别人的问题"]

    run(scenario)


def test_history_never_reads_a_conversation_named_by_the_request(run):
    async def scenario(clients, rasa):
        mine, other = clients
        await other.post("/api/chat", json={"message": "别人的问题"})
        other_id = other.session.cookie_jar.filter_cookies(other.make_url("/"))[COOKIE].value
        await mine.post("/api/chat", json={"message": "我的问题"})
        for query in (f"?sender=web-{other_id}", f"?conversation_id=web-{other_id}"):
            past = await (await mine.get("/api/history" + query)).json()
            assert "别人的问题" not in str(past)
        mine.session.cookie_jar.clear()
        fresh = await mine.get("/api/history")  # a new visitor: nothing, and Rasa is not asked
        assert (await fresh.json())["messages"] == [] and COOKIE in fresh.cookies
        assert all(sender != f"web-{fresh.cookies[COOKIE].value}" for sender, _ in rasa.tracker_reads)

    run(scenario)


def test_history_while_rasa_is_away_says_so_plainly(run):
    async def scenario(clients, rasa):
        mine, _ = clients
        await mine.post("/api/chat", json={"message": "你好"})
        rasa.tracker_status = 500
        response = await mine.get("/api/history")
        assert response.status == 503 and "之前的对话" in (await response.json())["error"]

    run(scenario)


def test_only_the_final_answer_of_a_reply_is_marked_to_rate(run):
    async def scenario(clients, rasa):
        mine, _ = clients
        rasa.replies["说慢一点"] = [
            {"text": "好的，我慢一点说。"}, {"custom": {"speech_rate": "slow"}},
            {"text": "【高龄津贴】一层便民服务大厅",
             "buttons": [{"title": "找人工", "payload": "/human_handoff"}]},
        ]
        rasa.replies["帮我妈报个助餐"] = [{"text": "好的，帮您办助餐登记。\n请问怎么称呼？请说姓名。"}]
        # a form prompt that does not end in "？"
        rasa.replies["送餐上门"] = [{"text": "请留一个联系电话，手机或座机都行。"}]
        confirm = [{"title": "确认提交", "payload": "/affirm"}, {"title": "取消办理", "payload": "/cancel"}]
        rasa.replies["没有"] = [{"text": SUMMARY, "buttons": confirm}]
        rasa.replies["养老"] = [{"text": "关于「养老服务」，您想问哪一项？请点选：",
                               "buttons": [{"title": "老年餐桌", "payload": "/elderly_meal"}]}]
        data = await (await mine.post("/api/chat", json={"message": "说慢一点"})).json()
        assert [m.get("rate", False) for m in data["messages"]] == [False, False, True]
        assert data["messages"][1]["custom"] == {"speech_rate": "slow"}  # the page slows its speech
        assert data["asking"] is False
        rasa.asking = True
        for text in ("帮我妈报个助餐", "送餐上门", "没有"):
            data = await (await mine.post("/api/chat", json={"message": text})).json()
            assert data["asking"] is True and not any(m.get("rate") for m in data["messages"]), text
        rasa.asking = False
        data = await (await mine.post("/api/chat", json={"message": "养老"})).json()
        assert not any(m.get("rate") for m in data["messages"])  # a menu ends in a question
        rasa.tracker_status = 500  # the form state unknown: the message alone decides
        data = await (await mine.post("/api/chat", json={"message": "没有"})).json()
        assert "asking" not in data and not any(m.get("rate") for m in data["messages"])
        data = await (await mine.post("/api/chat", json={"message": "谢谢"})).json()
        assert data["messages"][-1]["rate"] is True

    run(scenario)


def test_voice_status_says_once_plainly_with_the_community_phone(run):
    async def scenario(clients, rasa):
        status = await (await clients[0].get("/api/voice")).json()
        assert status["available"] is False
        assert "不能用语音" in status["message"] and "010-8765-4300" in status["message"]

    run(scenario)
