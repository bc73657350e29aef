"""What every console page shares: the app keys, rendering and redirects, the stores, running
blocking calls off the event loop, the audit log and the notification hook."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

import aiohttp
import jinja2
from aiohttp import web

from bot.console.conversations import ConversationControl
from bot.console.settings import ConsoleSettings
from community.records.accounts import Accounts, Lockout
from community.settings import Settings
from community.store import Store

log = logging.getLogger(__name__)
PREFIX = "/staff"

SETTINGS = web.AppKey("console_settings_main", Settings)
CSETTINGS = web.AppKey("console_settings", ConsoleSettings)
STORE = web.AppKey("console_base_store", Store)
JINJA = web.AppKey("console_jinja", jinja2.Environment)
HTTP = web.AppKey("console_http", aiohttp.ClientSession)
RASA = web.AppKey("console_rasa", ConversationControl)
ROOT = web.AppKey("console_root", Path)
HOOKS = web.AppKey("console_hooks", dict)  # store_getter, on_notify, retrainer (optional)
TRACKER = web.AppKey("console_tracker_engine", object)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DONE = {
    "assigned": "已把 {n} 条问题加入「{x}」的例句。重新训练后生效。",
    "new_intent": "已新建问题「{x}」，加入 {n} 条问法和回答。重新训练后生效。",
    "noise": "已把 {n} 条标记为“不是问题”。",
    "bulk_noise": "已把 {n} 条标记为“不是问题”。",
    "bulk_group": "已把 {n} 条并入同一组。",
    "bulk_none": "请先勾选问题组，再选择要做的操作（并入时还要选并入哪一组）。",
    "taken": "您已接手这位居民，助手已暂停回答。",
    "replied": "回复已发出。",
    "released": "已交回智能助手，并告诉了居民。",
    "closed": "已关闭 {n} 位居民的等待（已记下原因）。",
    "status": "状态已更新，已通知居民。",
    "user_created": "账号 {x} 已创建。",
    "user_changed": "账号 {x} 已更新。",
    "retrain_started": "已开始重新训练。",
    "retrain_running": "已经在训练中，请等这一次完成。",
    "gone": "这一组问题已被处理。",
}


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    user = request.get("user")
    code = request.query.get("done", "")
    flash = (
        DONE.get(code, "").format(n=request.query.get("n", ""), x=request.query.get("x", "")) if code else ""
    )
    html = (
        request.app[JINJA]
        .get_template(template)
        .render(
            user=user,
            waiting_count=request.get("waiting"),
            csrf=user["csrf"] if user else "",
            flash=flash,
            nav=context.pop("nav", ""),
            error=context.pop("error", ""),
            **context,
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def redirect(path: str, **query: Any) -> web.HTTPFound:
    url = PREFIX + path
    if query:
        url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
    return web.HTTPFound(url)


def forbidden(request: web.Request, message: str) -> web.Response:
    return render(request, "error.html", status=403, title="不能这样做", message=message)


def accounts(request: web.Request) -> Accounts:
    """Staff accounts with the console's login limits, opened on first use (the web app opens
    the store at start-up)."""
    hooks = request.app[HOOKS]
    if hooks.get("accounts") is None:
        cs = request.app[CSETTINGS]
        minutes = dt.timedelta(minutes=cs.lockout_minutes)
        lockout = Lockout(
            cs.lockout_attempts, minutes, minutes, ip_max_failures=cs.ip_lockout_attempts, ip_window=minutes
        )
        hooks["accounts"] = Accounts(store(request).engine, lockout=lockout)
    return hooks["accounts"]


def store(request: web.Request) -> Store:
    app = request.app
    if STORE not in app:
        return app[HOOKS]["store_getter"]()
    return app[STORE]


async def run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(func, *args, **kwargs)


async def audit(request: web.Request, action: str, target: Any = None, detail: Any = None) -> None:
    await run(store(request).audit.record, request["user"]["username"], action, target, detail)


def notified(request: web.Request) -> None:
    """Tell the channel delivering notifications that there is something new."""
    hook = request.app[HOOKS].get("on_notify")
    if hook is not None:
        try:
            hook()
        except Exception:  # delivery still happens at its next poll
            log.exception("notification hook failed")
