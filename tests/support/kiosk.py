"""Fixtures for the kiosk: a fake Rasa (a small aiohttp server on loopback) and kiosks wired
to fakes (FakeRecognizer, FakeSynthesizer, BufferSink, RecordingScreen) that ask through the
real resident service, with a SQLite store of their own. There is no pytest-asyncio here: each
test runs its scenario with ``asyncio.run``."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.resident.rasa import RasaClient
from bot.resident.service import ResidentService
from community.settings import Settings
from community.store import Store
from voice.kiosk import Kiosk
from voice.kiosk_outputs import BufferSink, RecordingScreen
from voice.kiosk_settings import KioskSettings
from voice.tts import FakeSynthesizer


@dataclass
class FakeRasa:
    """Answers the REST channel and /model/parse from a small table; records what it got."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)
    confidence: float = 0.95
    intent: str = "elderly_allowance"
    paused: set[str] = field(default_factory=set)  # conversations staff took over: Rasa is silent

    @staticmethod
    def reply(message: str) -> list[dict]:
        if message.startswith("/elderly_meal"):
            return [
                {
                    "text": "关于「养老服务」，您想问哪一项？请点选：",
                    "buttons": [
                        {"title": "老年餐桌（社区助餐点）", "payload": "/a"},
                        {"title": "找人工", "payload": "/human_handoff"},
                    ],
                }
            ]
        if "听不清" in message:  # action_interface_help on a voice channel, with its hint
            return [{"text": "好的，我说慢一点。\n再听一遍按星号，大声一点按九。",
                     "custom": {"interface": "slow", "speech_rate": "slow"}}]
        if "津贴" in message:
            return [{"text": "【高龄津贴】便民服务大厅，周一至周五 8:30-12:00\n电话 010-8765-4300"}]
        return [{"text": f"收到：{message}"}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def fake_rasa_server() -> AsyncIterator[FakeRasa]:
    rasa = FakeRasa()

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        rasa.received.append(body)
        return web.json_response([] if body["sender"] in rasa.paused else rasa.reply(body["message"]))

    async def parse(request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        rasa.parsed.append(text)
        ranking = [
            {"name": rasa.intent, "confidence": rasa.confidence},
            {"name": "out_of_scope", "confidence": round(1 - rasa.confidence, 4)},
        ]
        return web.json_response({"text": text, "intent": ranking[0], "intent_ranking": ranking})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/model/parse", parse)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rasa.url = f"http://127.0.0.1:{port}"
    try:
        yield rasa
    finally:
        await runner.cleanup()


# Every test kiosk's directory lies in this one, removed when the test process exits.
_KIOSKS = tempfile.TemporaryDirectory(prefix="kiosks-")


def kiosk_service(url: str) -> ResidentService:
    """The resident service a kiosk asks through: the (fake) Rasa at ``url``, and a SQLite store
    in a directory of its own (the staff inbox a 转人工 lands in)."""
    var = Path(tempfile.mkdtemp(prefix="kiosk-", dir=_KIOSKS.name))
    store = Store.from_url(f"sqlite:///{var / 'community.db'}")
    return ResidentService(Settings(var_dir=var), RasaClient(url, timeout=3), store)


def make_kiosk(url: str, recognizer=None, *, realtime: bool = False, **settings) -> Kiosk:
    return Kiosk(
        service=kiosk_service(url),
        synthesizer=FakeSynthesizer(seconds_per_char=0.01),
        sink=BufferSink(realtime=realtime),
        screen=RecordingScreen(),
        settings=KioskSettings(**settings),
        recognizer=recognizer,
    )


Scenario = Callable[[FakeRasa], Awaitable[None]]


@pytest.fixture
def with_rasa() -> Callable[[Scenario], None]:
    """Run ``scenario(fake_rasa)`` in a fresh event loop with the fake Rasa serving."""
    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with fake_rasa_server() as rasa:
                await scenario(rasa)

        asyncio.run(main())

    return run


def spoken(kiosk: Kiosk) -> list[str]:
    return [text for text, _ in kiosk.synthesizer.calls]


def said(kiosk: Kiosk, pattern: str) -> bool:
    return any(re.search(pattern, text) for text in spoken(kiosk))
