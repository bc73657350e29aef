"""The console in a real headless Chromium against the real assistant (tools.stack: Rasa, the
action server, the web app): a staff member logs in, takes over a resident's conversation and
replies, changes a request's status, annotates a queued question; the resident's web chat (in
another tab) shows what staff sent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from bot.webchat.app import HELD
from community.records.accounts import Accounts
from community.records.requests import NewRequest
from community.records.review_queue import IntentScore
from community.store import Store
from community.training_data import HOLDOUT_DIR
from tests.support.console import PASSWORD, css, log_in, wait
from tools.stack import start_stack, stop_stack

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def training_root(tmp_path_factory) -> Path:
    """Where the console writes reviewed examples: a copy, never the project's own nlu_data/."""
    root = tmp_path_factory.mktemp("project")
    for name in ("domain", "nlu_data"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("reviewed.yml"))
    shutil.copytree(ROOT / HOLDOUT_DIR, root / HOLDOUT_DIR)
    shutil.copy(ROOT / "config.yml", root / "config.yml")
    return root


@pytest.fixture(scope="module")
def stack(trained_model, training_root, tmp_path_factory):
    saved = os.environ.get("CONSOLE_TRAINING_ROOT")
    os.environ["CONSOLE_TRAINING_ROOT"] = str(training_root)
    try:
        stack = start_stack(tmp_path_factory.mktemp("var"))
    finally:
        if saved is None:
            os.environ.pop("CONSOLE_TRAINING_ROOT", None)
        else:
            os.environ["CONSOLE_TRAINING_ROOT"] = saved
    yield stack
    stop_stack(stack)


@pytest.fixture(scope="module")
def store(stack):
    store = Store.from_url(f"sqlite:///{stack.var_dir / 'community.db'}", migrate=False)
    console = Accounts(store.engine)
    console.create_user("wang", PASSWORD, "staff")
    console.create_user("boss", PASSWORD, "admin")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def tabs(browser, stack, store):
    """Two tabs of one browser: the resident's web chat and the staff console."""
    browser.get(stack.web + "/")
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    resident = browser.current_window_handle
    browser.switch_to.new_window("tab")
    log_in(browser, stack.web, "wang")
    staff = browser.current_window_handle
    return {"resident": resident, "staff": staff}


def resident_tab(browser, tabs):
    browser.switch_to.window(tabs["resident"])
    return browser


def staff_tab(browser, tabs):
    browser.switch_to.window(tabs["staff"])
    return browser


def say(driver, text: str) -> None:
    field = css(driver, "#text")[0]
    field.clear()
    field.send_keys(text)
    css(driver, "#send")[0].click()


def pushed(driver) -> list[str]:
    return [e.text for e in css(driver, ".msg.push")]


def test_take_over_a_conversation_reply_and_hand_it_back(browser, tabs, stack, store):
    page = resident_tab(browser, tabs)
    before = len(css(page, ".msg.bot"))
    say(page, "我要找工作人员")
    wait(page, lambda d: len(css(d, ".msg.bot")) > before)
    assert "工作人员" in css(page, ".msg.bot .text")[-1].text
    rid = page.get_cookie("sqa_rid")["value"]
    wait(page, lambda d: any(h["conversation_id"] == f"web-{rid}" for h in store.handoffs.list()))

    console = staff_tab(browser, tabs)
    console.get(stack.web + "/staff/handoffs")
    take = [b for b in css(console, "#waiting button") if "我要找工作人员" in b.get_attribute("aria-label")]
    take[0].click()
    wait(console, lambda d: "您已接手这位居民" in d.page_source)
    assert "我要找工作人员" in css(console, "#transcript")[0].text  # the whole transcript
    css(console, "#reply")[0].send_keys("您好，我是社区的小王，请问有什么可以帮您？")
    css(console, "form.card button[type=submit]")[0].click()
    wait(console, lambda d: "回复已发出" in d.page_source)

    page = resident_tab(browser, tabs)
    wait(page, lambda d: any("小王" in t for t in pushed(d)), 20)
    assert any("工作人员已经接入" in t for t in pushed(page))
    assert "工作人员消息" in css(page, ".msg.push")[-1].text
    # While staff hold the conversation, the assistant stays silent.
    bots = len(css(page, ".msg.bot"))
    say(page, "我家楼道的灯坏了三天了")
    wait(page, lambda d: css(d, "#status")[0].text == HELD)
    assert len(css(page, ".msg.bot")) == bots

    console = staff_tab(browser, tabs)
    wait(console, lambda d: "我家楼道的灯坏了三天了" in css(d, "#transcript")[0].text, 20)  # refreshes itself
    [release] = [b for b in css(console, "button") if "交回智能助手" in b.text]
    release.click()
    wait(console, lambda d: "已交回智能助手" in d.page_source)

    page = resident_tab(browser, tabs)
    wait(page, lambda d: any("智能助手继续为您解答" in t for t in pushed(d)), 20)
    before = len(css(page, ".msg.bot"))
    say(page, "高龄津贴怎么领")
    wait(page, lambda d: len(css(d, ".msg.bot")) > before)
    assert "高龄津贴" in css(page, ".msg.bot .text")[-1].text  # the assistant answers again


