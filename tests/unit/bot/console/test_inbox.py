"""人工接管 on a busy day (issue 17): emergencies first, then the newest; filters by status,
channel and who took it; stale ones closed in bulk with a note; the count of waiting residents
in the header of every console page."""

from __future__ import annotations

import datetime as dt
import re

from community.db import utcnow


def test_emergencies_first_then_newest_filters_bulk_close_and_the_header_count(harness):
    async def scenario(h):
        now = utcnow()
        made = {}
        for name, minutes, channel, emergency in (
            ("很久以前的", 600, "web", False), ("紧急：老人摔倒了", 300, "phone", True),
            ("刚才的", 1, "telegram", False), ("中间的", 60, "web", False),
        ):
            made[name] = h.store.handoffs.create(
                conversation_id=f"c-{name}", channel=channel, reason="emergency" if emergency else "asked",
                text=name, emergency=emergency, created_at=now - dt.timedelta(minutes=minutes),
            )
        await h.login("wang")
        _, page = await h.page("/staff/handoffs")
        order = list(dict.fromkeys(re.findall(r"(很久以前的|紧急：老人摔倒了|刚才的|中间的)", page)))
        assert order == ["紧急：老人摔倒了", "刚才的", "中间的", "很久以前的"]
        for path in ("/staff/handoffs", "/staff/review", "/staff/requests", "/staff/try"):
            _, other = await h.page(path)
            assert re.search(r"等待人工：<strong>4</strong> 位", other), path
        _, phone = await h.page("/staff/handoffs?channel=phone")
        assert "紧急：老人摔倒了" in phone and "刚才的" not in phone
        _, urgent = await h.page("/staff/handoffs?emergency=1")
        assert "紧急：老人摔倒了" in urgent and "中间的" not in urgent
        await h.post(f"/staff/handoffs/{made['中间的']}/take", {})
        _, mine = await h.page("/staff/handoffs?status=mine")
        assert "中间的" in mine and "刚才的" not in mine
        _, by_li = await h.page("/staff/handoffs?taken_by=li")
        assert "中间的" not in by_li
        # Close the stale one in bulk, with a note; without a note nothing is closed.
        refused = await h.post("/staff/handoffs/close", [("ids", str(made["很久以前的"]))])
        assert refused.status == 400 and "原因" in await refused.text()
        done = await h.post(
            "/staff/handoffs/close", [("ids", str(made["很久以前的"])), ("note", "居民已来电，问题已解决")]
        )
        assert done.status == 302
        _, page = await h.page(done.headers["Location"])
        assert "已关闭 1 位居民的等待" in page and re.search(r"等待人工：<strong>2</strong> 位", page)
        _, closed = await h.page("/staff/handoffs?status=released")
        assert "很久以前的" in closed and "居民已来电，问题已解决" in closed
        assert any(r["action"] == "handoff_close" for r in h.store.audit.list())

    harness(scenario)
