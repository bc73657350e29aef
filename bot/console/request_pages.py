"""工单: the list of service requests (masked) with filters and CSV export, one request in
full, and changing its status with a note for the resident."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.console.auth import requires
from bot.console.formatting import localtime
from bot.console.web import audit, notified, redirect, render, run, store
from community.db import LOCAL_TZ
from community.records.requests import STATUS_LABELS, STATUSES, TRANSITIONS, RequestError, masked


def _date(value: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)


def request_filters(request: web.Request) -> dict[str, Any]:
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
    return await run(store(request).requests.kinds)


@requires("staff")
async def request_list(request: web.Request) -> web.Response:
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
