"""The staff console: routes installed into the web app under ``/staff``.

(Installed as routes of the web app, not with ``add_subapp``: aiohttp 3.9's prefixed
sub-application resolver builds ``request.url``, which the installed yarl rejects for a Host
header with a port.)

Pages (all server-rendered with Jinja2 autoescaping; every POST carries the session's CSRF
token; every route names the role it needs):

* ``/staff/login`` · ``/staff/logout``
* ``/staff/review`` 待答问题 (grouped), ``/staff/review/{key}`` one group: assign an intent,
  create a new intent with its answer, correct the text, or mark it as noise
* ``/staff/retrain`` (admin) retrain, with progress from ``/staff/retrain/status``
* ``/staff/handoffs`` 人工接管 inbox, ``/staff/handoffs/{id}`` take, transcript, reply, release
* ``/staff/requests`` 工单 list (masked) and CSV export, ``/staff/requests/{ref}`` in full,
  status change with a note
* ``/staff/stats`` 统计, charts drawn as inline SVG
* ``/staff/users`` and ``/staff/audit`` (admin)
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import functools
import hmac
import io
import logging
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlencode

import aiohttp
import jinja2
import sqlalchemy as sa
from aiohttp import web

from bot.console import charts
from bot.console.rasa import RasaClient, RasaUnavailable, transcript
from bot.console.settings import ConsoleSettings
from community.console_store import (
    HANDOFF_REASON_LABELS,
    LOCAL_TZ,
    ROLE_LABELS,
    ROLES,
    UNANSWERED_REASON_LABELS,
    ConsoleError,
    ConsoleStore,
    Lockout,
)
from community.intents import label as intent_label
from community.privacy import mask_text
from community.settings import Settings
from community.store import Store, make_engine

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SESSION_COOKIE = "sqa_staff"
LOGIN_COOKIE = "sqa_staff_login"
PREFIX = "/staff"
MAX_REPLY_CHARS = 2000
MAX_FORM_BYTES = 256 * 1024

SETTINGS = web.AppKey("console_settings_main", Settings)
CSETTINGS = web.AppKey("console_settings", ConsoleSettings)
STORE = web.AppKey("console_base_store", Store)
JINJA = web.AppKey("console_jinja", jinja2.Environment)
HTTP = web.AppKey("console_http", aiohttp.ClientSession)
RASA = web.AppKey("console_rasa", RasaClient)
ROOT = web.AppKey("console_root", Path)
HOOKS = web.AppKey("console_hooks", dict)  # store_getter, on_notify, retrainer (optional)
TRACKER = web.AppKey("console_tracker_engine", object)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DOMAIN_LABELS = {
    "cert": "证明",
    "elderly": "养老",
    "childcare": "托育",
    "employment": "就业",
    "disability": "助残",
    "legal": "法律",
    "health": "健康",
    "emergency": "紧急",
    "complaint": "反映问题",
    "community": "社区事务",
    "volunteer": "志愿",
    "meta": "寒暄/转人工",
    "fallback": "没听懂",
}
DONE = {
    "assigned": "已把 {n} 条问题加入训练数据（意图：{x}）。重新训练后生效。",
    "new_intent": "已新建意图「{x}」并加入 {n} 条例句和回答。重新训练后生效。",
    "noise": "已把 {n} 条标记为“不是问题”。",
    "taken": "您已接手这位居民，助手已暂停回答。",
    "replied": "回复已发出。",
    "released": "已交回智能助手，并告诉了居民。",
    "status": "状态已更新，已通知居民。",
    "user_created": "账号 {x} 已创建。",
    "user_changed": "账号 {x} 已更新。",
    "retrain_started": "已开始重新训练。",
    "retrain_running": "已经在训练中，请等这一次完成。",
    "gone": "这一组问题已被处理。",
}


# -- helpers ----------------------------------------------------------------------------------
def localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(LOCAL_TZ).strftime(fmt)
    return str(value)


def waited(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    minutes = int(((now or dt.datetime.now(dt.timezone.utc)) - value).total_seconds() // 60)
    if minutes < 1:
        return "不到1分钟"
    if minutes < 60:
        return f"{minutes}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{minutes}分钟"
    return f"{hours // 24}天"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def make_jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every variable is escaped, whatever the template's name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        localtime=localtime, waited=waited, percent=percent, mask=mask_text, intent_label=intent_label
    )
    env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        HANDOFF_REASON_LABELS=HANDOFF_REASON_LABELS,
        UNANSWERED_REASON_LABELS=UNANSWERED_REASON_LABELS,
        DOMAIN_LABELS=DOMAIN_LABELS,
        PREFIX=PREFIX,
        CHANNEL_LABELS={"web": "网页聊天", "telegram": "Telegram", "kiosk": "自助终端", "unknown": "未知"},
    )
    return env


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


def console(request: web.Request) -> ConsoleStore:
    """The console's data, opened on first use (the web app opens the store at start-up)."""
    hooks = request.app[HOOKS]
    if hooks.get("console") is None:
        cs = request.app[CSETTINGS]
        minutes = dt.timedelta(minutes=cs.lockout_minutes)
        hooks["console"] = ConsoleStore(
            store(request).engine, lockout=Lockout(cs.lockout_attempts, minutes, minutes)
        )
    return hooks["console"]


