"""The console's JSON API under ``/staff/api/``: everything the review, retrain, 试一试, inbox and
requests pages do, for scripts and other systems (a city's 12345 platform). Described in
``docs/openapi.yaml`` (served at ``/staff/api/openapi.yaml``).

Who may call it: a signed-in browser (the session cookie; every change also carries the page's
CSRF token in ``X-CSRF-Token`` from our own origin), or another system with an API token an
admin issued (``Authorization: Bearer sqa_…``; no cookie, so no CSRF). The roles are the pages'
(staff; admin for retraining and tokens) and every change is in the audit log under the
token's name. Errors are ``{"error": code, "message": 中文}``.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from bot.console.auth import count_waiting, same_origin
from bot.console.handoff_pages import close_stale, inbox_filters, inbox_rows
from bot.console.retrain_pages import retrain_status, retrainer
from bot.console.review_pages import (
    ReviewRefused,
    annotate,
    best_guess,
    bulk,
    filters_from,
    find_group,
    intent_choices,
    queue_view,
    training_data,
    try_wording,
)
from bot.console.web import Handler, audit, run, store
from community.privacy import mask_text
from community.records import ConsoleError
from community.records.requests import STATUSES, masked

log = logging.getLogger(__name__)
API = "/api"
OPENAPI_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
MAX_BODY_IDS = 1000
MAX_ID = 2**31 - 1


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with Chinese as it is (not \\u escapes)."""
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": code, "message": message}, status=status)


