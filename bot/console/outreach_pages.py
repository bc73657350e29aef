"""月探访: enrol residents (with their consent) for the monthly check-in calls, and the month's
coverage (月探访率) with who was reached, who needs follow-up and who could not be reached."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.console.auth import requires
from bot.console.web import audit, redirect, render, run, store
from community.db import utcnow
from community.privacy import mask_phone
from community.records import ConsoleError
from community.records.outreach import CHANNELS, CHECKIN_STATUSES, NEEDS, WELLBEING, month_of

NOTICES = {"enrolled": "已登记，本月会按约定时间打电话。", "withdrawn": "已停止给这位居民打电话。"}


def _month(raw: str) -> str:
    try:
        return dt.datetime.strptime(raw, "%Y-%m").strftime("%Y-%m")
    except ValueError:
        return month_of(utcnow())


@requires("staff")
async def outreach_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    month = _month(request.query.get("month", ""))
    outreach = store(request).outreach
    report = await run(outreach.month_report, month)
    residents = await run(outreach.residents)
    await audit(request, "outreach_view", month)
    return render(
        request,
        "outreach.html",
        status=status,
        error=error,
        notice=NOTICES.get(request.query.get("done", ""), ""),
        month=month,
        report=report,
        residents=residents,
        mask_phone=mask_phone,
        CHANNELS=CHANNELS,
        NEEDS=NEEDS,
        WELLBEING=WELLBEING,
        CHECKIN_STATUSES=CHECKIN_STATUSES,
        form=request.get("form") or {},
        nav="outreach",
    )


@requires("staff")
async def outreach_action(request: web.Request) -> web.StreamResponse:
    form = request["form"]
    staff = request["user"]["username"]
    outreach = store(request).outreach
    try:
        if form.get("action") == "withdraw":
            resident = int(str(form.get("resident", "0")) or 0)
            await run(outreach.withdraw, resident)
            await audit(request, "outreach_withdraw", str(resident))
            raise redirect("/outreach", done="withdrawn")
        resident = await run(
            outreach.enrol,
            name=str(form.get("name", "")),
            phone=str(form.get("phone", "")),
            preferred_time=str(form.get("preferred_time", "")),
            consent=form.get("consent") == "yes",
            staff=staff,
            alert_contact=str(form.get("alert_contact", "")),
            channel=str(form.get("channel", "call")),
            telegram_conversation=str(form.get("telegram", "")),
        )
    except ConsoleError as err:
        return await outreach_page.__wrapped__(request, str(err), 400)  # type: ignore[attr-defined]
    except ValueError:
        return await outreach_page.__wrapped__(request, "请求有误", 400)  # type: ignore[attr-defined]
    await audit(request, "outreach_enrol", str(resident))
    raise redirect("/outreach", done="enrolled")
