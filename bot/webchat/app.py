"""aiohttp application for the resident web chat.

The page talks to ``/api/chat``; the app adds the channel metadata and a stable anonymous
resident id (a cookie) and forwards the message to Rasa's REST channel.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import aiohttp
from aiohttp import web

from community.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
COOKIE = "sqa_rid"
MAX_BODY = 64 * 1024
BUSY = "系统繁忙，请稍后再试。您输入的内容还在输入框里。"

SETTINGS = web.AppKey("settings", Settings)
HTTP = web.AppKey("http", aiohttp.ClientSession)


def resident_id(request: web.Request) -> tuple[str, bool]:
    """The resident's anonymous id from the cookie, or a new one (and whether it is new)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value, False
    return secrets.token_hex(16), True


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return web.json_response({"error": "请求格式不对，请刷新页面后再试。"}, status=400)
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return web.json_response({"error": "请输入文字。"}, status=400)
    rid, is_new = resident_id(request)
    settings = request.app[SETTINGS]
    payload = {"sender": f"web-{rid}", "message": message, "metadata": {"channel": "web"}}
    headers = {}
    params = {"token": settings.rasa_auth_token} if settings.rasa_auth_token else None
    try:
        async with request.app[HTTP].post(
            f"{settings.rasa_url}/webhooks/rest/webhook", json=payload, params=params,
            headers=headers, timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            if response.status != 200:
                log.warning("Rasa answered HTTP %s", response.status)
                return web.json_response({"error": BUSY}, status=503)
            messages = await response.json()
    except (aiohttp.ClientError, TimeoutError) as err:
        log.warning("Rasa unreachable: %s", type(err).__name__)
        return web.json_response({"error": BUSY}, status=503)
    reply = web.json_response({"messages": messages})
    if is_new:
        reply.set_cookie(COOKIE, rid, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return reply


async def _open_http(app: web.Application) -> None:
    app[HTTP] = aiohttp.ClientSession()


async def _close_http(app: web.Application) -> None:
    await app[HTTP].close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/chat", chat)
    app.router.add_static("/static/", STATIC)
    app.on_startup.append(_open_http)
    app.on_cleanup.append(_close_http)
    return app