def store(request: web.Request) -> Store:
    app = request.app
    if STORE not in app:
        return app[HOOKS]["store_getter"]()
    return app[STORE]


async def run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(func, *args, **kwargs)


async def audit(request: web.Request, action: str, target: Any = None, detail: Any = None) -> None:
    await run(console(request).audit, request["user"]["username"], action, target, detail)


def notified(request: web.Request) -> None:
    """Tell the channel delivering notifications that there is something new."""
    hook = request.app[HOOKS].get("on_notify")
    if hook is not None:
        try:
            hook()
        except Exception:  # delivery still happens at its next poll
            log.exception("notification hook failed")


# -- security ---------------------------------------------------------------------------------
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
    request["user"] = await run(console(request).session, token) if token else None
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


def forbidden(request: web.Request, message: str) -> web.Response:
    return render(request, "error.html", status=403, title="不能这样做", message=message)


def requires(role: str = "staff") -> Callable[[Handler], Handler]:
    """Logged in, with ``role`` (admin can do everything staff can); POSTs carry the CSRF token."""
    if role not in ROLES:
        raise ValueError(role)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            user = request.get("user")
            if user is None:
                if request.method == "GET":
                    raise redirect("/login", next=request.path_qs)
                return render(
                    request,
                    "error.html",
                    status=401,
                    title="请先登录",
                    message="登录已过期，请重新登录后再操作。",
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
            return await handler(request)

        wrapped.role = role  # type: ignore[attr-defined]
        return wrapped

    return decorate


# -- login ------------------------------------------------------------------------------------
async def login_page(request: web.Request) -> web.Response:
    request["user"] = None  # the login form alone, even for someone still logged in
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", login_csrf=token, next=safe_next(request.query.get("next", "")), username=""
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
        )
        set_cookie(request, response, LOGIN_COOKIE, token, 3600)
        return response

    if not cookie or not sent or not hmac.compare_digest(cookie, sent) or not same_origin(request):
        return again("登录页面已过期（CSRF 校验失败），请重新输入后登录。", 403)
    if not username or not password:
        return again("请输入用户名和密码。", 400)
    result = await run(console(request).authenticate, username, password, ip=client_ip(request))
    if result.user is None:
        if result.locked_until:
            await run(console(request).audit, username[:64], "login_locked", None, {"ip": client_ip(request)})
            return again(
                f"登录失败次数太多，账号已锁定，请在 {localtime(result.locked_until, '%H:%M')} 之后再试，"
                "或请管理员帮忙。",
                429,
            )
        await run(console(request).audit, username[:64], "login_failed", None, {"ip": client_ip(request)})
        return again("用户名或密码不对。", 401)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await run(console(request).end_session, old)
    hours = request.app[CSETTINGS].session_hours
    token, _csrf = await run(console(request).create_session, result.user["id"], hours=hours)
    await run(console(request).audit, result.user["username"], "login", None, {"ip": client_ip(request)})
    response = web.HTTPFound(next_page)
    set_cookie(request, response, SESSION_COOKIE, token, int(hours * 3600))
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    raise response


@requires("staff")
async def logout(request: web.Request) -> web.StreamResponse:
    await run(console(request).end_session, request.cookies.get(SESSION_COOKIE, ""))
    await audit(request, "logout")
    response = web.HTTPFound(PREFIX + "/login")
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    raise response


@requires("staff")
async def home(request: web.Request) -> web.StreamResponse:
    raise redirect("/handoffs")


