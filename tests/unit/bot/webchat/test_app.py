"""Unit tests of the web chat's server side, over real HTTP on loopback: a fake Rasa REST
channel, a SQLite store, FakeRecognizer/FakeSynthesizer, and ffmpeg for the decoding path."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.resident.service import references
from bot.webchat.app import (
    COOKIE,
    HUB,
    MAX_AUDIO_BYTES,
    NO_VOICE_MODEL,
    STORE,
    create_app,
)
from bot.webchat.hub import PushHub, PushMessage
from community.settings import Settings
from community.store import Store
from voice.asr import FakeRecognizer
from voice.settings import VoiceSettings
from voice.tts import FakeSynthesizer

AISHELL = Path(__file__).resolve().parents[5] / "shared" / "audio" / "aishell1"


def wav_bytes(seconds: float, amplitude: float = 0.3, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


class FakeRasa:
    """Rasa's REST channel: answers with the message echoed, a reference number and buttons."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        self.replies: list[dict] | None = None  # None: the echo below

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.status != 200:
            return web.Response(status=self.status)
        if self.replies is not None:
            return web.json_response(self.replies)
        return web.json_response([
            {"recipient_id": body["sender"], "text": f"收到：{body['message']}，编号 SQ-20260301-0042",
             "buttons": [{"title": "找人工", "payload": "/human_handoff"}]},
        ])


Scenario = Callable[[TestClient, FakeRasa, Store], Awaitable[None]]


@pytest.fixture
def run(tmp_path: Path):
    """Run ``scenario(client, rasa, store)`` against a web chat wired to a fake Rasa."""

    def runner(scenario: Scenario, *, recognizer=None, synthesizer=None, rasa_up: bool = True, **kw) -> None:
        async def main() -> None:
            rasa = FakeRasa()
            rasa_app = web.Application()
            rasa_app.router.add_post("/webhooks/rest/webhook", rasa.webhook)
            rasa_server = TestServer(rasa_app, host="127.0.0.1")
            await rasa_server.start_server()
            port = rasa_server.port
            if not rasa_up:
                await rasa_server.close()
            settings = Settings(rasa_port=port, action_port=port + 1 if port < 65000 else 1, web_port=2,
                                var_dir=tmp_path)
            store = kw.pop("store", None)
            app = create_app(settings, voice_settings=VoiceSettings(), store=store, recognizer=recognizer,
                             synthesizer=synthesizer or FakeSynthesizer(), **kw)
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                await scenario(client, rasa, app[STORE])
            finally:
                await client.close()
                if rasa_up:
                    await rasa_server.close()

        asyncio.run(main())

    return runner


def test_page_sets_the_resident_cookie_and_serves_local_assets(run):
    async def scenario(client, rasa, store):
        page = await client.get("/")
        html = await page.text()
        assert page.status == 200 and COOKIE in page.cookies
        assert "http://" not in html and "https://" not in html  # no CDN
        for asset in ("/static/chat.js", "/static/chat.css", "/static/prefs.js"):
            assert asset in html
            assert (await client.get(asset)).status == 200

    run(scenario)


def test_chat_forwards_with_channel_metadata_and_a_stable_resident_id(run):
    async def scenario(client, rasa, store):
        first = await client.post("/api/chat", json={"message": "高龄津贴怎么领"})
        data = await first.json()
        assert first.status == 200
        assert data["messages"][0]["references"] == ["SQ-20260301-0042"]
        assert data["messages"][0]["buttons"][0]["title"] == "找人工"
        await client.post("/api/chat", json={"message": "谢谢"})
        a, b = rasa.received
        assert a["metadata"] == {"channel": "web"} and a["sender"] == b["sender"]
        assert a["sender"].startswith("web-") and len(a["sender"]) == 36

    run(scenario)


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"message": ""}, 400, "请先输入"),
        ({"message": "   "}, 400, "请先输入"),
        ({"message": "字" * 2001}, 413, "太长"),
        ({"text": "hi"}, 400, "请先输入"),
        ({"message": 5}, 400, "格式不对"),
        ({"message": ["高龄津贴"]}, 400, "格式不对"),
        ("not json", 400, "格式不对"),
        ('{"message": "你好"', 400, "格式不对"),
        ("[" * 50000, 400, "格式不对"),  # nested deeper than the parser goes
        ('{"message":' * 5000 + '"x"' + "}" * 5000, 400, "格式不对"),
    ],
)
def test_bad_messages_get_clear_chinese_errors_and_never_reach_rasa(run, body, status, words):
    async def scenario(client, rasa, store):
        if isinstance(body, str):
            response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})
        else:
            response = await client.post("/api/chat", json=body)
        assert response.status == status and words in (await response.json())["error"]
        assert rasa.received == []

    run(scenario)


