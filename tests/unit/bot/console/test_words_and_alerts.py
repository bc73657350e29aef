"""Issue 13 in the console, as a staff member sees it: statistics that agree and say why a chart
is empty, Chinese words for channels, intents, form fields and audit actions, the community's own
number readable in transcripts, who is on duty and the emergency alert hooks, an admin's own
account, and a focus ring of at least 3:1."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from bot.console.formatting import masker
from bot.console.labels import audit_detail, channel_label
from bot.console.stats_pages import empty_reasons, share, totals
from community.intents import INTENT_LABELS, label
from community.records.handoffs import handoffs
from community.records.requests import NewRequest
from community.records.review_queue import IntentScore
from community.records.statistics import Statistics

ROOT = Path(__file__).resolve().parents[4]


def test_every_intent_the_assistant_knows_has_chinese_words():
    import yaml

    domain = yaml.safe_load((ROOT / "domain" / "intents.yml").read_text(encoding="utf-8"))
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    assert [n for n in names if n not in INTENT_LABELS] == []
    assert label("request_service") == "申请办理（填表）" and label("bot_challenge") == "问是不是机器人"
    assert channel_label("webchat") == "网页聊天" and channel_label("kiosk") == "自助终端"
    detail = audit_detail('{"role": "staff", "status": "done", "note": true}')
    assert detail == "角色：工作人员；新状态：已办结；附说明：是"


def test_the_duty_number_is_not_masked_but_residents_numbers_are():
    mask = masker(["010-8765-4300"])
    shown = mask("助手：社区值班电话 010-8765-4300。居民：我的电话13812345678")
    assert "010-8765-4300" in shown and "13812345678" not in shown and "138****5678" in shown


def test_rates_come_with_their_counts_and_empty_charts_say_why(tmp_path):
    rows = [
        {"conversations": 7, "messages": 20, "unanswered": 5, "handoffs": 3, "handoff_conversations": 2,
         "up": 1, "down": 0, "requests": 1, "closed": 0},
    ]
    total = totals(rows)
    assert share(total["handoff_conversations"], total["conversations"]) == "29%（2/7）"
    assert share(0, 0) == "—"
    reasons = empty_reasons(total, "store", responses=False)
    assert set(reasons) == {"domains", "unanswered", "response"} and "读不到" in reasons["unanswered"]
    assert empty_reasons(totals([{}]), "tracker", responses=False).keys() >= {"handoff", "satisfaction"}


def test_statistics_count_handoff_conversations_like_the_rate(tmp_path):
    from community.store import Store

    store = Store.from_url(f"sqlite:///{tmp_path / 's.db'}")
    for _ in range(2):  # one conversation handed over twice (the first one was closed)
        store.handoffs.create(conversation_id="web-1", channel="web", reason="asked", text="找人工")
        with store.engine.begin() as connection:
            connection.execute(handoffs.update().values(status="released"))
    now = dt.datetime.now(dt.timezone.utc)
    day = Statistics(store.engine).daily(1, messages=lambda start: [("web-1", now.timestamp(), "greet"),
                                                                   ("web-2", now.timestamp(), "thank")])
    [row] = day["days"]
    assert row["handoffs"] == 2 and row["handoff_conversations"] == 1 and row["conversations"] == 2
    assert row["handoff_rate"] == 0.5
    store.engine.dispose()


def test_pages_in_a_community_workers_words(harness):
    async def scenario(h):
        ref = h.store.requests.create(
            NewRequest(kind="meal", title="老年助餐", channel="webchat", conversation_id="web-m",
                       fields={"person_name": "张桂兰", "meal_mode": "送餐上门"}, summary="助餐")
        )["ref"]
        h.store.handoffs.create(
            conversation_id="kiosk-1", channel="kiosk", reason="emergency", emergency=True,
            text="居民：我家着火了\n助手：社区值班电话 010-8765-4300，我的电话13812345678",
        )
        h.store.review_queue.record(
            text="外卖", channel="webchat", conversation_id="web-q", reason="fallback",
            top_intents=[IntentScore("request_service", 0.4)],
        )
        await h.login("wang")
        _, detail = await h.page(f"/staff/requests/{ref}")
        assert "<dt>姓名</dt>" in detail and "<dt>就餐方式</dt>" in detail and "person_name" not in detail
        assert "网页聊天" in detail and "webchat" not in detail
        _, inbox = await h.page("/staff/handoffs")
        assert "010-8765-4300" in inbox and "138****5678" in inbox  # the duty number is readable
        assert "自助终端" in inbox and "在线值班：" in inbox and "wang（工作人员）" in inbox
        assert re.search(r'data-emergency="\d+"', inbox) and 'id="emergency-alert"' in inbox
        assert "开启紧急提示音和桌面通知" in inbox and "社区值班电话：" in inbox
        _, review = await h.page("/staff/review")
        group = re.search(r'/staff/review/([A-Za-z0-9_-]+)"', review).group(1)
        _, page = await h.page(f"/staff/review/{group}")
        assert "申请办理（填表）" in page and "（request_service）" not in page

    harness(scenario)


def test_an_admin_sees_why_they_cannot_disable_themselves(harness):
    async def scenario(h):
        await h.login("boss")
        _, users = await h.page("/staff/users")
        row = re.search(r"<tr><td>boss</td>.*?</tr>", users, re.S).group(0)
        assert "这是您自己的账号，不能停用" in row and 'value="disable"' not in row
        refused = await h.post("/staff/users", {"action": "disable", "username": "boss"})
        assert refused.status == 400 and "不能停用自己" in await refused.text()
        assert h.accounts.get_user("boss")["active"]

    harness(scenario)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_focus_ring_stands_out_on_the_page_and_the_header():
    css = (ROOT / "bot/console/static/console.css").read_text()
    ring = re.search(r":focus-visible \{ outline: 3px solid (#[0-9a-f]{6})", css).group(1)
    header_ring = re.search(r"\.top :focus-visible \{ outline-color: (#[0-9a-f]{6})", css).group(1)
    header = re.search(r"\.top \{ background: (#[0-9a-f]{6})", css).group(1)
    for page in ("#f6f8fa", "#ffffff", "#fff1f0"):
        assert _contrast(ring, page) >= 3
    assert _contrast(header_ring, header) >= 3


def test_the_tracker_store_is_read_even_if_rasa_made_it_after_the_console_started(tmp_path):
    from bot.console.app import tracker_engine
    from community.settings import Settings

    engine = tracker_engine(Settings(var_dir=tmp_path))
    assert not (tmp_path / "tracker.db").exists()  # never created by the console
    made = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with made.begin() as connection:
        connection.exec_driver_sql("create table events (sender_id text)")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from events").scalar() == 0