# -- review queue -----------------------------------------------------------------------------
def group_rows(rows: list[dict[str, Any]]) -> list[Any]:
    """Near-duplicate questions as groups, each with ``shown``: the text staff see (the
    representative wording, or a resident's own words when cleaning left nothing)."""
    from types import SimpleNamespace

    try:
        from community.review import group_questions
    except ImportError:  # the training-data module is not installed yet: one group per text
        groups = _fallback_groups(rows)
    else:
        groups = group_questions(rows)
    by_id = {row["id"]: row for row in rows}
    out = []
    for g in groups:
        first = by_id.get(g.ids[0]) if g.ids else None
        shown = g.text if (g.text or "").strip() else (first["text"] if first else "")
        out.append(
            SimpleNamespace(
                **{
                    k: getattr(g, k)
                    for k in ("key", "text", "count", "ids", "channels", "latest", "top_intents")
                },
                shown=shown or "（空白）",
            )
        )
    return out


def _fallback_groups(rows: list[dict[str, Any]]) -> list[Any]:
    import hashlib
    from types import SimpleNamespace

    groups: dict[str, Any] = {}
    for row in rows:
        text = "".join(row["text"].split()).lower()
        key = hashlib.sha1(text.encode()).hexdigest()[:12]
        g = groups.get(key)
        if g is None:
            g = groups[key] = SimpleNamespace(
                key=key,
                text=row["text"],
                count=0,
                ids=[],
                channels=[],
                latest=row["created_at"],
                top_intents=row["top_intents"],
            )
        g.count += 1
        g.ids.append(row["id"])
        if row["channel"] not in g.channels:
            g.channels.append(row["channel"])
        g.latest = max(g.latest, row["created_at"])
    return sorted(groups.values(), key=lambda g: (-g.count, -g.latest.timestamp()))


def training_data(request: web.Request) -> Any | None:
    try:
        from community.review import TrainingData
    except ImportError:
        return None
    return TrainingData(request.app[ROOT])


@requires("staff")
async def review_queue(request: web.Request) -> web.Response:
    rows = await run(console(request).pending_questions)
    groups = await run(group_rows, rows)
    return render(request, "review.html", groups=groups, total=len(rows), nav="review")


async def context_around(
    request: web.Request, row: dict[str, Any], before: int = 3, after: int = 3
) -> list[dict] | None:
    """The lines of the conversation around a queued question (None if Rasa cannot say)."""
    try:
        tracker = await request.app[RASA].tracker(row["conversation_id"])
    except RasaUnavailable:
        return None
    lines = transcript(tracker)
    created = row["created_at"].timestamp() if row.get("created_at") else None
    best = None
    for i, line in enumerate(lines):
        if line["who"] == "resident" and line["text"].strip() == row["text"].strip():
            if best is None or created is None or (line["at"] or 0) <= created + 5:
                best = i
    if best is None:
        return lines[-(before + after) :]
    out = lines[max(0, best - before) : best + after + 1]
    for line in out:
        line["current"] = line is lines[best]
    return out


def intent_choices(data: Any) -> list[tuple[str, str]]:
    """(name, label) of the intents staff may assign, service intents first."""
    from community.intents import META_INTENTS

    faqs = data.faq_intents() if hasattr(data, "faq_intents") else {}
    names = [n for n in data.intents() if n != "nlu_fallback"]
    names.sort(key=lambda n: n in META_INTENTS)  # stable: the file's order within each part
    return [(n, faqs[n]["label"] if n in faqs else intent_label(n)) for n in names]


async def find_group(request: web.Request, key: str) -> tuple[Any | None, list[dict[str, Any]]]:
    rows = await run(console(request).pending_questions)
    groups = await run(group_rows, rows)
    group = next((g for g in groups if g.key == key), None)
    if group is None:
        return None, []
    members = [r for r in rows if r["id"] in set(group.ids)]
    return group, members


async def review_group_page(
    request: web.Request, key: str, error: str = "", status: int = 200, form: Any = None
) -> web.StreamResponse:
    group, members = await find_group(request, key)
    if group is None:
        raise redirect("/review", done="gone")
    shown = members[:20]
    contexts = await asyncio.gather(*(context_around(request, row) for row in shown[:5]))
    data = training_data(request)
    intents = await run(intent_choices, data) if data is not None else []
    return render(
        request,
        "review_group.html",
        status=status,
        error=error,
        group=group,
        members=shown,
        more=len(members) - len(shown),
        contexts=list(contexts) + [None] * (len(shown) - len(contexts)),
        intents=intents,
        training_ready=data is not None,
        form=form or {},
        nav="review",
    )


@requires("staff")
async def review_group(request: web.Request) -> web.StreamResponse:
    return await review_group_page(request, request.match_info["key"])