def test_a_body_over_the_size_limit_is_refused_not_a_server_error(run):
    async def scenario(client, rasa, store):
        response = await client.post("/api/chat", data="[" * 100000,
                                     headers={"Content-Type": "application/json"})
        assert response.status == 413 and rasa.received == []

    run(scenario)


def recovering_text(data: dict) -> str:
    assert data["recovering"] is True
    [message] = data["messages"]
    return message["text"]


def test_rasa_down_the_resident_is_told_the_system_is_recovering_with_the_phone(run):
    async def down(client, rasa, store):
        response = await client.post("/api/chat", json={"message": "你好"})
        assert response.status == 200
        text = recovering_text(await response.json())
        assert text.startswith("系统正在恢复") and "010-8765-4300" in text and "120" in text

    run(down, rasa_up=False)


def test_rasa_failing_an_emergency_still_gets_the_number_to_call_first(run):
    async def failing(client, rasa, store):
        rasa.status = 500
        response = await client.post("/api/chat", json={"message": "我家煤气泄漏了"})
        assert response.status == 200
        first = recovering_text(await response.json()).splitlines()[0]
        assert "119" in first
        assert rasa.received  # it did reach Rasa, which failed
        [handoff] = store.handoffs.list()  # staff hear of it although Rasa could not answer
        assert handoff["emergency"] and handoff["text"] == "我家煤气泄漏了"
        assert handoff["conversation_id"] == rasa.received[0]["sender"]

    run(failing)


def test_an_empty_reply_from_rasa_gets_the_recovery_reply_unless_staff_hold_the_resident(run):
    async def scenario(client, rasa, store):
        rasa.replies = []  # an action failed: Rasa said nothing
        response = await client.post("/api/chat", json={"message": "高龄津贴怎么领"})
        body = await response.json()
        assert response.status == 200 and "系统正在恢复" in recovering_text(body)
        assert "notice" not in body and len(rasa.received) == 1

    run(scenario)


def test_security_headers_on_the_page_the_api_assets_and_errors(run):
    async def scenario(client, rasa, store):
        responses = [
            await client.get("/"),
            await client.get("/static/chat.js"),
            await client.post("/api/chat", json={"message": "你好"}),
            await client.post("/api/chat", data="not json"),
            await client.get("/healthz"),
            await client.get("/no-such-page"),
        ]
        for response in responses:
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, response.url
            assert "object-src 'none'" in csp and "base-uri 'none'" in csp
            assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "same-origin"
        stream = await client.get("/api/events")
        assert stream.headers["X-Frame-Options"] == "DENY"
        stream.close()

    run(scenario, keepalive=0.2)


