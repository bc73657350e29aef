"""统计: daily counts and rates over 7, 14 or 30 days, drawn as inline SVG charts, with the
most asked unanswered questions.

Every rate is shown with the counts it is made of (表格 and a 合计 line under each chart), and a
chart with nothing to draw says 暂无数据 and why, instead of empty axes."""

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
    total = totals(rows)
    empty = empty_reasons(total, data["source"], any(r["median_response_minutes"] is not None for r in rows))
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
        share=share,
        domain_totals={d: sum(r["domains"].get(d, 0) for r in rows) for d in domains},
        STATUS_LABELS=STATUS_LABELS,
        nav="stats",
        total=total,
        charts=[(titles[k], empty.get(k), summaries(total).get(k, ""), drawn[k]) for k in titles],
    )


COUNTED = ("conversations", "messages", "unanswered", "handoffs", "handoff_conversations", "up", "down",
           "requests", "closed")


def totals(rows: list[dict]) -> dict[str, int]:
    """The period's sums of the daily counts (the table's 合计 row)."""
    return {key: sum(r.get(key) or 0 for r in rows) for key in COUNTED}


def rate(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.0f}%" if whole else "—"


def share(part: int, whole: int) -> str:
    """``29%（2/7）``: a rate always with the counts it comes from."""
    return f"{rate(part, whole)}（{part}/{whole}）" if whole else "—"


def empty_reasons(total: dict[str, int], source: str, responses: bool) -> dict[str, str]:
    """Why a chart has nothing to draw, per chart; charts with data are not listed."""
    no_tracker = "对话记录库读不到，缺少居民提问的记录"
    reasons: dict[str, str] = {}
    if source != "tracker":
        reasons["domains"] = no_tracker + "，无法按领域统计"
        reasons["unanswered"] = no_tracker + "，算不出比例"
    elif not total["messages"]:
        reasons["domains"] = reasons["unanswered"] = "这段时间没有居民提问"
    if not total["conversations"]:
        reasons["handoff"] = "这段时间没有对话"
    if not responses:
        reasons["response"] = "这段时间没有工作人员接手后回复的转人工"
    if not total["up"] + total["down"]:
        reasons["satisfaction"] = "这段时间没有居民评价"
    if not total["requests"] + total["closed"]:
        reasons["requests"] = "这段时间没有新工单，也没有办结的工单"
    return reasons


def summaries(total: dict[str, int]) -> dict[str, str]:
    """The 合计 line under each chart: the counts behind what is drawn."""
    rated = total["up"] + total["down"]
    few = f"；只有 {rated} 条评价，比例仅供参考" if 0 < rated < 10 else ""
    return {
        "domains": f"合计 {total['conversations']} 个对话；一个对话问到几个领域，每个领域各算一次",
        "unanswered": f"合计：没答上 {total['unanswered']} / 居民提问 {total['messages']} = "
        + rate(total["unanswered"], total["messages"]),
        "handoff": f"合计：转人工的对话 {total['handoff_conversations']} / 对话 {total['conversations']} = "
        + rate(total["handoff_conversations"], total["conversations"]),
        "response": "每天的中位数；没有回复的日子不画",
        "satisfaction": f"合计：好评 {total['up']} / 评价 {rated} = {rate(total['up'], rated)}{few}",
        "requests": f"合计：新提交 {total['requests']}，办结/退回 {total['closed']}",
    }