@requires("staff")
async def review_action(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    form = request["form"]
    user = request["user"]["username"]
    action = str(form.get("action", ""))
    try:
        ids = sorted({int(i) for i in form.getall("ids", [])})
    except ValueError:
        ids = []
    rows = [r for r in await run(console(request).questions, ids) if r["status"] == "new"]
    if not rows:
        return await review_group_page(request, key, "请至少勾选一条还没处理的问题。", 400, form)
    texts, corrected = [], {}
    for row in rows:
        original = mask_text(row["text"])
        text = " ".join(str(form.get(f"text_{row['id']}", original)).split())[:500]
        if not text:
            return await review_group_page(request, key, "例句不能为空。", 400, form)
        texts.append(text)
        if text != original:
            corrected[row["id"]] = text
    ids = [r["id"] for r in rows]
    if action == "noise":
        n = await run(console(request).review, ids, "noise", reviewer=user, group_key=key)
        await audit(request, "review_noise", key, {"ids": ids})
        raise redirect("/review", done="noise", n=n)
    data = training_data(request)
    if data is None:
        return await review_group_page(
            request, key, "训练数据模块（community/review.py）还没有安装，暂时不能加入训练数据。", 503, form
        )
    try:
        if action == "assign":
            intent = str(form.get("intent", ""))
            await run(data.add_examples, intent, texts, user)
            status, shown = "assigned", intent
        elif action == "new_intent":
            name = str(form.get("new_name", "")).strip()
            label = str(form.get("new_label", "")).strip()
            answer = str(form.get("answer", "")).strip()
            if not name or not label or not answer:
                raise ValueError("新意图需要填写：英文名称、中文名称和回答。")
            await run(data.create_intent, name, label, answer, texts, user)
            status, intent, shown = "new_intent", name, label
        else:
            return await review_group_page(request, key, "请选择要做的操作。", 400, form)
    except ValueError as err:
        return await review_group_page(request, key, str(err), 400, form)
    n = 0
    for row in rows:
        n += await run(
            console(request).review,
            [row["id"]],
            status,
            reviewer=user,
            intent=intent,
            corrected_text=corrected.get(row["id"]),
            group_key=key,
        )
    await audit(request, "review_" + status, key, {"ids": ids, "intent": intent, "examples": texts})
    raise redirect("/review", done=status, n=n, x=shown)


# -- retrain (admin) --------------------------------------------------------------------------
def retrainer(request: web.Request) -> Any | None:
    hooks = request.app[HOOKS]
    if hooks.get("retrainer") is None:
        try:
            from bot.console.retrain import Retrainer
        except ImportError:
            return None
        factory = hooks.get("retrainer_factory")
        hooks["retrainer"] = factory() if factory else Retrainer(request.app[SETTINGS], request.app[ROOT])
    return hooks["retrainer"]


def retrain_status(request: web.Request) -> dict[str, Any]:
    trainer = retrainer(request)
    if trainer is None:
        return {
            "state": "unavailable",
            "message": "重新训练模块（bot/console/retrain.py）还没有安装。",
            "progress": 0,
        }
    status = dict(trainer.status())
    for key in ("started_at", "finished_at"):
        status[key] = localtime(status.get(key)) if status.get(key) else ""
    return status


@requires("admin")
async def retrain_page(request: web.Request) -> web.Response:
    status = await run(retrain_status, request)
    return render(request, "retrain.html", job=status, nav="retrain")


@requires("admin")
async def retrain_start(request: web.Request) -> web.StreamResponse:
    trainer = await run(retrainer, request)
    if trainer is None:
        raise redirect("/retrain")
    started = await run(trainer.start, request["user"]["username"])
    await audit(request, "retrain_start" if started else "retrain_already_running")
    raise redirect("/retrain", done="retrain_started" if started else "retrain_running")


@requires("admin")
async def retrain_status_json(request: web.Request) -> web.Response:
    status = await run(retrain_status, request)
    return web.json_response(
        {k: v for k, v in status.items() if isinstance(v, (str, int, float, bool, type(None)))}
    )


# -- handoffs ---------------------------------------------------------------------------------
@requires("staff")
async def handoff_inbox(request: web.Request) -> web.Response:
    rows = await run(console(request).inbox)
    waiting = [r for r in rows if r["status"] == "waiting"]
    taken = [r for r in rows if r["status"] == "taken"]
    return render(request, "handoffs.html", waiting=waiting, taken=taken, nav="handoffs")


async def load_handoff(request: web.Request) -> dict[str, Any]:
    try:
        handoff_id = int(request.match_info["id"])
    except ValueError as err:
        raise web.HTTPNotFound() from err
    row = await run(console(request).handoff, handoff_id)
    if row is None:
        raise web.HTTPNotFound(text="没有这条转人工记录")
    return row


async def transcript_lines(request: web.Request, row: dict[str, Any]) -> list[dict[str, Any]] | None:
    try:
        return transcript(await request.app[RASA].tracker(row["conversation_id"]))
    except RasaUnavailable as err:
        log.warning("transcript unavailable: %s", err)
        return None


@requires("staff")
async def handoff_page(request: web.Request) -> web.Response:
    row = await load_handoff(request)
    lines = await transcript_lines(request, row)
    warning = request.query.get("warn") == "rasa"
    return render(
        request,
        "handoff.html",
        h=row,
        lines=lines,
        mine=row["taken_by"] == request["user"]["username"],
        rasa_warning=warning,
        nav="handoffs",
        max_reply=MAX_REPLY_CHARS,
    )


@requires("staff")
async def handoff_transcript(request: web.Request) -> web.Response:
    row = await load_handoff(request)
    lines = await transcript_lines(request, row)
    return render(request, "transcript.html", lines=lines)


async def tell_resident(request: web.Request, row: dict[str, Any], text: str, kind: str) -> None:
    """Queue ``text`` for the resident on their own channel, and have it delivered now."""
    await run(store(request).requests.notify, row["channel"], row["conversation_id"], text, kind=kind)
    notified(request)


@requires("staff")
async def handoff_take(request: web.Request) -> web.StreamResponse:
    row = await load_handoff(request)
    user = request["user"]["username"]
    try:
        row = await run(console(request).take, row["id"], user)
    except ConsoleError as err:
        return render(request, "error.html", status=409, title="不能接手", message=str(err))
    warn = None
    try:
        await request.app[RASA].pause(row["conversation_id"])
    except RasaUnavailable as err:
        log.warning("could not pause the assistant: %s", err)
        warn = "rasa"
    await tell_resident(request, row, "社区工作人员已经接入，请直接在这里说您的事。", "staff_reply")
    await audit(request, "handoff_take", row["id"], {"conversation": mask_text(row["conversation_id"])})
    raise redirect(f"/handoffs/{row['id']}", done="taken", warn=warn)


@requires("staff")
async def handoff_reply(request: web.Request) -> web.StreamResponse:
    row = await load_handoff(request)
    user = request["user"]["username"]
    text = str(request["form"].get("text", "")).strip()
    if row["status"] != "taken" or row["taken_by"] != user:
        return forbidden(request, "请先接手这位居民，再回复。")
    if not text or len(text) > MAX_REPLY_CHARS:
        lines = await transcript_lines(request, row)
        return render(
            request,
            "handoff.html",
            status=400,
            h=row,
            lines=lines,
            mine=True,
            rasa_warning=False,
            error=f"回复不能为空，最多{MAX_REPLY_CHARS}字。",
            nav="handoffs",
            max_reply=MAX_REPLY_CHARS,
        )
    await tell_resident(request, row, text, "staff_reply")
    await run(console(request).responded, row["id"])
    try:
        await request.app[RASA].record_staff_reply(row["conversation_id"], text, user)
    except RasaUnavailable as err:
        log.warning("staff reply not in the transcript: %s", err)
    await audit(request, "handoff_reply", row["id"], {"chars": len(text)})
    raise redirect(f"/handoffs/{row['id']}", done="replied")


@requires("staff")
async def handoff_release(request: web.Request) -> web.StreamResponse:
    row = await load_handoff(request)
    user = request["user"]
    if row["status"] == "taken" and row["taken_by"] != user["username"] and user["role"] != "admin":
        return forbidden(request, f"这位居民由 {row['taken_by']} 接待，只有他本人或管理员可以交回。")
    try:
        row = await run(console(request).release, row["id"], user["username"])
    except ConsoleError as err:
        return render(request, "error.html", status=409, title="不能交回", message=str(err))
    try:
        await request.app[RASA].resume(row["conversation_id"])
    except RasaUnavailable as err:
        log.warning("could not resume the assistant: %s", err)
    await tell_resident(
        request,
        row,
        "本次人工服务结束了，接下来由智能助手继续为您解答。还需要人工帮助时，请说“找工作人员”。",
        "release",
    )
    await audit(request, "handoff_release", row["id"])
    raise redirect("/handoffs", done="released")


# -- requests ---------------------------------------------------------------------------------
def _date(value: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)


def request_filters(request: web.Request) -> dict[str, Any]:
    from community.request_store import STATUSES

    q = request.query
    status = q.get("status", "")
    since, until = _date(q.get("since", "")), _date(q.get("until", ""))
    return {
        "status": status if status in STATUSES else None,
        "kind": q.get("kind", "")[:32] or None,
        "since": since,
        "until": until + dt.timedelta(days=1) if until else None,
        "overdue": q.get("overdue") == "1",
    }


async def request_kinds(request: web.Request) -> list[tuple[str, str]]:
    from community.request_store import service_requests

    def query() -> list[tuple[str, str]]:
        t = service_requests.c
        with store(request).engine.connect() as connection:
            return [
                (k, title)
                for k, title in connection.execute(
                    sa.select(t.kind, sa.func.min(t.title)).group_by(t.kind).order_by(t.kind)
                )
            ]

    return await run(query)


@requires("staff")
async def request_list(request: web.Request) -> web.Response:
    from community.request_store import STATUS_LABELS, STATUSES, masked

    filters = request_filters(request)
    rows = await run(store(request).requests.list, **filters)
    counts = await run(store(request).requests.counts_by_status)
    now = dt.datetime.now(dt.timezone.utc)
    shown = []
    for row in rows:
        m = masked(row)
        due = row.get("due_at")
        if due is not None and due.tzinfo is None:
            due = due.replace(tzinfo=dt.timezone.utc)
        m["overdue"] = bool(due and due < now and row["status"] not in ("done", "rejected"))
        shown.append(m)
    return render(
        request,
        "requests.html",
        rows=shown,
        counts=counts,
        STATUSES=STATUSES,
        STATUS_LABELS=STATUS_LABELS,
        kinds=await request_kinds(request),
        q=request.query,
        query=request.query_string,
        nav="requests",
    )


CSV_COLUMNS = (
    ("ref", "编号"),
    ("title", "事项"),
    ("status", "状态"),
    ("created_at", "提交时间"),
    ("due_at", "办理期限"),
    ("channel", "渠道"),
    ("contact_name", "联系人"),
    ("phone", "电话"),
    ("address", "地址"),
    ("summary", "内容"),
    ("staff_note", "工作人员说明"),
)


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = localtime(value) if isinstance(value, dt.datetime) else ("" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@requires("staff")
async def request_export(request: web.Request) -> web.Response:
    from community.request_store import STATUS_LABELS, masked

    rows = await run(store(request).requests.list, **request_filters(request), limit=100000)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for _, title in CSV_COLUMNS])
    for row in rows:
        m = masked(row)
        m["status"] = STATUS_LABELS.get(m["status"], m["status"])
        writer.writerow([csv_cell(m.get(key)) for key, _ in CSV_COLUMNS])
    await audit(request, "requests_export", None, {"rows": len(rows), "filters": dict(request.query)})
    name = f"requests-{dt.datetime.now(LOCAL_TZ):%Y%m%d-%H%M}.csv"
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode("utf-8"),  # BOM: Excel opens it as UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@requires("staff")
async def request_detail(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    from community.request_store import STATUS_LABELS, TRANSITIONS

    ref = request.match_info["ref"]
    row = await run(store(request).requests.get, ref)
    if row is None:
        raise web.HTTPNotFound(text="没有这个工单")
    history = await run(store(request).requests.history, row["ref"])
    await audit(request, "request_view", row["ref"])
    return render(
        request,
        "request.html",
        status=status,
        error=error,
        r=row,
        history=history,
        STATUS_LABELS=STATUS_LABELS,
        next_statuses=sorted(TRANSITIONS[row["status"]], key=list(STATUS_LABELS).index),
        nav="requests",
    )


@requires("staff")
async def request_status(request: web.Request) -> web.StreamResponse:
    from community.request_store import RequestError

    ref = request.match_info["ref"]
    form = request["form"]
    new_status, note = str(form.get("status", "")), str(form.get("note", "")).strip()[:1000]
    try:
        await run(
            store(request).requests.set_status, ref, new_status, actor=request["user"]["username"], note=note
        )
    except RequestError as err:
        messages = {
            "note-required": "退回（未通过）时必须填写说明，居民会看到这段说明。",
            "bad-transition": "这个工单现在不能改成这个状态。",
            "bad-status": "请选择新的状态。",
            "not-found": "没有这个工单。",
        }
        return await request_detail.__wrapped__(request, messages.get(err.code, str(err)), 400)  # type: ignore[attr-defined]
    notified(request)
    await audit(request, "request_status", ref, {"status": new_status, "note": bool(note)})
    raise redirect(f"/requests/{quote(ref)}", done="status")


# -- statistics -------------------------------------------------------------------------------
@requires("staff")
async def stats_page(request: web.Request) -> web.Response:
    from community.request_store import STATUS_LABELS

    try:
        days = int(request.query.get("days", "14"))
    except ValueError:
        days = 14
    days = days if days in (7, 14, 30) else 14
    data = await run(console(request).daily_stats, days, tracker_engine=request.app.get(TRACKER))
    rows = data["days"]
    labels = [f"{r['date'].month}/{r['date'].day}" for r in rows]
    domains = sorted(
        {d for r in rows for d in r["domains"]}, key=lambda d: -sum(r["domains"].get(d, 0) for r in rows)
    )
    titles = {
        "domains": "每天的对话数（按服务领域）",
        "unanswered": "没答上的比例（待答问题 / 居民提问）",
        "handoff": "转人工的比例（转人工的对话 / 对话）",
        "response": "转人工后首次回复用时（中位数，分钟）",
        "satisfaction": "满意度（好评 👍 占全部评价的比例）",
        "requests": "工单：每天新提交和办结",
    }
    by_domain = {d: [r["domains"].get(d, 0) for r in rows] for d in domains} or {"对话": [0] * len(rows)}
    drawn = {
        "domains": charts.stacked_bars(titles["domains"], labels, by_domain, names=DOMAIN_LABELS),
        "unanswered": charts.rate_bars(titles["unanswered"], labels, [r["unanswered_rate"] for r in rows]),
        "handoff": charts.rate_bars(titles["handoff"], labels, [r["handoff_rate"] for r in rows]),
        "response": charts.stacked_bars(
            titles["response"], labels, {"分钟": [round(r["median_response_minutes"] or 0, 1) for r in rows]}
        ),
        "satisfaction": charts.rate_bars(titles["satisfaction"], labels, [r["satisfaction"] for r in rows]),
        "requests": charts.stacked_bars(
            titles["requests"],
            labels,
            {"new": [r["requests"] for r in rows], "closed": [r["closed"] for r in rows]},
            names={"new": "新提交", "closed": "办结/退回"},
        ),
    }
    pending = await run(console(request).pending_questions)
    top = (await run(group_rows, pending))[:10]
    return render(
        request,
        "stats.html",
        rows=rows,
        days=days,
        domains=domains,
        top=top,
        backlog=data["backlog"],
        overdue=data["overdue"],
        source=data["source"],
        STATUS_LABELS=STATUS_LABELS,
        nav="stats",
        charts=[(titles[k], drawn[k]) for k in titles],
    )


# -- users and audit (admin) ------------------------------------------------------------------
@requires("admin")
async def users_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    users = await run(console(request).list_users)
    return render(request, "users.html", status=status, error=error, users=users, ROLES=ROLES, nav="users")


@requires("admin")
async def users_action(request: web.Request) -> web.StreamResponse:
    form = request["form"]
    action, username = str(form.get("action", "")), str(form.get("username", "")).strip()
    me = request["user"]["username"]
    try:
        if action == "create":
            await run(
                console(request).create_user,
                username,
                str(form.get("password", "")),
                str(form.get("role", "")),
            )
            await audit(request, "user_create", username, {"role": form.get("role")})
            raise redirect("/users", done="user_created", x=username)
        if action in ("disable", "enable"):
            if username == me and action == "disable":
                raise ConsoleError("self", "不能停用自己的账号。")
            await run(console(request).set_active, username, action == "enable")
        elif action == "password":
            await run(console(request).set_password, username, str(form.get("password", "")))
        else:
            raise ConsoleError("bad-action", "请选择要做的操作。")
    except ConsoleError as err:
        return await users_page.__wrapped__(request, str(err), 400)  # type: ignore[attr-defined]
    await audit(request, "user_" + action, username)
    raise redirect("/users", done="user_changed", x=username)


@requires("admin")
async def audit_page(request: web.Request) -> web.Response:
    rows = await run(console(request).list_audit, 300, request.query.get("actor") or None)
    return render(request, "audit.html", rows=rows, nav="audit")


# -- application ------------------------------------------------------------------------------
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/", home),
    ("POST", "/logout", logout),
    ("GET", "/review", review_queue),
    ("GET", "/review/{key:[A-Za-z0-9_-]{1,64}}", review_group),
    ("POST", "/review/{key:[A-Za-z0-9_-]{1,64}}", review_action),
    ("GET", "/retrain", retrain_page),
    ("POST", "/retrain", retrain_start),
    ("GET", "/retrain/status", retrain_status_json),
    ("GET", "/handoffs", handoff_inbox),
    ("GET", "/handoffs/{id:\\d+}", handoff_page),
    ("GET", "/handoffs/{id:\\d+}/transcript", handoff_transcript),
    ("POST", "/handoffs/{id:\\d+}/take", handoff_take),
    ("POST", "/handoffs/{id:\\d+}/reply", handoff_reply),
    ("POST", "/handoffs/{id:\\d+}/release", handoff_release),
    ("GET", "/requests", request_list),
    ("GET", "/requests/export.csv", request_export),
    ("GET", "/requests/{ref:SQ-\\d{8}-\\d{4}}", request_detail),
    ("POST", "/requests/{ref:SQ-\\d{8}-\\d{4}}/status", request_status),
    ("GET", "/stats", stats_page),
    ("GET", "/users", users_page),
    ("POST", "/users", users_action),
    ("GET", "/audit", audit_page),
]