def test_ratings_go_to_the_store_and_a_thumbs_down_to_the_review_queue(run):
    async def scenario(client, rasa, store):
        await client.get("/")
        up = await client.post("/api/rate", json={"rating": "up", "question": "助餐", "answer": "【餐桌】"})
        down = await client.post(
            "/api/rate", json={"rating": "down", "question": "怎么办低保", "answer": "暂时答不上来"})
        assert up.status == 200 and down.status == 200
        assert "工作人员" in (await down.json())["message"]
        rows = store.ratings.list()
        assert [(r["rating"], r["channel"], r["question"]) for r in rows] == [
            ("up", "web", "助餐"), ("down", "web", "怎么办低保")]
        rid = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
        assert rows[0]["conversation_id"] == rows[1]["conversation_id"] == "web-" + rid
        queue = store.review_queue.list()
        assert queue[0]["reason"] == "rated_down" and queue[0]["text"] == "怎么办低保"
        for bad in ({"rating": "meh", "answer": "x"}, {"rating": "up", "answer": ""},
                    {"rating": "up", "answer": "x" * 6000}, {"rating": "up", "answer": 3}):
            assert (await client.post("/api/rate", json=bad)).status == 400
        assert len(store.ratings.list()) == 2

    run(scenario)


def test_the_store_is_opened_and_migrated_at_startup_from_settings(run, tmp_path):
    async def scenario(client, rasa, store):
        assert store.engine.url.database == str(tmp_path / "community.db")
        await client.post("/api/rate", json={"rating": "up", "question": "q", "answer": "a"})
        assert len(store.ratings.list()) == 1

    run(scenario)


def test_references_are_found_in_order_without_repeats():
    text = "已受理，编号 SQ-20260301-0042。再次确认 SQ-20260301-0042；另一件 SQ-20260302-0001"
    assert references(text) == ["SQ-20260301-0042", "SQ-20260302-0001"]
    assert references("SQ-2026031-0042 或 sq-20260301-0042") == []


def test_hub_delivers_to_each_open_page_of_one_resident_only():
    async def main() -> None:
        hub = PushHub()
        a1, a2, b = hub.subscribe("a"), hub.subscribe("a"), hub.subscribe("b")
        assert hub.publish("a", PushMessage("工作人员已接单", "status")) == 2
        assert a1.get_nowait().text == a2.get_nowait().text == "工作人员已接单" and b.empty()
        hub.unsubscribe("a", a1)
        hub.unsubscribe("a", a2)
        assert hub.listeners("a") == 0 and hub.publish("a", PushMessage("x")) == 0

    asyncio.run(main())
    with pytest.raises(ValueError):
        PushMessage("  ")
    with pytest.raises(ValueError):
        PushMessage("x", "spam")


def test_pushed_messages_arrive_as_server_sent_events(run):
    async def scenario(client, rasa, store):
        await client.get("/")
        rid = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
        stream = await client.get("/api/events")
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        hello = await stream.content.readuntil(b"\n\n")
        assert b"connected" in hello
        assert client.app[HUB].publish(rid, PushMessage("您的诉求已办结", "status")) == 1
        event = b""
        while b"data:" not in event:
            event = await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
        assert event.startswith(b"event: push\n")
        assert json.loads(event.split(b"data: ", 1)[1]) == {"text": "您的诉求已办结", "kind": "status"}
        stream.close()
        for _ in range(50):  # the page went away: its queue is dropped
            if client.app[HUB].listeners(rid) == 0:
                break
            await asyncio.sleep(0.05)
        assert client.app[HUB].listeners(rid) == 0

    run(scenario, keepalive=0.2)


def test_there_is_no_push_hook_to_forge_a_staff_message_with(run):
    async def scenario(client, rasa, store):
        await client.get("/")
        rid = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
        stream = await client.get("/api/events")
        await stream.content.readuntil(b"\n\n")
        forged = {"resident": f"web-{rid}", "text": "我是工作人员，请把验证码发给我", "kind": "staff"}
        response = await client.post("/api/push", json=forged)
        assert response.status in (404, 405)
        assert client.app[HUB].listeners(rid) == 1  # the page is listening, and got nothing
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.content.readuntil(b"event: push"), 0.5)
        stream.close()

    run(scenario, keepalive=0.2)


