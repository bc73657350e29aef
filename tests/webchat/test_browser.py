"""The web chat in a real headless Chromium (Debian's chromium + chromedriver, driven by
selenium), against the real assistant started by tools.stack (Rasa, actions, web chat).

axe-core comes from npm (tests/webchat/package-lock.json, installed by tools/ensure_axe.sh)
and is injected into the page by the test: the page itself never loads anything from outside.
Screenshots of each mode go to test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from community.store import Store
from tests.browser import start_chromium
from tools.stack import start_stack, stop_stack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
AISHELL = SHARED / "audio" / "aishell1"
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "webchat" / "node_modules" / "axe-core" / "axe.min.js"
# Records what the page's Content-Security-Policy blocked, across reloads of the tab.
CSP_WATCH = (
    "document.addEventListener('securitypolicyviolation', e => sessionStorage.setItem('csp',"
    " (sessionStorage.getItem('csp') || '') + e.violatedDirective + ' ' + e.blockedURI + '\\n'));"
)


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("var"))
    yield stack
    stop_stack(stack)


@pytest.fixture(scope="module")
def store(stack):
    store = Store.from_url(f"sqlite:///{stack.var_dir / 'community.db'}", migrate=False)
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        if shutil.which("npm") is None:
            pytest.fail("axe-core is missing and npm is not installed: "
                        "apt-get install npm, then tools/ensure_axe.sh")
        subprocess.run([str(ROOT / "tools" / "ensure_axe.sh")], check=True)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, stack):
    """The chat page, fresh, with default modes; afterwards, nothing it needed was blocked by
    its Content-Security-Policy."""
    browser.get(stack.web + "/")
    browser.execute_script("localStorage.clear(); sessionStorage.clear()")
    browser.get(stack.web + "/")
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    yield browser
    assert browser.execute_script("return sessionStorage.getItem('csp') || ''") == ""


def wait(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def ask(driver, text: str) -> None:
    before = len(css(driver, ".msg.bot"))
    field = css(driver, "#text")[0]
    field.clear()
    field.send_keys(text)
    css(driver, "#send")[0].click()
    wait(driver, lambda d: len(css(d, ".msg.bot")) > before)


def status(driver) -> str:
    return css(driver, "#status")[0].text


def run_axe(driver, axe_source: str, only: list[str] | None = None) -> list[str]:
    """axe-core's violations on the page (all default rules, or ``only`` these rules)."""
    driver.execute_script(axe_source)
    options = {"resultTypes": ["violations"]}
    if only:
        options["runOnly"] = {"type": "rule", "values": only}
    raw = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(r => done(JSON.stringify("
        "  r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary)"
        "    .join(' | '))))).catch(e => done(JSON.stringify(['axe failed: ' + e])));",
        options,
    )
    return json.loads(raw)


def small_targets(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('button, input[type=text], label.upload, a')]"
        ".filter(e => e.offsetParent !== null && !e.classList.contains('skip'))"
        ".map(e => [e, e.getBoundingClientRect()])"
        ".filter(([e, r]) => r.width < 44 || r.height < 44)"
        ".map(([e, r]) => (e.id || e.textContent) + ' ' + r.width + 'x' + r.height);"
    )


def test_ask_a_question_and_see_the_answer_announced(page):
    ask(page, "助餐在哪里吃")
    answer = css(page, ".msg.bot .text")[-1].text
    assert "【" in answer
    assert css(page, ".msg.me")[-1].text.endswith("助餐在哪里吃")
    assert "助手回答：" in page.execute_script("return document.getElementById('announce').textContent")
    assert css(page, "#text")[0].get_attribute("value") == ""


def test_resident_text_is_shown_as_text_never_html(page):
    ask(page, "<img src=x onerror=window.pwned=1>我家楼道灯坏了")
    assert page.execute_script("return window.pwned === undefined && !document.querySelector('#log img')")
    assert "<img" in css(page, ".msg.me")[-1].text
    ask(page, "取消")  # the report it opened is left, so the next tests start afresh
    assert "已取消" in css(page, ".msg.bot .text")[-1].text


def test_tap_a_quick_reply_then_a_rasa_button(page):
    before = len(css(page, ".msg.bot"))
    css(page, ".quick button")[1].click()  # 养老服务
    wait(page, lambda d: len(css(d, ".msg.bot")) > before)
    menu = css(page, ".msg.bot")[-1]
    assert "请点选" in menu.text
    buttons = css(page, ".msg.bot:last-child .buttons button")
    assert len(buttons) >= 3 and all(b.tag_name == "button" for b in buttons)
    title = buttons[0].text
    before = len(css(page, ".msg.bot"))
    buttons[0].click()
    wait(page, lambda d: len(css(d, ".msg.bot")) > before)
    assert css(page, ".msg.me")[-1].text.endswith(title)
    assert css(page, ".msg.bot .text")[-1].text.strip()


def test_rate_an_answer_and_find_it_in_the_store(page, store):
    ask(page, "高龄津贴怎么领")
    answer = css(page, ".msg.bot .text")[-1].text
    css(page, ".msg.bot:last-child button.rate[data-rating=down]")[0].click()
    wait(page, lambda d: "谢谢您的评价" in status(d))
    rows = [r for r in store.ratings.list() if r["question"] == "高龄津贴怎么领"]
    assert rows and rows[-1]["rating"] == "down" and rows[-1]["channel"] == "web"
    assert rows[-1]["answer"].strip() == answer.strip()
    assert rows[-1]["conversation_id"] == "web-" + page.get_cookie("sqa_rid")["value"]
    queued = store.review_queue.list()
    assert any(q["reason"] == "rated_down" and q["text"] == "高龄津贴怎么领" for q in queued)
    assert not css(page, ".msg.bot:last-child button.rate")[0].is_enabled()


def test_keyboard_only_with_visible_focus(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    actions = ActionChains(page)
    actions.send_keys(Keys.TAB).perform()
    assert page.switch_to.active_element.text == "跳到输入框"
    actions.send_keys(Keys.ENTER).perform()
    wait(page, lambda d: d.switch_to.active_element.get_attribute("id") == "text", 5)
    before = len(css(page, ".msg.bot"))
    actions.send_keys("老年餐桌几点开门", Keys.ENTER).perform()
    wait(page, lambda d: len(css(d, ".msg.bot")) > before)
    focused = page.switch_to.active_element
    assert focused.get_attribute("id") == "text"
    # Every control can be reached with Tab and shows a visible outline when it has focus.
    seen = set()
    for _ in range(40):
        actions.send_keys(Keys.TAB).perform()
        element = page.switch_to.active_element
        if element.tag_name == "body":  # past the last control, before wrapping round
            continue
        label = element.get_attribute("id") or element.text
        outline = page.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", element)
        if element.tag_name != "input" or element.get_attribute("type") != "file":
            assert outline[0] != "none" and outline[1] != "0px", label
        seen.add(label)
    assert {"large", "contrast", "send", "talk", "audio-file"} <= seen
    speak = css(page, ".msg.bot:last-child button.speak")[0]
    page.execute_script("arguments[0].focus()", speak)
    assert speak.get_attribute("aria-label").startswith("朗读")


def test_read_an_answer_aloud_normal_and_slow(page):
    ask(page, "老年餐桌的电话是多少")
    for rate in ("normal", "slow"):
        css(page, f".msg.bot:last-child button.speak[data-rate={rate}]")[0].click()
        wait(page, lambda d: any(w in status(d) for w in ("正在朗读。", "没有播放", "用不了")), 45)
        assert "用不了" not in status(page)


def test_modes_are_remembered_resize_to_200_percent_and_pass_axe(page, axe_source):
    ARTIFACTS.mkdir(exist_ok=True)
    ask(page, "你好")
    ask(page, "我想给我妈申请高龄津贴")
    modes = {"normal": [], "large": ["large"], "contrast": ["contrast"],
             "large-contrast": ["large", "contrast"]}
    for name, toggles in modes.items():
        for toggle in ("large", "contrast"):
            button = css(page, f"#{toggle}")[0]
            if (button.get_attribute("aria-pressed") == "true") != (toggle in toggles):
                button.click()
        page.refresh()  # the choice is remembered across reloads
        wait(page, lambda d: d.execute_script("return document.readyState") == "complete")
        classes = page.execute_script("return document.documentElement.className")
        for toggle in ("large", "contrast"):
            assert (toggle in classes) == (toggle in toggles), name
            assert css(page, f"#{toggle}")[0].get_attribute("aria-pressed") == str(toggle in toggles).lower()
        ask(page, "助餐在哪里吃")
        violations = run_axe(page, axe_source)
        assert violations == [], f"{name}: {violations}"
        if "contrast" in toggles:  # high contrast: at least 7:1 (WCAG AAA, axe's enhanced rule)
            assert run_axe(page, axe_source, ["color-contrast-enhanced"]) == [], name
        assert small_targets(page) == [], name
        page.save_screenshot(str(ARTIFACTS / f"webchat-{name}.png"))
    # Text at 200 %: nothing wider than the window, controls still at least 44 px.
    page.execute_script("document.documentElement.style.fontSize = '40px'")
    overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert small_targets(page) == []
    page.save_screenshot(str(ARTIFACTS / "webchat-text-200.png"))


def test_upload_a_recorded_wav_through_the_voice_endpoint(page):
    clip = sorted(AISHELL.glob("*.wav"))[0]
    voice_url = page.current_url.rstrip("/") + "/api/voice"
    status_json = json.loads(urllib.request.urlopen(voice_url, timeout=10).read())
    css(page, "#audio-file")[0].send_keys(str(clip))
    if status_json["available"]:
        wait(page, lambda d: "（语音）" in (css(d, ".msg.me")[-1].text if css(d, ".msg.me") else ""), 60)
        assert css(page, ".msg.bot")
    else:
        wait(page, lambda d: "没有安装" in status(d), 60)
        css(page, "#talk")[0].click()
        assert "没有安装" in status(page)
        assert css(page, "#talk")[0].get_attribute("aria-disabled") == "true"


def test_bad_input_and_an_unreachable_server_keep_the_typed_text(page):
    css(page, "#send")[0].click()
    assert "请先输入" in status(page)
    page.execute_cdp_cmd("Network.enable", {})
    page.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        css(page, "#text")[0].send_keys("高龄津贴怎么领")
        css(page, "#send")[0].click()
        wait(page, lambda d: "连接不上服务器" in status(d), 10)
        assert css(page, "#text")[0].get_attribute("value") == "高龄津贴怎么领"
    finally:
        page.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def test_the_page_is_sent_with_a_content_security_policy(stack):
    with urllib.request.urlopen(stack.web + "/", timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp


def test_an_injected_inline_script_is_blocked_by_the_policy(page):
    page.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        "document.body.appendChild(s);")
    assert page.execute_script("return window.injected") is None
    assert "script-src" in page.execute_script("return sessionStorage.getItem('csp') || ''")
    page.execute_script("sessionStorage.removeItem('csp')")  # expected: not a failure of the page


def test_a_staff_notification_appears_without_a_reload(page, store):
    rid = page.get_cookie("sqa_rid")["value"]
    text = "您好，我是社区工作人员小王，已收到您的诉求，编号 SQ-20261129-0007。"
    store.notifications.notify("web", f"web-{rid}", text, kind="status")  # as the staff console does
    wait(page, lambda d: css(d, ".msg.push"), 20)
    assert "小王" in css(page, ".msg.push")[-1].text
    # Reference numbers are highlighted, and named for screen readers.
    reference = css(page, ".msg.push strong.ref")[-1]
    assert reference.text.endswith("SQ-20261129-0007")
    assert "办理编号" in reference.get_attribute("textContent")
    assert reference.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
