"""A local fake of the Telegram Bot API over real HTTP (aiohttp on 127.0.0.1), and a fake Rasa.

The bot under test is pointed at it with ``TELEGRAM_API_URL`` (``{url}/bot``). It serves queued
updates through getUpdates (long polling), records every call, answers sendMessage, sendVoice,
answerCallbackQuery, getFile and the file download, setWebhook/deleteWebhook/getWebhookInfo (while
a webhook is set, getUpdates is refused with 409 as Telegram does), can be told to fail a method
with a 429 (``retry_after``), a 5xx or any other error, to answer a method slowly, and that a
chat blocked the bot (403 for everything sent to it).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

BOT_USER = {"id": 999, "is_bot": True, "first_name": "社区助手", "username": "community_test_bot"}


async def serve(app: web.Application, port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on 127.0.0.1 (``port`` 0: any free port); its runner and base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the fake answered (a sent message: its message_id)

    @property
    def message_id(self) -> int:
        return int(self.result["message_id"])


class FakeTelegram:
    def __init__(self) -> None:
        self.calls: list[Call] = []  # recorded when answered
        self.arrived: list[Call] = []  # recorded when the request came in (before a slow answer)
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, collections.deque[tuple[int, float | None]]] = collections.defaultdict(
            collections.deque
        )
        self.slow: dict[str, float] = {}  # method → seconds to wait before answering
        self.webhook: dict[str, Any] = {}  # what setWebhook set (url, secret_token, …)
        self.blocked: set[int] = set()  # chats whose resident blocked the bot
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- control (call from the server's event loop) -----------------------------------------

    async def start(self) -> str:
        self._new_update = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def add_update(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        if self._new_update is not None:
            self._new_update.set()
        return update_id

    def fail(self, method: str, status: int, times: int = 1, retry_after: float | None = None) -> None:
        for _ in range(times):
            self.failures[method].append((status, retry_after))

    # --- HTTP --------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                params[key] = value.file.read() if isinstance(value, web.FileField) else value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            self.arrived.append(Call(method, params, 0))
        if method in self.slow:
            await asyncio.sleep(self.slow[method])
        if method == "getUpdates" and self.webhook.get("url"):
            body = {"ok": False, "error_code": 409,
                    "description": "Conflict: can't use getUpdates method while webhook is active"}
            return web.json_response(body, status=409)
        if self.failures[method]:
            status, retry_after = self.failures[method].popleft()
            self.calls.append(Call(method, params, status))
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"injected {status}"}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
                body["description"] = f"Too Many Requests: retry after {retry_after}"
            return web.json_response(body, status=status)
        if method.startswith("send") and int(params.get("chat_id") or 0) in self.blocked:
            self.calls.append(Call(method, params, 403))
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return web.json_response(body, status=403)
        call = Call(method, params, 200)
        if method != "getUpdates":
            self.calls.append(call)
        handler = getattr(self, f"_{method}", None)
        call.result = await handler(params) if handler else True
        return web.json_response({"ok": True, "result": call.result})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        file_id = path.rsplit("/", 1)[-1].split(".", 1)[0]
        if file_id not in self.files:
            return web.Response(status=404)
        self.calls.append(Call("download", {"path": path}, 200))
        return web.Response(body=self.files[file_id], content_type="audio/ogg")

    async def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        while True:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if pending or time.monotonic() >= deadline:
                return pending
            assert self._new_update is not None
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(deadline - time.monotonic(), 0.01))
            except asyncio.TimeoutError:
                pass

    async def _setWebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise web.HTTPBadRequest(text="bad webhook url")
        self.webhook = {k: v for k, v in params.items() if v not in (None, "")} if url else {}
        return True

    async def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook.get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
        }
        return {**message, **extra}

    async def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params["text"])

    async def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = params.get("reply_markup")
        return self._message(params, message_id=int(params["message_id"]), text="…",
                             **({"reply_markup": json.loads(markup)} if markup else {}))

    async def _sendVoice(self, params: dict[str, Any]) -> dict[str, Any]:
        voice = {"file_id": "sent-voice", "file_unique_id": "sent-voice-u", "duration": 1}
        return self._message(params, voice=voice)

    async def _getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file_id"]
        return {
            "file_id": file_id, "file_unique_id": f"u-{file_id}",
            "file_size": len(self.files.get(file_id, b"")), "file_path": f"voice/{file_id}.oga",
        }

    # --- what the bot did --------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [
            c for c in list(self.calls)
            if c.method == method and c.status == 200
            and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.params["text"] for c in self.sent("sendMessage", chat_id)]

    def edits(self, chat_id: int | None = None) -> list[Call]:
        """editMessageReplyMarkup calls (a message's buttons changed)."""
        return self.sent("editMessageReplyMarkup", chat_id)


def markup(call: Call) -> dict[str, Any]:
    raw = call.params.get("reply_markup")
    return json.loads(raw) if raw else {}


# --- updates ------------------------------------------------------------------------------

_ids = itertools.count(1)


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "居民"}


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "居民", "language_code": "zh-hans"}


def text_update(chat_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_ids), "date": int(time.time()), "chat": _chat(chat_id), "from": _user(chat_id),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def voice_update(chat_id: int, file_id: str, duration: int) -> dict[str, Any]:
    return {"message": {
        "message_id": next(_ids), "date": int(time.time()), "chat": _chat(chat_id), "from": _user(chat_id),
        "voice": {"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": duration,
                  "mime_type": "audio/ogg"},
    }}


def callback_update(chat_id: int, data: str, message_id: int | None = None) -> dict[str, Any]:
    """A tap on an inline button with ``data``, of the message ``message_id`` (any, if None)."""
    return {"callback_query": {
        "id": f"cb{next(_ids)}", "from": _user(chat_id), "chat_instance": "ci", "data": data,
        "message": {"message_id": message_id or next(_ids), "date": int(time.time()),
                    "chat": _chat(chat_id), "from": BOT_USER, "text": "…"},
    }}


# --- a fake Rasa REST channel (and the action server's /health) ---------------------------------


class FakeRasa:
    """Answers ``answer(message) -> [{"text", "buttons"?}]``; records what it was sent."""

    def __init__(self, answer: Callable[[str], list[dict[str, Any]]] | None = None) -> None:
        self.answer = answer or (lambda message: [{"text": f"答：{message}"}])
        self.received: list[dict[str, Any]] = []
        self.healthy = True
        self.delay: Callable[[str], float] = lambda message: 0.0
        self.active_loop: dict[str, str] = {}  # sender → the form waiting for an answer (trackers)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/health", self._health)
        app.router.add_get("/conversations/{sender}/tracker", self._tracker)
        self._runner, self.url = await serve(app, port)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        await asyncio.sleep(self.delay(body["message"]))
        return web.json_response(self.answer(body["message"]))

    async def _tracker(self, request: web.Request) -> web.Response:
        loop = self.active_loop.get(request.match_info["sender"])
        return web.json_response({"events": [], "active_loop": {"name": loop} if loop else {}})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=200 if self.healthy else 503)