def api(role: str = "staff") -> Callable[[Handler], Handler]:
    """Signed in (session, with CSRF on changes) or an API token; ``role`` as the pages."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            auth = request.headers.get("Authorization", "")
            changes = request.method not in ("GET", "HEAD")
            if auth:
                scheme, _, token = auth.partition(" ")
                found = (
                    await run(store(request).api_tokens.verify, token.strip())
                    if scheme.lower() == "bearer" and token.strip()
                    else None
                )
                if found is None:
                    return error(401, "bad-token", "接口令牌无效或已被收回。")
                request["user"] = {
                    "username": f"接口:{found['name']}"[:64],
                    "role": found["role"],
                    "csrf": "",
                }
            elif request.get("user") is None:
                return error(
                    401, "login-required", "请先登录，或在请求头里带上接口令牌（Authorization: Bearer …）。"
                )
            elif changes:
                sent = request.headers.get("X-CSRF-Token", "")
                if (
                    not same_origin(request)
                    or not sent
                    or not hmac.compare_digest(sent, request["user"]["csrf"])
                ):
                    return error(403, "csrf", "页面已过期或来源不对（CSRF 校验失败），请刷新页面后再试。")
            if role == "admin" and request["user"]["role"] != "admin":
                return error(403, "forbidden", "只有管理员可以这样做。")
            request["body"] = {}
            if changes:
                try:
                    body = await request.json() if request.can_read_body else {}
                except (ValueError, UnicodeDecodeError):
                    return error(400, "bad-json", "请求内容不是 JSON。")
                if not isinstance(body, dict):
                    return error(400, "bad-json", "请求内容应是一个 JSON 对象。")
                request["body"] = body
            await count_waiting(request)
            try:
                return await handler(request)
            except (ReviewRefused, ConsoleError) as err:
                return error(400, getattr(err, "code", "refused"), str(err))

        wrapped.role = role  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_BODY_IDS:
        raise ReviewRefused("ids 应是编号的列表。")
    try:
        ids = {int(i) for i in value if not isinstance(i, bool)}
    except (TypeError, ValueError) as err:
        raise ReviewRefused("ids 应是编号的列表。") from err
    return sorted(i for i in ids if 0 < i <= MAX_ID)  # no such question or handoff otherwise


def _text(value: Any, limit: int = 1000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _time(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def _group(g: Any, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "key": g.key,
        "text": mask_text(g.shown),
        "count": g.count,
        "ids": list(g.ids),
        "channels": list(g.channels),
        "latest": _time(g.latest),
        "reasons": list(g.reasons),
        "domains": list(g.domains),
        "still_failing": g.still_failing,
        "top_intents": [
            {"intent": i["name"], "label": labels.get(i["name"], i["name"]), "confidence": i["confidence"]}
            for i in g.top_intents
        ],
    }


@api()
async def api_review_groups(request: web.Request) -> web.Response:
    filters = filters_from(request.query)
    view = await run(queue_view, request, filters)
    labels = dict(await run(intent_choices, training_data(request)))
    return json_response(
        {
            "total": view["total"],
            "counts": view["counts"],
            "filters": filters,
            "groups": [_group(g, labels) for g in view["groups"]],
        }
    )


@api()
async def api_review_group(request: web.Request) -> web.Response:
    group, members = await find_group(request, request.match_info["key"])
    if group is None:
        return error(404, "not-found", "没有这一组问题（可能已经处理了）。")
    choices = await run(intent_choices, training_data(request))
    guess = best_guess(group, choices)
    return json_response(
        {
            "group": _group(group, dict(choices)),
            "best_guess": {"intent": guess[0], "label": dict(choices)[guess[0]], "confidence": guess[1]}
            if guess
            else None,
            "questions": [
                {
                    "id": r["id"],
                    "text": mask_text(r["text"]),
                    "channel": r["channel"],
                    "reason": r["reason"],
                    "created_at": _time(r["created_at"]),
                    "recheck": r.get("recheck"),
                }
                for r in members
            ],
        }
    )


@api()
async def api_review_annotate(request: web.Request) -> web.Response:
    body = request["body"]
    texts = body.get("texts") if isinstance(body.get("texts"), dict) else {}
    try:
        corrected = {int(k): _text(v, 500) for k, v in texts.items()}
    except ValueError:
        return error(400, "bad-texts", "texts 的键应是问题编号。")
    done = await annotate(
        request,
        request.match_info["key"],
        ids=_ids(body.get("ids")),
        action=_text(body.get("action"), 20),
        texts=corrected,
        intent=_text(body.get("intent"), 64),
        label=_text(body.get("label"), 40),
        answer=_text(body.get("answer")),
    )
    return json_response(done)


@api()
async def api_review_bulk(request: web.Request) -> web.Response:
    body = request["body"]
    keys = body.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return error(400, "bad-keys", "keys 应是问题组编号的列表。")
    done = await bulk(
        request, keys[:MAX_BODY_IDS], _text(body.get("action"), 20), _text(body.get("target"), 64)
    )
    return json_response(done)


@api()
async def api_intents(request: web.Request) -> web.Response:
    choices = await run(intent_choices, training_data(request))
    return json_response({"intents": [{"intent": n, "label": label} for n, label in choices]})


@api()
async def api_try(request: web.Request) -> web.Response:
    result = await try_wording(request, _text(request["body"].get("text"), 200))
    if result.get("error"):
        return error(400 if not result["text"] else 503, "try-failed", result["error"])
    return json_response(result)


def _status(request: web.Request) -> dict[str, Any]:
    status = retrain_status(request)
    return {k: v for k, v in status.items() if isinstance(v, (str, int, float, bool, type(None)))} | {
        "report": status.get("report") or [],
        "recheck": status.get("recheck"),
    }


@api("admin")
async def api_retrain_status(request: web.Request) -> web.Response:
    return json_response(await run(_status, request))


@api("admin")
async def api_retrain_start(request: web.Request) -> web.Response:
    trainer = await run(retrainer, request)
    if trainer is None:
        return error(503, "unavailable", "重新训练模块没有安装。")
    started = await run(trainer.start, request["user"]["username"])
    await audit(request, "retrain_start" if started else "retrain_already_running")
    body = await run(_status, request)
    return json_response({"started": started, **body}, status=202 if started else 409)


def _handoff(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "text": mask_text(row["text"]),
        "channel": row["channel"],
        "reason": row["reason"],
        "emergency": bool(row["emergency"]),
        "status": row["status"],
        "taken_by": row["taken_by"],
        "created_at": _time(row["created_at"]),
        "close_note": row.get("close_note"),
    }


@api()
async def api_handoffs(request: web.Request) -> web.Response:
    filters = inbox_filters(request.query)
    rows = await run(inbox_rows, request, filters)
    return json_response(
        {"waiting_count": request.get("waiting"), "filters": filters, "handoffs": [_handoff(r) for r in rows]}
    )


@api()
async def api_handoffs_close(request: web.Request) -> web.Response:
    body = request["body"]
    n = await close_stale(request, _ids(body.get("ids")), _text(body.get("note"), 500))
    return json_response({"closed": n})


@api()
async def api_requests(request: web.Request) -> web.Response:
    status = request.query.get("status", "")
    rows = await run(
        store(request).requests.list,
        status=status if status in STATUSES else None,
        kind=request.query.get("kind", "")[:32] or None,
    )
    shown = []
    for row in rows:
        m = masked(row)
        shown.append(
            {
                k: (_time(v) if hasattr(v, "isoformat") else v)
                for k, v in m.items()
                if isinstance(v, (str, int, float, bool, type(None))) or hasattr(v, "isoformat")
            }
        )
    return json_response({"requests": shown})


def _token(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (_time(v) if hasattr(v, "isoformat") else v) for k, v in row.items()}


@api("admin")
async def api_tokens(request: web.Request) -> web.Response:
    return json_response({"tokens": [_token(t) for t in await run(store(request).api_tokens.list)]})


@api("admin")
async def api_token_issue(request: web.Request) -> web.Response:
    body = request["body"]
    token, row = await run(
        store(request).api_tokens.issue,
        _text(body.get("name"), 64),
        _text(body.get("role"), 16) or "staff",
        request["user"]["username"],
    )
    await audit(request, "api_token_issue", row["id"], {"name": row["name"], "role": row["role"]})
    return json_response({"token": token, **_token(row)}, status=201)


@api("admin")
async def api_token_revoke(request: web.Request) -> web.Response:
    try:
        token_id = int(request.match_info["id"])
    except ValueError:
        return error(404, "not-found", "没有这个令牌。")
    if not await run(store(request).api_tokens.revoke, token_id):
        return error(404, "not-found", "没有这个令牌，或已经收回。")
    await audit(request, "api_token_revoke", token_id)
    return json_response({"revoked": token_id})


@api()
async def openapi(request: web.Request) -> web.Response:
    return web.Response(text=OPENAPI_FILE.read_text(encoding="utf-8"), content_type="application/yaml")


API_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", API + "/review/groups", api_review_groups),
    ("POST", API + "/review/bulk", api_review_bulk),
    ("GET", API + "/review/groups/{key:[A-Za-z0-9_-]{1,64}}", api_review_group),
    ("POST", API + "/review/groups/{key:[A-Za-z0-9_-]{1,64}}", api_review_annotate),
    ("GET", API + "/intents", api_intents),
    ("POST", API + "/try", api_try),
    ("GET", API + "/retrain", api_retrain_status),
    ("POST", API + "/retrain", api_retrain_start),
    ("GET", API + "/handoffs", api_handoffs),
    ("POST", API + "/handoffs/close", api_handoffs_close),
    ("GET", API + "/requests", api_requests),
    ("GET", API + "/tokens", api_tokens),
    ("POST", API + "/tokens", api_token_issue),
    ("DELETE", API + "/tokens/{id:\\d+}", api_token_revoke),
    ("GET", API + "/openapi.yaml", openapi),
]

__all__ = ["API_ROUTES"]
