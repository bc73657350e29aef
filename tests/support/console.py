"""Fixtures for the staff console tests: the web app (console mounted under /staff) over real
HTTP on loopback, against a fake Rasa HTTP API that keeps per-conversation events and honours
pause/resume like Rasa does, and a SQLite store."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.console.settings import ConsoleSettings
from bot.webchat.app import COOKIE, STORE, create_app
from community.records.accounts import Accounts
from community.settings import Settings
from community.store import Store
from community.training_data import HOLDOUT_DIR
from tests.support.browser import start_chromium
from voice.settings import VoiceSettings
from voice.tts import FakeSynthesizer

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class FakeRasa:
    """Rasa's REST channel and the tracker endpoints of its HTTP API."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.requests: list[tuple[str, str]] = []
        self.up = True

    def paused(self, sender: str) -> bool:
        state = False
        for event in self.events[sender]:
            if event["event"] == "pause":
                state = True
            elif event["event"] == "resume":
                state = False
        return state

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender = body["sender"]
        self.events[sender].append(
            {
                "event": "user",
                "text": body["message"],
                "timestamp": time.time(),
                "parse_data": {"intent": {"name": "elderly_meal", "confidence": 0.91}},
            }
        )
        if self.paused(sender):
            return web.json_response([])
        answer = f"助手回答：{body['message']}"
        self.events[sender].append({"event": "bot", "text": answer, "timestamp": time.time()})
        return web.json_response([{"recipient_id": sender, "text": answer}])

    async def tracker(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path))
        if not self.up:
            return web.Response(status=500)
        sender = request.match_info["sender"]
        return web.json_response(
            {"sender_id": sender, "events": self.events[sender], "paused": self.paused(sender)}
        )

    async def append(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.path))
        if not self.up:
            return web.Response(status=500)
        body = await request.json()
        sender = request.match_info["sender"]
        self.events[sender].extend(body if isinstance(body, list) else [body])
        return web.json_response({"sender_id": sender})

    async def parse(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("POST", request.path))
        if not self.up:
            return web.Response(status=500)
        ranking = [{"name": "elderly_meal", "confidence": 0.91}, {"name": "elderly_homecare", "confidence": 0.05}]
        return web.json_response({"text": body.get("text", ""), "intent": ranking[0], "intent_ranking": ranking,
                                  "entities": []})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/model/parse", self.parse)
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        app.router.add_post("/conversations/{sender}/tracker/events", self.append)
        return app


@dataclass
class Harness:
    client: TestClient
    rasa: FakeRasa
    store: Store
    accounts: Accounts
    root: Path
    cookies: dict[str, str] = field(default_factory=dict)

    async def page(self, path: str, **kw: Any) -> tuple[int, str]:
        response = await self.client.get(path, allow_redirects=kw.pop("allow_redirects", True), **kw)
        return response.status, await response.text()

    async def csrf(self, path: str = "/staff/handoffs") -> str:
        status, html = await self.page(path)
        match = CSRF_FIELD.search(html)
        assert match, f"no CSRF token on {path} ({status})"
        return match.group(1)

    async def login(self, username: str, password: str = PASSWORD) -> web.ClientResponse:
        _, html = await self.page("/staff/login")
        token = CSRF_FIELD.search(html).group(1)
        return await self.client.post(
            "/staff/login",
            data={"username": username, "password": password, "csrf": token},
            allow_redirects=False,
        )

    async def logout(self) -> None:
        await self.client.post("/staff/logout", data={"csrf": await self.csrf()}, allow_redirects=False)
        self.client.session.cookie_jar.clear()

    async def post(
        self,
        path: str,
        data: dict[str, Any] | list[tuple[str, str]],
        *,
        csrf_from: str | None = None,
        **kw: Any,
    ) -> web.ClientResponse:
        token = await self.csrf(csrf_from or "/staff/handoffs")  # one token per session
        items = list(data.items()) if isinstance(data, dict) else list(data)
        return await self.client.post(
            path, data=[("csrf", token), *items], allow_redirects=kw.pop("allow_redirects", False), **kw
        )

    def resident_id(self) -> str:
        return self.client.session.cookie_jar.filter_cookies(self.client.make_url("/"))[COOKIE].value


