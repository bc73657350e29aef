"""人工接管: the inbox of residents waiting for staff, one conversation with its transcript;
take it (pausing the assistant), reply, and hand it back."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.console.auth import requires
from bot.console.conversations import transcript
from bot.console.labels import CHANNEL_LABELS
from bot.console.web import RASA, SETTINGS, audit, forbidden, notified, redirect, render, run, store
from bot.resident.rasa import RasaUnavailable
from community.db import utcnow
from community.privacy import mask_text
from community.records import ConsoleError
from community.staff_hours import StaffHours

log = logging.getLogger(__name__)
MAX_REPLY_CHARS = 2000


STATUS_CHOICES = {
    "all": "全部（未结束）", "waiting": "等待中", "taken": "接待中", "mine": "我接手的", "released": "已结束",
}
MAX_CLOSE_NOTE = 500


def inbox_filters(query: Any) -> dict[str, str]:
    status = str(query.get("status", "all"))
    channel = str(query.get("channel", ""))
    return {
        "status": status if status in STATUS_CHOICES else "all",
        "channel": channel if channel in CHANNEL_LABELS else "",
        "emergency": "1" if query.get("emergency") == "1" else "",
        "taken_by": str(query.get("taken_by", ""))[:64],
    }


def inbox_rows(request: web.Request, filters: dict[str, str]) -> list[dict[str, Any]]:
    """The inbox as the filters select: emergencies first, then the newest first."""
    status = filters["status"]
    statuses = {"all": ("waiting", "taken"), "mine": ("taken",), "waiting": ("waiting",),
                "taken": ("taken",), "released": ("released",)}[status]
    return store(request).handoffs.search(
        statuses=statuses,
        channel=filters["channel"] or None,
        taken_by=request["user"]["username"] if status == "mine" else (filters["taken_by"] or None),
        emergency=True if filters["emergency"] else None,
    )


@requires("staff")
async def handoff_inbox(request: web.Request) -> web.Response:
    filters = inbox_filters(request.query)
    rows = await run(inbox_rows, request, filters)
    waiting = [r for r in rows if r["status"] == "waiting"]
    taken = [r for r in rows if r["status"] == "taken"]
    closed = [r for r in rows if r["status"] == "released"]
    settings = request.app[SETTINGS]
    return render(
        request,
        "handoffs.html",
        filters=filters,
        status_choices=STATUS_CHOICES,
        staff_names=[u["username"] for u in await run(store(request).accounts.list_users)],
        closed=closed,
        waiting=waiting,
        taken=taken,
        on_duty=await run(store(request).accounts.signed_in),
        office_open=office_open(settings.staff_hours),
        staff_hours=settings.staff_hours,
        community_phone=settings.community_phone,
        nav="handoffs",
    )


def office_open(staff_hours: str) -> bool | None:
    """Whether it is within STAFF_HOURS now (None: the hours cannot be read)."""
    try:
        return StaffHours.parse(staff_hours).is_open(utcnow())
    except ValueError:
        return None


async def close_stale(request: web.Request, ids: list[int], note: str) -> int:
    """Close waiting handoffs in bulk (stale ones on a busy day) with a note; audited."""
    note = " ".join(note.split())[:MAX_CLOSE_NOTE]
    if not note:
        raise ConsoleError("no-note", "请写一句关闭的原因（如：居民已来电解决）。")
    if not ids:
        raise ConsoleError("none-chosen", "请先勾选要关闭的居民。")
    n = await run(store(request).handoffs.close, ids, request["user"]["username"], note)
    await audit(request, "handoff_close", None, {"ids": ids, "note": note})
    return n


@requires("staff")
async def handoff_close(request: web.Request) -> web.StreamResponse:
    form = request["form"]
    try:
        ids = sorted({i for i in (int(v) for v in form.getall("ids", [])) if 0 < i < 2**31})
    except ValueError:
        ids = []
    try:
        n = await close_stale(request, ids, str(form.get("note", "")))
    except ConsoleError as err:
        return render(request, "error.html", status=400, title="不能关闭", message=str(err))
    raise redirect("/handoffs", done="closed", n=n)


async def load_handoff(request: web.Request) -> dict[str, Any]:
    try:
        handoff_id = int(request.match_info["id"])
    except ValueError as err:
        raise web.HTTPNotFound() from err
    row = await run(store(request).handoffs.get, handoff_id)
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
    await run(store(request).notifications.notify, row["channel"], row["conversation_id"], text, kind=kind)
    notified(request)


@requires("staff")
async def handoff_take(request: web.Request) -> web.StreamResponse:
    row = await load_handoff(request)
    user = request["user"]["username"]
    try:
        row = await run(store(request).handoffs.take, row["id"], user)
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
    await run(store(request).handoffs.responded, row["id"])
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
        row = await run(store(request).handoffs.release, row["id"], user["username"])
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
