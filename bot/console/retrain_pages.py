"""重新训练 (admin): start retraining on the reviewed data and follow its progress."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console.auth import requires
from bot.console.formatting import localtime
from bot.console.web import HOOKS, ROOT, SETTINGS, audit, redirect, render, run, store


def retrainer(request: web.Request) -> Any | None:
    hooks = request.app[HOOKS]
    if hooks.get("retrainer") is None:
        try:
            from bot.console.retrain import Retrainer
        except ImportError:
            return None
        factory = hooks.get("retrainer_factory")
        settings, root = request.app[SETTINGS], request.app[ROOT]
        hooks["retrainer"] = factory() if factory else Retrainer(settings, root, store=store(request))
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
    # Started: the status box says where the job is (no flash that outlives the job).
    raise redirect("/retrain", done=None if started else "retrain_running")


@requires("admin")
async def retrain_status_json(request: web.Request) -> web.Response:
    status = await run(retrain_status, request)
    return web.json_response(
        {k: v for k, v in status.items() if isinstance(v, (str, int, float, bool, type(None)))}
        | {"report": status.get("report") or [], "recheck": status.get("recheck")}
    )