Scenario = Callable[[Harness], Awaitable[None]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's training data (the real nlu_data/ is never written by tests)."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("domain", "nlu_data"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("reviewed.yml"))
    shutil.copytree(ROOT / HOLDOUT_DIR, root / HOLDOUT_DIR)
    return root


def make_users(accounts: Accounts) -> None:
    for name, role in (("wang", "staff"), ("li", "staff"), ("boss", "admin")):
        if accounts.get_user(name) is None:
            accounts.create_user(name, PASSWORD, role)


@pytest.fixture
def harness(tmp_path: Path):
    """``harness(scenario)`` runs ``scenario(h)`` against the web app with the console mounted."""

    def runner(
        scenario: Scenario,
        *,
        store_url: str | None = None,
        root: Path | None = None,
        console_settings: ConsoleSettings | None = None,
        retrainer: Any = None,
    ) -> None:
        async def main() -> None:
            rasa = FakeRasa()
            rasa_server = TestServer(rasa.app(), host="127.0.0.1")
            await rasa_server.start_server()
            port = rasa_server.port
            settings = Settings(
                rasa_port=port, action_port=port + 1 if port < 65000 else 1, web_port=2, var_dir=tmp_path
            )
            store = Store.from_url(store_url or f"sqlite:///{tmp_path / 'store.db'}")
            accounts = Accounts(store.engine)
            make_users(accounts)
            options = {
                "console_settings": console_settings or ConsoleSettings(secure_cookies="never"),
                "store": store,
                "root": root or tmp_path,
                "retrainer": retrainer,
                "tracker": None,
            }
            app = create_app(
                settings,
                voice_settings=VoiceSettings(),
                store=store,
                recognizer=None,
                synthesizer=FakeSynthesizer(),
                console=options,
                delivery_interval=0.2,
                keepalive=0.2,
            )
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                assert app[STORE] is store
                await scenario(Harness(client, rasa, store, accounts, root or tmp_path))
            finally:
                await client.close()
                await rasa_server.close()
                store.engine.dispose()

        asyncio.run(main())

    return runner


async def read_events(stream: Any, want: int = 1, timeout: float = 5) -> list[dict[str, Any]]:
    """The next ``want`` pushed messages on an open /api/events stream."""
    found: list[dict[str, Any]] = []
    while len(found) < want:
        chunk = await asyncio.wait_for(stream.content.readuntil(b"\n\n"), timeout)
        if b"data:" in chunk:
            found.append(json.loads(chunk.split(b"data: ", 1)[1]))
    return found


# -- real browser ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's headless Chromium driven by selenium (no browser download)."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium"), window="1200,1000")
    yield driver
    driver.quit()


def wait(driver, condition, timeout: float = 30):
    """``condition`` polled until true; an element the page replaced between finding it and
    reading it (a page that follows a job by itself) is found again at the next poll."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(
        driver, timeout, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    )
    return waiting.until(condition)


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def log_in(driver, base: str, username: str, password: str = PASSWORD) -> None:
    """Fill in the login form as a person would."""
    driver.get(base + "/staff/login")
    css(driver, "#username")[0].send_keys(username)
    css(driver, "#password")[0].send_keys(password)
    css(driver, "form button[type=submit]")[0].click()
    try:
        wait(driver, lambda d: "/staff/login" not in d.current_url, 15)
    except Exception as err:
        main = css(driver, "main")
        raise AssertionError(f"login failed: {main[0].text if main else driver.page_source[-2000:]}") from err
    assert username in css(driver, ".me")[0].text