def tracker_engine(settings: Settings) -> sa.engine.Engine | None:
    """Rasa's tracker store, read-only here (for conversation counts)."""
    if settings.tracker_url:
        return make_engine(settings.tracker_url)
    path = settings.var_dir / "tracker.db"
    return make_engine(f"sqlite:///{path}") if path.exists() else None


async def _startup(app: web.Application) -> None:
    if STORE not in app and app[HOOKS].get("store_getter") is None:
        app[STORE] = await run(Store.from_url, app[SETTINGS].store_url)
    app[HTTP] = aiohttp.ClientSession()
    app[RASA] = RasaClient(app[SETTINGS], app[HTTP])
    if TRACKER not in app:
        try:
            app[TRACKER] = tracker_engine(app[SETTINGS])
        except Exception as err:  # statistics fall back to the store's own counts
            log.warning("tracker store not readable: %s", type(err).__name__)
            app[TRACKER] = None


async def _cleanup(app: web.Application) -> None:
    await app[HTTP].close()
    engine = app.get(TRACKER)
    if engine is not None:
        engine.dispose()  # type: ignore[attr-defined]


def create_console_app(settings: Settings, **kwargs: Any) -> web.Application:
    """The console alone, as an application serving ``/staff/…`` (tests, a separate process)."""
    app = web.Application(client_max_size=MAX_FORM_BYTES)
    install_console(app, settings, **kwargs)
    return app