def test_voice_without_the_chinese_model_decodes_then_explains(run, ffmpeg):
    async def scenario(client, rasa, store):
        status = await (await client.get("/api/voice")).json()
        # Said once, plainly, with the community's phone number (the page offers no voice control).
        assert status["available"] is False and "010-8765-4300" in status["message"]
        clip = sorted(AISHELL.glob("*.wav"))[0].read_bytes()
        response = await client.post("/api/voice", data=clip, headers={"Content-Type": "audio/wav"})
        body = await response.json()
        assert response.status == 503 and body["code"] == "no-model" and body["error"] == NO_VOICE_MODEL
        assert body["seconds"] > 1  # the clip was decoded before the missing model was noticed
        assert rasa.received == []

    run(scenario, recognizer=None)


def test_voice_with_a_recognizer_shows_what_was_heard_then_the_answer(run, ffmpeg):
    recognizer = FakeRecognizer(["高龄 津贴 怎么 领"])

    async def scenario(client, rasa, store):
        assert (await (await client.get("/api/voice")).json())["available"] is True
        response = await client.post("/api/voice", data=wav_bytes(1.5), headers={"Content-Type": "audio/wav"})
        body = await response.json()
        assert response.status == 200, body
        assert body["heard"] == "高龄津贴怎么领"
        assert body["messages"][0]["text"].startswith("收到：高龄津贴怎么领")
        assert rasa.received[0]["metadata"] == {"channel": "web", "input": "voice"}

    run(scenario, recognizer=recognizer)


def test_voice_while_rasa_is_down_shows_what_was_heard_and_the_recovery_reply(run, ffmpeg):
    async def scenario(client, rasa, store):
        response = await client.post("/api/voice", data=wav_bytes(1.5), headers={"Content-Type": "audio/wav"})
        body = await response.json()
        assert response.status == 200 and body["heard"] == "救命有人晕倒了"
        assert "120" in recovering_text(body).splitlines()[0]

    run(scenario, recognizer=FakeRecognizer(["救命 有人 晕倒 了"]), rasa_up=False)


@pytest.mark.parametrize(
    "audio, status, code, words",
    [
        (b"", 400, "bad-audio", "没有收到录音"),
        (b"this is not audio at all" * 10, 400, "bad-audio", "无法识别"),
        (b"\0" * (MAX_AUDIO_BYTES + 1), 413, "too-long", "太长"),
        ("long", 413, "too-long", "太长"),
        ("silent", 422, "silent", "没有听到声音"),
    ],
)
def test_bad_audio_gets_clear_chinese_messages(run, ffmpeg, audio, status, code, words):
    if audio == "long":
        audio = wav_bytes(61, rate=8000)  # under 2 MB, over 60 s
    elif audio == "silent":
        audio = wav_bytes(1.0, amplitude=0.0)

    async def scenario(client, rasa, store):
        response = await client.post("/api/voice", data=audio, headers={"Content-Type": "audio/wav"})
        body = await response.json()
        assert (response.status, body["code"]) == (status, code) and words in body["error"]

    run(scenario, recognizer=FakeRecognizer(["你好"]))


def test_speech_returns_ear_friendly_wav_with_a_slow_option(run):
    synthesizer = FakeSynthesizer()

    async def scenario(client, rasa, store):
        normal = await client.get("/api/speech", params={"text": "【老年餐桌】电话 010-8765-4311"})
        slow = await client.post("/api/speech", json={"text": "【老年餐桌】电话 010-8765-4311",
                                                        "rate": "slow"})
        assert normal.status == slow.status == 200 and normal.content_type == "audio/wav"
        assert (await normal.read())[:4] == b"RIFF" and len(await slow.read()) > len(await normal.read())
        (said, rate_normal), (_, rate_slow) = synthesizer.calls
        assert "【" not in said and "零幺零" in said
        assert (rate_normal.value, rate_slow.value) == ("normal", "slow")
        assert (await client.get("/api/speech", params={"text": "😀"})).status == 400
        assert (await client.get("/api/speech", params={"text": "好", "rate": "fast"})).status == 400
        assert (await client.post("/api/speech", json={"text": "好" * 2500})).status == 413

    run(scenario, synthesizer=synthesizer)
