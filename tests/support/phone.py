"""The phone line running for real in the test process (PJSIP, the call sessions, espeak-ng,
the store on SQLite) on a free loopback port, with Rasa's REST channel replaced by a small
local server that answers the kiosk's menu payloads. SIPp and baresip call it."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.phone.app import PhoneLine
from bot.phone.settings import PhoneSettings
from bot.resident.rasa import RasaClient
from bot.resident.service import ResidentService
from community.settings import Settings
from community.store import Store
from tests.support.sipp import SIPP, can_tap, free_udp_port
from voice.tts import Pyttsx3Synthesizer

ANSWERS = {
    "/elderly_meal": "老年餐桌在幸福里社区养老服务驿站一层101室。每天11:00到13:00开放，每餐15元。"
    "本社区60岁以上老人可以登记。失能老人可以申请送餐上门。电话010-8765-4311。",
    "/cert_apply": "居委会现在只开居住证明。请带身份证到社区服务站一号窗口。",
}


def rasa_answer(message: str) -> list[dict[str, Any]]:
    for prefix, text in ANSWERS.items():
        if message.startswith(prefix):
            return [{"recipient_id": "x", "text": text}]
    return [{"recipient_id": "x", "text": "这个问题我先记下来，工作人员会回复您。"}]


class FakeRasa:
    """Rasa's REST channel on loopback: the menu answers, and what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.port = 0

    async def start(self) -> web.AppRunner:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            self.asked.append((body["sender"], body["message"]))
            return web.json_response(rasa_answer(body["message"]))

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        return runner


class Harness:
    """The phone line on its own event loop thread."""

    def __init__(self, tmp: Path, phone: PhoneSettings, clock: Any = None) -> None:
        self.tmp = tmp
        self.phone = phone
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.rasa = FakeRasa()
        self.line: PhoneLine | None = None
        self.store: Store | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def call(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> Harness:
        self._thread.start()
        self.call(self._start(), timeout=120)
        return self

    async def _start(self) -> None:
        self._runner = await self.rasa.start()
        settings = replace(
            Settings(),
            var_dir=self.tmp / "var",
            rasa_port=self.rasa.port,
            action_port=free_udp_port(),
            rasa_auth_token="t",
        )
        self.store = Store.from_url(f"sqlite:///{self.tmp / 'community.db'}")
        self.synthesizer = Pyttsx3Synthesizer()
        rasa = RasaClient(f"http://127.0.0.1:{self.rasa.port}", timeout=10)
        service = ResidentService(settings, rasa, self.store, synthesizer=self.synthesizer)
        self.line = PhoneLine(self.phone, service)
        if self.clock is not None:
            original = self.line.session_factory
            self.line.session_factory = lambda *a, **k: original(*a, clock=self.clock, **k)
        await self.line.start()

    def stop(self) -> None:
        async def _stop() -> None:
            assert self.line is not None
            await self.line.stop()
            await self.line.service.rasa.close()
            await self._runner.cleanup()

        self.call(_stop())
        self.synthesizer.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def always_open() -> dt.datetime:
    """A Monday 10:00 in Beijing: inside 周一至周五 8:30-17:30."""
    return dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)


needs_sipp = pytest.mark.skipif(
    SIPP is None or not can_tap(),
    reason="needs SIPp (apt-get install sip-tester) and root for the loopback RTP tap",
)
needs_baresip = pytest.mark.skipif(
    shutil.which("baresip") is None, reason="needs baresip (apt-get install baresip)"
)


@pytest.fixture
def phone_settings() -> PhoneSettings:
    return PhoneSettings(
        sip_port=free_udp_port(), rtp_port=20000 + free_udp_port() % 20000, staff_extension=""
    )


@pytest.fixture
def harness(tmp_path: Path, phone_settings: PhoneSettings) -> Iterator[Harness]:
    running = Harness(tmp_path, phone_settings, clock=always_open).start()
    try:
        yield running
    finally:
        running.stop()