def install_console(
    app: web.Application,
    settings: Settings,
    *,
    console_settings: ConsoleSettings | None = None,
    store: Store | None = None,
    store_getter: Callable[[], Store] | None = None,
    root: Path | None = None,
    on_notify: Callable[[], None] | None = None,
    retrainer: Any = None,
    retrainer_factory: Callable[[], Any] | None = None,
    tracker: sa.engine.Engine | None | bool = False,
) -> None:
    """Add the console's routes (under ``/staff``), state and security middleware to ``app``.

    ``store`` (or ``store_getter``, called on first use) shares the web app's store;
    ``on_notify`` is called after anything is queued for a resident; ``root`` is where the
    training data lives (default ``CONSOLE_TRAINING_ROOT``, else this project); ``tracker`` is
    Rasa's tracker store engine (default: from the settings).
    """
    app.middlewares.append(security)
    app[SETTINGS] = settings
    app[CSETTINGS] = console_settings or ConsoleSettings.from_env()
    app[JINJA] = make_jinja()
    app[ROOT] = root or app[CSETTINGS].training_root
    app[HOOKS] = {
        "store_getter": store_getter,
        "on_notify": on_notify,
        "retrainer": retrainer,
        "retrainer_factory": retrainer_factory,
    }
    if store is not None:
        app[STORE] = store
    if tracker is not False:
        app[TRACKER] = tracker
    app.router.add_get(PREFIX, home)
    app.router.add_get(PREFIX + "/login", login_page)
    app.router.add_post(PREFIX + "/login", login)
    for method, path, handler in ROUTES:
        app.router.add_route(method, PREFIX + path, handler)
    app.router.add_static(PREFIX + "/static/", HERE / "static")
    app.on_startup.append(_startup)
    app.on_cleanup.append(_cleanup)
