"""Who may do what: the session middleware with security headers and the idle timeout, role
checks and CSRF for every route (:func:`requires`), and the login and logout pages with their
lockout handling (per account and per client address)."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import secrets
from typing import Callable

from aiohttp import web

from bot.console.formatting import localtime
from bot.console.web import (
    CSETTINGS,
    PREFIX,
    Handler,
    accounts,
    audit,
    forbidden,
    redirect,
    render,
    run,
    store,
)
from community.records.accounts import ROLES

log = logging.getLogger(__name__)
SESSION_COOKIE = "sqa_staff"
LOGIN_COOKIE = "sqa_staff_login"
# Sent by console.js when an open page refreshes itself: not a sign that someone is there.
REFRESH_HEADER = "X-Console-Refresh"
IDLE_NOTICE = "您已经 {minutes} 分钟没有操作，为了安全已自动退出，请重新登录。"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make Chrome send "Origin: null" on POSTs
    "Cache-Control": "no-store",
}


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)  # the residents' pages are not the console's business
    token = request.cookies.get(SESSION_COOKIE, "")
    request["user"], request["session_end"] = None, "missing"
    if token:
        cs = request.app[CSETTINGS]
        request["user"], request["session_end"] = await run(
            accounts(request).check_session,
            token,
            idle=dt.timedelta(minutes=cs.idle_minutes),
            hours=cs.session_hours,
            touch=request.headers.get(REFRESH_HEADER) != "1",
        )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        for key, value in SECURITY_HEADERS.items():
            exc.headers.setdefault(key, value)
        raise
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def same_origin(request: web.Request) -> bool:
    """The form was posted from our own pages (the browser's ``Origin``). Behind an https reverse
    proxy (``CONSOLE_SECURE_COOKIES=always``) the browser's origin is https while this server
    sees http; the proxy must pass the Host header on."""
    origin = request.headers.get("Origin")
    if origin is None:  # not sent by every browser on same-origin form posts
        return True
    allowed = {f"{request.scheme}://{request.host}"}
    if request.app[CSETTINGS].secure_cookies == "always":
        allowed.add(f"https://{request.host}")
    return origin in allowed


def requires(role: str = "staff") -> Callable[[Handler], Handler]:
    """Logged in, with ``role`` (admin can do everything staff can); POSTs carry the CSRF token."""
    if role not in ROLES:
        raise ValueError(role)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            user = request.get("user")
            if user is None:
                idle = request.get("session_end") == "idle"
                if request.method == "GET":
                    raise redirect("/login", next=request.path_qs, idle=1 if idle else None)
                return render(
                    request,
                    "error.html",
                    status=401,
                    title="请先登录",
                    message=idle_notice(request) + "（刚才的操作没有保存。）"
                    if idle
                    else "登录已过期，请重新登录后再操作。",
                )
            if role == "admin" and user["role"] != "admin":
                return forbidden(request, "这个页面只有管理员可以使用。")
            if request.method == "POST":
                form = await request.post()
                request["form"] = form
                sent = str(form.get("csrf", ""))
                if not same_origin(request) or not sent or not hmac.compare_digest(sent, user["csrf"]):
                    log.warning("CSRF check failed for %s on %s", user["username"], request.path)
                    return forbidden(request, "页面已过期或来源不对（CSRF 校验失败），请刷新页面后再试。")
            await count_waiting(request)
            return await handler(request)

        wrapped.role = role  # type: ignore[attr-defined]
        return wrapped

    return decorate


async def count_waiting(request: web.Request) -> None:
    """Residents waiting for staff, for the header of every page (None if the store is away)."""
    try:
        request["waiting"] = await run(store(request).handoffs.waiting_count)
    except Exception as err:  # noqa: BLE001 - a page still shows without the count
        log.warning("waiting count unavailable: %s", type(err).__name__)
        request["waiting"] = None


def idle_notice(request: web.Request) -> str:
    minutes = request.app[CSETTINGS].idle_minutes
    return IDLE_NOTICE.format(minutes=f"{minutes:g}")


def safe_next(value: str) -> str:
    """Only our own pages: no open redirects."""
    if (
        value.startswith(PREFIX + "/")
        and not value.startswith("//")
        and "\\" not in value
        and "://" not in value
    ):
        return value
    return PREFIX + "/"


def client_ip(request: web.Request) -> str:
    return request.remote or ""


def secure_cookie(request: web.Request) -> bool:
    mode = request.app[CSETTINGS].secure_cookies
    return mode == "always" or (mode == "auto" and request.secure)


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=secure_cookie(request),
    )


async def login_page(request: web.Request) -> web.Response:
    request["user"] = None  # the login form alone, even for someone still logged in
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        login_csrf=token,
        next=safe_next(request.query.get("next", "")),
        username="",
        notice=idle_notice(request) if request.query.get("idle") == "1" else "",
    )
    set_cookie(request, response, LOGIN_COOKIE, token, 3600)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    sent = str(form.get("csrf", ""))
    next_page = safe_next(str(form.get("next", "")))

    def again(message: str, status: int) -> web.Response:
        request["user"] = None
        token = secrets.token_urlsafe(24)
        response = render(
            request,
            "login.html",
            status=status,
            error=message,
            login_csrf=token,
            next=next_page,
            username=username,
            notice="",
        )
        set_cookie(request, response, LOGIN_COOKIE, token, 3600)
        return response

    if not cookie or not sent or not hmac.compare_digest(cookie, sent) or not same_origin(request):
        return again("登录页面已过期（CSRF 校验失败），请重新输入后登录。", 403)
    if not username or not password:
        return again("请输入用户名和密码。", 400)
    result = await run(accounts(request).authenticate, username, password, ip=client_ip(request))
    if result.user is None:
        if result.locked_until and result.scope == "address":
            detail = {"ip": client_ip(request)}
            await run(store(request).audit.record, username[:64], "login_address_limited", None, detail)
            return again(
                "这个网络地址登录失败的次数太多，暂时不能登录，请在 "
                f"{localtime(result.locked_until, '%H:%M')} 之后再试，或请管理员帮忙。",
                429,
            )
        if result.locked_until:
            await run(
                store(request).audit.record, username[:64], "login_locked", None, {"ip": client_ip(request)}
            )
            return again(
                f"登录失败次数太多，账号已锁定，请在 {localtime(result.locked_until, '%H:%M')} 之后再试，"
                "或请管理员帮忙。",
                429,
            )
        detail = {"ip": client_ip(request)}
        await run(store(request).audit.record, username[:64], "login_failed", None, detail)
        return again("用户名或密码不对。", 401)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await run(accounts(request).end_session, old)
    cs = request.app[CSETTINGS]
    hours = cs.session_hours
    token, _csrf = await run(
        accounts(request).create_session,
        result.user["id"],
        hours=hours,
        idle=dt.timedelta(minutes=cs.idle_minutes),
    )
    await run(store(request).audit.record, result.user["username"], "login", None, {"ip": client_ip(request)})
    response = web.HTTPFound(next_page)
    set_cookie(request, response, SESSION_COOKIE, token, int(hours * 3600))
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    raise response


@requires("staff")
async def logout(request: web.Request) -> web.StreamResponse:
    await run(accounts(request).end_session, request.cookies.get(SESSION_COOKIE, ""))
    await audit(request, "logout")
    response = web.HTTPFound(PREFIX + "/login")
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    raise response
