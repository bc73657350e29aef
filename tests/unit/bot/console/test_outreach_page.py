"""月探访 in the staff console: enrolment needs the resident's consent; the month's coverage and
who was reached, needs follow-up or could not be reached are shown (urgent first)."""

from __future__ import annotations

import datetime as dt

from community.db import LOCAL_TZ, utcnow
from community.records.outreach import month_of


def test_enrol_with_consent_and_see_the_months_coverage(harness):
    async def scenario(h):
        await h.login("wang")
        refused = await h.post(
            "/staff/outreach",
            {
                "action": "enrol",
                "name": "王奶奶",
                "phone": "13800000001",
                "preferred_time": "9:30",
                "channel": "call",
            },
        )
        assert refused.status == 400 and "同意" in await refused.text()
        done = await h.post(
            "/staff/outreach",
            {
                "action": "enrol",
                "name": "王奶奶",
                "phone": "13800000001",
                "preferred_time": "9:30",
                "alert_contact": "女儿 13900000009",
                "channel": "call",
                "consent": "yes",
            },
        )
        assert done.status == 302
        outreach = h.store.outreach
        fine = outreach.enrol(
            name="赵大爷", phone="13800000002", preferred_time="9:00", consent=True, staff="li"
        )
        away = outreach.enrol(
            name="钱大爷", phone="13800000003", preferred_time="9:00", consent=True, staff="li"
        )
        today = utcnow().astimezone(LOCAL_TZ).date()
        now = dt.datetime.combine(today, dt.time(15, 0), tzinfo=LOCAL_TZ)
        due = {r["id"]: c for r, c in outreach.due(now)}
        unwell = next(r["id"] for r in outreach.residents() if r["name"] == "王奶奶")
        outreach.begin_attempt(due[unwell]["id"], now)
        outreach.reached(due[unwell]["id"], wellbeing="not_good", needs=["meal"], wants_visit=False, now=now)
        outreach.begin_attempt(due[fine]["id"], now)
        outreach.reached(due[fine]["id"], wellbeing="good", needs=[], wants_visit=False, now=now)
        for days in range(3):
            moment = now - dt.timedelta(days=days)
            outreach.begin_attempt(due[away]["id"], moment)
            outreach.not_reached(due[away]["id"], code=480, now=moment)
        status, page = await h.page(f"/staff/outreach?month={month_of(now)}")
        assert status == 200
        assert "月探访率" in page and "66.7%" in page  # 2 of 3 reached
        followup = page[page.index('id="followup"') : page.index('id="unreached"')]
        assert followup.index("王奶奶") < followup.index("钱大爷") or "钱大爷" in followup
        assert "不太好" in followup and "助餐" in followup
        assert "钱大爷" in page[page.index('id="unreached"') :]
        assert "138****0001" in page[page.index('id="residents"') :]  # masked in the list

    harness(scenario)
