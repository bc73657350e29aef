"""Fixtures: an event loop on a thread running the fake Bot API, a fake Rasa and the bot under test."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.app import TelegramChannel
from bot.telegram.settings import TelegramSettings
from community.store import Store
from tests.support.fake_telegram_api import Call, FakeRasa, FakeTelegram
from tools.stack import free_port

TOKEN = "123456:TEST-token"


class Harness:
    """The bot under test, polling the fake Bot API, driven from the test's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, api: FakeTelegram, rasa: FakeRasa | None) -> None:
        self.loop = loop
        self.api = api
        self.rasa = rasa
        self.channel: TelegramChannel | None = None

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call_soon(self, function: Callable[[], Any]) -> Any:
        async def call() -> Any:
            return function()

        return self.run(call())

    def send(self, update: dict[str, Any]) -> None:
        self.call_soon(lambda: self.api.add_update(update))

    def wait_for(self, condition: Callable[[], Any], timeout: float = 15, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or condition}; calls: {self.summary()}")

    def wait_text(self, fragment: str, chat_id: int | None = None, timeout: float = 15) -> Call:
        def found() -> Call | None:
            return next(
                (c for c in self.api.sent("sendMessage", chat_id) if fragment in c.params["text"]), None
            )

        return self.wait_for(found, timeout, f"a message with {fragment!r}")

    def summary(self) -> list[tuple[str, int, str]]:
        return [(c.method, c.status, str(c.params.get("text", ""))[:40]) for c in self.api.calls]


def started_fakes(loop: asyncio.AbstractEventLoop) -> Harness:
    """A fake Bot API and a fake Rasa, started on ``loop``, for a bot run as a separate process."""
    api, rasa = FakeTelegram(), FakeRasa()
    harness = Harness(loop, api, rasa)
    harness.run(api.start())
    harness.run(rasa.start())
    return harness


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop

    async def cancel_the_rest() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'community.db'}"


@pytest.fixture
def make_bot(
    loop: asyncio.AbstractEventLoop, sqlite_url: str, tmp_path: Path
) -> Iterator[Callable[..., Harness]]:
    """``make_bot(rasa=FakeRasa(...) | None, rasa_url=..., store=..., recognizer=..., synthesizer=...,
    catalogue=..., **settings)``;
    without a store, one at ``sqlite_url``."""
    harnesses: list[tuple[Harness, FakeTelegram, FakeRasa | None]] = []

    def make(
        rasa: FakeRasa | None = None,
        *,
        rasa_url: str = "",
        action_health_url: str = "",
        store: Store | None = None,
        recognizer: Any = None,
        synthesizer: Any = None,
        catalogue: Any = None,
        **overrides: Any,
    ) -> Harness:
        api = FakeTelegram()
        harness = Harness(loop, api, rasa)
        harness.run(api.start())
        if rasa is not None:
            harness.run(rasa.start())
            rasa_url = rasa_url or rasa.url
            action_health_url = action_health_url or f"{rasa.url}/health"
        options: dict[str, Any] = {
            "retry_first_delay": 0.2, "retry_max_delay": 0.5, "poll_timeout": 1, "rasa_timeout": 10,
            "notify_interval": 0.2, "var_dir": tmp_path,
            **overrides,
        }
        settings = TelegramSettings(
            token=TOKEN, api_url=f"{api.url}/bot", rasa_url=rasa_url or f"http://127.0.0.1:{free_port()}",
            action_health_url=action_health_url, store_url="" if store else sqlite_url, **options,
        )
        channel_store = store or Store.from_url(sqlite_url)

        async def start() -> TelegramChannel:
            channel = TelegramChannel(
                settings, store=channel_store, recognizer=recognizer, synthesizer=synthesizer,
                catalogue=catalogue,
            )
            await channel.start_polling()
            return channel

        harness.channel = harness.run(start())
        harnesses.append((harness, api, rasa))
        return harness

    yield make
    for harness, api, rasa in harnesses:
        assert harness.channel is not None
        harness.run(harness.channel.stop_polling())
        harness.run(api.stop())
        if harness.rasa is not None:
            harness.run(harness.rasa.stop())
        if rasa is not None and rasa is not harness.rasa:
            harness.run(rasa.stop())