def test_change_a_requests_status_and_the_resident_sees_it(browser, tabs, stack, store):
    page = resident_tab(browser, tabs)
    rid = page.get_cookie("sqa_rid")["value"]
    request = store.requests.create(
        NewRequest(
            kind="report",
            title="反映问题",
            channel="web",
            conversation_id=f"web-{rid}",
            fields={"问题": "楼道灯坏了"},
            summary="3号楼楼道灯坏了",
            contact_name="张小明",
            phone="13912345678",
            address="3号楼2单元401",
            due_days=3,
        )
    )
    ref = request["ref"]

    console = staff_tab(browser, tabs)
    console.get(stack.web + "/staff/requests")
    row = [r for r in css(console, "#requests tbody tr") if ref in r.text][0]
    assert "139****5678" in row.text and "张*明" in row.text  # masked in the list
    css(row, "a")[0].click()
    wait(console, lambda d: ref in d.title)
    assert "13912345678" in console.page_source  # in full on the request itself
    from selenium.webdriver.support.ui import Select

    Select(css(console, "#new-status")[0]).select_by_visible_text("已受理")
    css(console, "#note")[0].send_keys("明天上午电工上门维修")
    [save] = [b for b in css(console, "button") if "保存并通知居民" in b.text]
    save.click()
    wait(console, lambda d: "状态已更新" in d.page_source)
    assert css(console, "#status-now")[0].text == "已受理"

    page = resident_tab(browser, tabs)
    wait(page, lambda d: any(ref in t and "明天上午电工上门维修" in t for t in pushed(d)), 20)
    latest = css(page, ".msg.push")[-1]
    assert "办理进度" in latest.text and latest.find_elements("css selector", "strong.ref")

    # A change made while the resident is away reaches them at their next visit.
    page.get("about:blank")
    console = staff_tab(browser, tabs)
    console.get(f"{stack.web}/staff/requests/{ref}")
    Select(css(console, "#new-status")[0]).select_by_visible_text("已办结")
    [save] = [b for b in css(console, "button") if "保存并通知居民" in b.text]
    save.click()
    wait(console, lambda d: "状态已更新" in d.page_source)
    page = resident_tab(browser, tabs)
    page.get(stack.web + "/")
    try:
        wait(page, lambda d: any(ref in t and "已办结" in t for t in pushed(d)), 20)
    except Exception as err:
        raise AssertionError(
            f"{pushed(page)} {store.notifications.pending('web')}"
            f"{[n for n in store.notifications.pending('web')]}"
        ) from err


def test_annotate_a_queued_question(browser, tabs, stack, store, training_root):
    store.review_queue.record(
        text="小区里电动车充电桩坏了找谁修",
        channel="web",
        conversation_id="web-someone",
        reason="fallback",
        top_intents=[IntentScore("complaint_report", 0.38)],
    )
    console = staff_tab(browser, tabs)
    console.get(stack.web + "/staff/review")
    [link] = [a for a in css(console, "a.qtext") if "充电桩坏了" in a.text]
    link.click()
    wait(console, lambda d: "这一组里的问题" in d.page_source)
    assert "38%" in console.page_source
    from selenium.webdriver.support.ui import Select

    # The assistant's own guess is preselected, with its confidence, in staff's words.
    chosen = Select(css(console, "#intent")[0]).first_selected_option
    assert chosen.get_attribute("value") == "complaint_report" and "38%" in chosen.text
    # 试一试: what the assistant answers to this wording now, through the real Rasa server.
    [tried] = [b for b in css(console, "button") if b.text == "试一试"]
    tried.click()
    wait(console, lambda d: "居民会看到" in d.page_source or "试一试不会真的" in d.page_source)
    [assign] = [b for b in css(console, "button") if b.text == "加入这个事项的例句"]
    assign.click()
    wait(console, lambda d: "加入「反映问题（接诉即办）」的例句" in d.page_source)
    assert "充电桩坏了" not in " ".join(a.text for a in css(console, "a.qtext"))
    reviewed = yaml.safe_load(
        (training_root / "nlu_data" / "nlu" / "reviewed.yml").read_text(encoding="utf-8")
    )
    assert "小区里电动车充电桩坏了找谁修" in str(reviewed["nlu"])


AXE = ROOT / "tests" / "support" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(driver) -> list[str]:
    """axe-core's WCAG violations on the page (axe is injected by the test, not by the page)."""
    import json

    driver.execute_script(AXE.read_text(encoding="utf-8"))
    raw = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify("
        "  r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(' | ')))))"
        ".catch(e => done(JSON.stringify(['axe failed: ' + e])));"
    )
    return json.loads(raw)


def test_console_pages_are_accessible(browser, tabs, stack, store):
    if not AXE.is_file():
        import subprocess

        subprocess.run([str(ROOT / "tools" / "ensure_axe.sh")], check=True)
    store.review_queue.record(
        text="垃圾分类的桶放哪里",
        channel="web",
        conversation_id="web-axe",
        reason="fallback",
        top_intents=[IntentScore("community_affairs", 0.3)],
    )
    handoff = store.handoffs.create(conversation_id="web-axe", channel="web", reason="asked", text="找人")
    console = staff_tab(browser, tabs)
    console.set_script_timeout(60)
    console.get(stack.web + "/staff/review")
    [link] = [a for a in css(console, "a.qtext") if "垃圾分类" in a.text]
    review_group = link.get_attribute("href")
    store.review_queue.record(
        text="小区wifi密码多少", channel="web", conversation_id="web-axe2", reason="out_of_scope",
        top_intents=[],
    )
    pages = [
        "/staff/handoffs",
        "/staff/handoffs?status=waiting&emergency=1",
        f"/staff/handoffs/{handoff}",
        "/staff/review",
        "/staff/review?tab=out_of_scope",
        "/staff/review?reason=fallback&q=垃圾",
        review_group,
        "/staff/try?q=老年食堂几点开饭",
        "/staff/requests",
        "/staff/stats",
    ]
    found = {}
    for path in pages:
        console.get(path if path.startswith("http") else stack.web + path)
        violations = axe_violations(console)
        if violations:
            found[path] = violations
    assert found == {}
    # Large, readable text.
    size = console.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 18
