"""The web chat in a real headless Chromium (Debian's chromium + chromedriver, driven by
selenium), against the real assistant started by tools.stack (Rasa, actions, web chat).

axe-core comes from npm (tests/support/axe/package-lock.json, installed by tools/ensure_axe.sh)
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
from selenium.webdriver.common.keys import Keys

from community.store import Store
from tests.support.browser import start_chromium
from tools.stack import start_stack, stop_stack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"
AISHELL = SHARED / "audio" / "aishell1"
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "support" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
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
    browser.delete_all_cookies()  # a new resident: each test starts its own conversation
    browser.get(stack.web + "/")
    wait_ready(browser)
    yield browser
    assert browser.execute_script("return sessionStorage.getItem('csp') || ''") == ""


def wait_ready(driver) -> None:
    """The page is loaded and has shown the resident's earlier conversation (if any)."""
    wait(driver, lambda d: d.execute_script(
        "return document.readyState === 'complete' && document.getElementById('log').dataset.restored"))


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
    """Controls smaller than 44 px (links inside a sentence are exempt, as WCAG 2.5.8 allows)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('button, input[type=text], label.upload, a')]"
        ".filter(e => e.offsetParent !== null && !e.classList.contains('skip') && !e.closest('.text, dd'))"
        ".map(e => [e, e.getBoundingClientRect()])"
        ".filter(([e, r]) => r.width < 44 || r.height < 44)"
        ".map(([e, r]) => (e.id || e.textContent) + ' ' + r.width + 'x' + r.height);"
    )


def test_ask_a_question_and_see_the_answer_announced(page):
    ask(page, "助餐在哪里吃")
    answer = css(page, ".msg.bot .text")[-1].text
    assert "【" in answer
    assert css(page, ".msg.me")[-1].text.endswith("助餐在哪里吃")
    # The conversation itself is the one polite log; the answer is in it with a spoken label.
    log = css(page, "#log")[0]
    assert log.aria_role == "log" and log.get_attribute("aria-live") == "polite"
    assert css(page, ".msg.bot")[-1].get_attribute("textContent").startswith("助手说：")
    assert css(page, "#text")[0].get_attribute("value") == ""


def test_resident_text_is_shown_as_text_never_html(page):
    ask(page, "<img src=x onerror=window.pwned=1>我家楼道灯坏了")
    assert page.execute_script("return window.pwned === undefined && !document.querySelector('#log img')")
    assert "<img" in css(page, ".msg.me")[-1].text
    ask(page, "取消")  # the report it opened is left, so the next tests start afresh
    assert "已取消" in css(page, ".msg.bot .text")[-1].text


def test_tap_a_quick_reply_then_a_rasa_button(page):
    before = len(css(page, ".msg.bot"))
    if css(page, "#more")[0].get_attribute("aria-expanded") == "false":
        css(page, "#more")[0].click()  # 更多: the quick services
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
    down = css(page, ".msg.bot:last-child button.rate[data-rating=down]")[0]
    down.click()
    wait(page, lambda d: "谢谢您的评价" in status(d))
    rows = [r for r in store.ratings.list() if r["question"] == "高龄津贴怎么领"]
    assert rows and rows[-1]["rating"] == "down" and rows[-1]["channel"] == "web"
    assert rows[-1]["answer"].strip() == answer.strip()
    assert rows[-1]["conversation_id"] == "web-" + page.get_cookie("sqa_rid")["value"]
    queued = store.review_queue.list()
    assert any(q["reason"] == "rated_down" and q["text"] == "高龄津贴怎么领" for q in queued)
    # The buttons say they are done (aria-disabled, not disabled): focus stays where it was.
    rates = css(page, ".msg.bot:last-child button.rate")
    assert [b.get_attribute("aria-disabled") for b in rates] == ["true"] * 2
    assert down.get_attribute("aria-pressed") == "true"
    assert page.switch_to.active_element == down


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
    assert {"large", "contrast", "send", "more", "text"} <= seen
    speak = css(page, ".msg.bot:last-child button.speak")[0]
    assert speak.text == "朗读" and speak.get_attribute("aria-pressed") == "false"


def test_read_aloud_is_one_toggle_that_clears_and_says_slower_slows_it(page):
    ask(page, "老年餐桌的电话是多少")
    speak = css(page, ".msg.bot:last-child button.speak")[0]
    page.execute_script("arguments[0].focus()", speak)
    speak.send_keys(Keys.ENTER)
    wait(page, lambda d: any(w in status(d) for w in ("正在朗读。", "没有播放", "用不了")), 45)
    assert "用不了" not in status(page)
    assert page.switch_to.active_element == speak  # aria-disabled while preparing: focus stays
    if "正在朗读" in status(page):
        assert speak.text == "停止" and speak.get_attribute("aria-pressed") == "true"
        wait(page, lambda d: status(d) == "" and speak.text == "朗读", 60)  # cleared when playback ends
    # "说慢一点": the assistant's answer switches the page's reading speed to slow.
    assert css(page, "#slow")[0].get_attribute("aria-pressed") == "false"
    ask(page, "说慢一点")
    assert css(page, "#slow")[0].get_attribute("aria-pressed") == "true"
    css(page, ".msg.bot:last-child button.speak")[0].click()
    wait(page, lambda d: any(w in status(d) for w in ("正在慢速朗读。", "没有播放", "用不了")), 45)
    assert "用不了" not in status(page)
    page.execute_script("localStorage.removeItem('sqa-slow')")


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
        wait_ready(page)
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


def test_voice_is_offered_only_when_it_works(page):
    voice_url = page.current_url.rstrip("/") + "/api/voice"
    status_json = json.loads(urllib.request.urlopen(voice_url, timeout=10).read())
    if css(page, "#more")[0].get_attribute("aria-expanded") == "false":
        css(page, "#more")[0].click()
    if status_json["available"]:
        talk = css(page, "#talk")[0]
        assert talk.is_displayed() and talk.text == "说话"  # tap to start, tap again to stop
        css(page, "#audio-file")[0].send_keys(str(sorted(AISHELL.glob("*.wav"))[0]))
        wait(page, lambda d: "（语音）" in (css(d, ".msg.me")[-1].text if css(d, ".msg.me") else ""), 60)
        assert css(page, ".msg.bot")
    else:
        # No control that would only fail; said once, plainly, with the community phone.
        assert not any(e.is_displayed() for e in css(page, "#talk, label.upload, #audio-file"))
        notice = css(page, "#no-voice")[0]
        wait(page, lambda d: notice.is_displayed())
        assert "不能用语音" in notice.text and "010-8765-4300" in notice.text
        assert "语音" not in status(page) and "语音" not in css(page, "#log")[0].text


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


# --- a phone, 大字模式, screen readers, keyboard only (issue 13) -------------------------------

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


@pytest.fixture
def phone(page, stack):
    """The page on a 390×844 phone screen in 大字模式 (restored to the desktop window after)."""
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    page.execute_script("localStorage.setItem('sqa-large', '1')")
    page.get(stack.web + "/")
    wait_ready(page)
    yield page
    page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def rect(driver, element) -> dict:
    return driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element)


def test_phone_in_large_mode_greets_and_shows_the_start_of_each_answer(phone):
    ARTIFACTS.mkdir(exist_ok=True)
    assert "large" in phone.execute_script("return document.documentElement.className")
    # A greeting with examples is in the conversation before anything is typed, and no error.
    log = css(phone, "#log")[0]
    assert log.aria_role == "log"
    greeting = css(phone, "#log .msg.bot")[0]
    assert greeting.get_attribute("textContent").strip().startswith("助手说：")
    assert css(phone, "#greeting .text")[0].text.startswith("您好")
    assert len(css(phone, "#greeting button")) == 3
    assert status(phone) == ""
    # The input is on screen without scrolling; no voice control while voice is unavailable.
    box = rect(phone, css(phone, "#text")[0])
    assert phone.execute_script("return window.scrollY") == 0 and 0 <= box["top"] and box["bottom"] <= 844
    assert not any(e.is_displayed() for e in css(phone, "#talk, label.upload, #audio-file, .quick button"))
    phone.save_screenshot(str(ARTIFACTS / "webchat-phone-large-greeting.png"))
    field = css(phone, "#text")[0]
    field.send_keys("高龄津贴怎么申请")
    css(phone, "#send")[0].click()
    wait(phone, lambda d: len(css(d, ".msg.bot")) > 1)
    answer = css(phone, ".msg.bot")[-1]
    assert "高龄津贴" in answer.text
    top = rect(phone, answer)["top"]
    assert 0 <= top < 844 / 3, top  # its start, not its bottom (or only its 👍/👎 row)
    import time

    time.sleep(1)  # nothing scrolls it away afterwards (focusing the input included)
    assert rect(phone, answer)["top"] == top
    phone.save_screenshot(str(ARTIFACTS / "webchat-phone-large-answer.png"))
    # The input area stays compact: quick services and voice fold away while reading.
    assert css(phone, "#more")[0].get_attribute("aria-expanded") == "false"
    assert rect(phone, css(phone, "#form")[0])["height"] < 844 / 3


def test_a_reply_of_several_messages_is_announced_in_order_once(page):
    page.execute_script(
        "window.busy = []; new MutationObserver(() => window.busy.push("
        "document.getElementById('log').getAttribute('aria-busy')))"
        ".observe(document.getElementById('log'), {attributes: true, attributeFilter: ['aria-busy']});")
    ask(page, "高龄津贴怎么申请")
    before = len(css(page, "#log > .msg"))
    ask(page, "说慢一点")
    wait(page, lambda d: len(css(d, "#log > .msg.bot")) >= 4)
    added = css(page, "#log > .msg")[before:]
    texts = [m.get_attribute("textContent") for m in added]
    assert texts[0].startswith("我说：说慢一点")
    # Each message of the reply is its own addition to the one polite log, with a spoken label,
    # and "有N个选项按钮" when it has buttons.
    replies = added[1:]
    assert len(replies) >= 2 and "我慢一点说" in texts[1]
    for message in replies:
        label = message.get_attribute("textContent")
        assert label.startswith("助手说："), label
        buttons = message.find_elements("css selector", ".buttons button")
        if buttons:
            assert f"有{len(buttons)}个选项按钮" in label
    # Nothing else reads the answer again: the only live regions are the log and the status line.
    live = page.execute_script(
        "return [...document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')]"
        ".map(e => e.id + ':' + (e.getAttribute('aria-live') || e.getAttribute('role')))")
    assert sorted(live) == ["log:polite", "status:status"]
    assert "高龄津贴" not in status(page)
    assert page.execute_script("return window.busy")[-2:] == ["true", "false"]  # busy while waiting
    assert css(page, "#log")[0].get_attribute("aria-busy") == "false"
    # Buttons of the finished step no longer answer (nor take Tab stops).
    live_buttons = "return document.querySelectorAll('#log .buttons:not([inert]) button').length"
    offered = replies[-1].find_elements("css selector", ".buttons button")
    assert page.execute_script(live_buttons) == len(offered)
    page.execute_script("localStorage.removeItem('sqa-slow')")


def answer_for(question: str) -> str:
    answers = ((("称呼", "姓名"), "张秀英"), (("年纪", "年龄"), "82岁"), (("住在",), "3栋2单元501"),
               (("电话",), "13812345678"), (("忌口",), "没有"), (("食堂", "送餐"), "送餐上门"))
    for words, answer in answers:
        if any(w in question for w in words):
            return answer
    raise AssertionError(f"unexpected question: {question}")


def test_keyboard_only_request_form_to_a_reference_number_then_a_reload_keeps_it(page, axe_source):
    from selenium.webdriver.common.action_chains import ActionChains

    actions = ActionChains(page)
    actions.send_keys(Keys.TAB).perform()
    actions.send_keys(Keys.ENTER).perform()  # 跳到输入框
    wait(page, lambda d: d.switch_to.active_element.get_attribute("id") == "text", 5)

    def type_and_send(text: str) -> None:
        before = len(css(page, ".msg.bot"))
        actions.send_keys(text, Keys.ENTER).perform()
        wait(page, lambda d: len(css(d, ".msg.bot")) > before)
        assert page.switch_to.active_element.get_attribute("id") == "text"

    type_and_send("帮我妈报个助餐")
    for _ in range(8):
        if css(page, ".msg.bot:last-child .check"):
            break
        type_and_send(answer_for(css(page, ".msg.bot .text")[-1].text))
    # No 👍/👎 under the form's questions.
    assert css(page, "button.rate") == []
    # The summary as "check your answers": each row with 更改; confirm primary; cancel apart.
    rows = css(page, ".msg.bot:last-child .check-row")
    labels = [r.find_element("css selector", "dt").text for r in rows]
    assert "姓名" in labels and "联系电话" in labels
    changes = css(page, ".msg.bot:last-child button.change")
    assert len(changes) == len(rows) - 1 and changes[0].get_attribute("aria-label").startswith("更改")
    confirm = css(page, ".msg.bot:last-child button.primary")[0]
    cancel = css(page, ".msg.bot:last-child .apart button.cancel")[0]
    assert confirm.text == "确认提交" and cancel.text == "取消办理"
    assert rect(page, cancel)["top"] - rect(page, confirm)["bottom"] >= 24  # far apart
    assert rect(page, confirm)["height"] >= 48
    assert run_axe(page, axe_source) == []
    # 更改 puts "<label>改成" in the box, ready to type.
    changes[0].send_keys(Keys.ENTER)
    field = css(page, "#text")[0]
    assert page.switch_to.active_element == field and field.get_attribute("value").endswith("改成")
    field.clear()
    for _ in range(30):  # Shift+Tab back up to 确认提交
        actions.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        if page.switch_to.active_element == confirm:
            break
    assert page.switch_to.active_element == confirm
    before = len(css(page, ".msg.bot"))
    actions.send_keys(Keys.ENTER).perform()
    wait(page, lambda d: len(css(d, ".msg.bot")) > before)
    final = css(page, ".msg.bot")[-1]
    reference = final.find_elements("css selector", "strong.ref")[0]
    ref = reference.text.split()[-1]  # after its spoken label, 办理编号
    assert ref.startswith("SQ-") and "办理编号" in reference.get_attribute("textContent")
    # The finished step's buttons are inert now; the answer with the number can be rated.
    assert page.execute_script("return !!arguments[0].closest('[inert]')", confirm)
    assert len(final.find_elements("css selector", "button.rate")) == 2
    # A reload keeps the conversation, the reference number included.
    page.refresh()
    wait_ready(page)
    wait(page, lambda d: any(r.text.endswith(ref) for r in css(d, "#log strong.ref")), 15)
    assert css(page, "#log .divider")
    assert run_axe(page, axe_source) == []


def test_reflow_at_320_px_in_large_mode_with_a_long_reference(page, stack, store):
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**PHONE, "width": 320, "height": 640})
    try:
        page.execute_script("localStorage.setItem('sqa-large', '1')")
        page.get(stack.web + "/")
        wait_ready(page)
        rid = page.get_cookie("sqa_rid")["value"]
        store.notifications.notify("web", f"web-{rid}", "您的申请编号 SQ-20261202-0002 已受理，"
                                   "有事请打 010-8765-4300。", kind="status")
        wait(page, lambda d: css(d, ".msg.push strong.ref"), 20)
        ask(page, "高龄津贴怎么申请")
        if css(page, "#more")[0].get_attribute("aria-expanded") == "false":
            css(page, "#more")[0].click()  # the folded extras too
        overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, overflow
        for element in css(page, "strong.ref, .msg, #form, header, button"):
            if element.is_displayed():
                assert rect(page, element)["right"] <= 320.5, element.text
        # Phone numbers can be called with a tap; so can the emergency numbers in the footer.
        assert css(page, ".msg.push a[href='tel:01087654300']")
        assert [a.get_attribute("href") for a in css(page, "footer a")] == ["tel:110", "tel:119", "tel:120"]
        page.save_screenshot(str(ARTIFACTS / "webchat-320-large.png"))
    finally:
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_focus_ring_on_the_blue_header_has_at_least_3_to_1(page):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(page).send_keys(Keys.TAB, Keys.TAB).perform()  # past the skip link, to 大字模式
    focused = page.switch_to.active_element
    assert focused.get_attribute("id") == "large"
    ring = page.execute_script("return getComputedStyle(arguments[0]).outlineColor", focused)
    header = page.execute_script("return getComputedStyle(document.querySelector('header')).backgroundColor")

    def luminance(rgb: str) -> float:
        channels = [int(v) / 255 for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(ring), luminance(header)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 3
