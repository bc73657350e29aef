"""统计: daily counts and rates over 7, 14 or 30 days, drawn as inline SVG charts, with the
most asked unanswered questions."""

from __future__ import annotations

from aiohttp import web

from bot.console import charts
from bot.console.auth import requires
from bot.console.formatting import DOMAIN_LABELS
from bot.console.review_pages import group_rows
from bot.console.tracker import resident_messages
from bot.console.web import TRACKER, render, run, store
from community.records.requests import STATUS_LABELS


@requires("staff")
async def stats_page(request: web.Request) -> web.Response:
    try:
        days = int(request.query.get("days", "14"))
    except ValueError:
        days = 14
    days = days if days in (7, 14, 30) else 14
    messages = resident_messages(request.app.get(TRACKER))
    data = await run(store(request).statistics.daily, days, messages=messages)
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
    pending = await run(store(request).review_queue.pending)
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
