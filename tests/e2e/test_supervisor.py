"""Faults injected into the real assistant: `kill -9` of each server the launcher started.

The launcher restarts the server (bot.supervisor); meanwhile a resident on the web chat is
told the system is recovering (an emergency gets the number to call first), never an empty
reply and never a server error. The fast tests at the top run the supervisor on tiny
processes; the slow ones share one real stack (Rasa, actions, web chat) for the module.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.supervisor import Backoff, Child, StartupError, Supervisor
from tools.stack import is_alive, post_json, start_stack, stop_stack

ROOT = Path(__file__).resolve().parents[2]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
RECOVERING = "系统正在恢复"


# -- the supervisor on tiny processes -------------------------------------------------------------


def test_backoff_doubles_to_a_limit_and_resets_after_a_long_run():
    backoff = Backoff(first=1, limit=30, reset_after=60)
    assert [backoff.next(uptime=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.next(uptime=61) == 1
    assert backoff.next(uptime=5) == 2


def supervise(*children: Child) -> Supervisor:
    supervisor = Supervisor(list(children), dict(os.environ), ROOT)
    supervisor.start()
    return supervisor


def until(condition, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def test_a_killed_child_is_restarted_with_backoff_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="launcher")
    child = Child("sleeper", SLEEPER, None, backoff=Backoff(first=0.2, limit=1))
    supervisor = supervise(child)
    try:
        supervisor.wait_until_ready(10)
        first = child.process.pid
        os.kill(first, signal.SIGKILL)
        until(lambda: supervisor.check() or child.process.pid != first)
        second = child.process.pid
        os.kill(second, signal.SIGKILL)
        until(lambda: supervisor.check() or child.process.pid != second)
        assert not is_alive(first) and not is_alive(second) and is_alive(child.process.pid)
    finally:
        supervisor.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["sleeper stopped (code -9); restarting in 0s"] * 2
    assert child.backoff.current == 0.8  # 0.2, then 0.4 (the second run was short), next 0.8
    assert not is_alive(child.process.pid)


def test_a_critical_child_that_cannot_start_stops_start_up_and_a_channel_does_not():
    broken = Child("rasa", [sys.executable, "-c", "raise SystemExit(3)"], "http://127.0.0.1:9/")
    channel = Child("telegram", [sys.executable, "-c", "raise SystemExit(4)"], None, critical=False,
                    backoff=Backoff(first=0.1))
    supervisor = supervise(broken)
    try:
        with pytest.raises(StartupError, match="rasa exited with code 3"):
            supervisor.wait_until_ready(10)
    finally:
        supervisor.stop()
    sleeper = Child("actions", SLEEPER, None)
    supervisor = supervise(sleeper, channel)
    try:
        until(lambda: channel.process.poll() is not None)
        supervisor.wait_until_ready(10)  # the channel's exit does not stop start-up...
        first = channel.process.pid
        until(lambda: supervisor.check() or channel.process.pid != first)  # ...it is restarted
    finally:
        supervisor.stop()
    assert not is_alive(sleeper.process.pid)


def test_stop_kills_what_a_child_left_in_its_group():
    # A child that starts a grandchild in its own process group, then ignores SIGTERM.
    code = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); time.sleep(120)")
    child = Child("stubborn", [sys.executable, "-c", code], None)
    supervisor = Supervisor([child], dict(os.environ), ROOT)
    supervisor.start()
    grandchild = None
    try:
        grandchild = int(until(lambda: _children_of(child.process.pid)))
    finally:
        supervisor.stop(grace_s=0.5)
    assert not is_alive(child.process.pid) and grandchild
    until(lambda: not is_alive(grandchild), timeout=5)  # SIGKILLed with the group; it takes a moment


def _children_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0]
    except (OSError, IndexError):
        return ""


# -- the real assistant --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("var"))
    yield stack
    stop_stack(stack)


@pytest.fixture
def up(stack):
    """The stack with every server up (an earlier test may have left one restarting)."""
    stack.wait_up(timeout=180)
    return stack


def web_chat(stack, text: str, cookie: str = "sqa_rid=" + "ab" * 16) -> dict:
    """What the web chat page gets for ``text``; fails on anything but 200."""
    request = urllib.request.Request(
        f"{stack.web}/api/chat", data=json.dumps({"message": text}).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie},
    )
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise AssertionError(f"web chat answered HTTP {err.code}: {err.read()[:300]!r}") from err


def heard(body: dict) -> str:
    """The text the resident reads, which is never empty."""
    text = "\n".join(m.get("text") or "" for m in body["messages"]).strip()
    assert text, body
    return text


def rest(stack, text: str, sender: str) -> str:
    messages, _ = post_json(f"{stack.rasa}/webhooks/rest/webhook", {"sender": sender, "message": text})
    return "\n".join(m.get("text") or "" for m in messages)


def serves_again(stack, text: str, words: str, sender: str, timeout: float) -> float:
    """Seconds from now until the REST channel answers ``text`` normally, with ``words``."""
    start = time.monotonic()
    while True:
        try:
            reply = rest(stack, text, sender)
            if reply.strip() and words in reply and RECOVERING not in reply:
                return time.monotonic() - start
        except (urllib.error.URLError, OSError, ValueError):
            pass
        assert time.monotonic() - start < timeout, f"not serving {timeout:.0f}s later:\n{stack.log()[-3000:]}"
        time.sleep(0.5)


@pytest.mark.slow
def test_kill_the_action_server(up):
    stack = up
    started = time.monotonic()
    stack.kill("actions")
    assert not stack.is_up("actions")
    # An answer that needs a custom action: the resident is told the system is recovering.
    said = heard(web_chat(stack, "高龄津贴怎么领"))
    assert RECOVERING in said and "010-8765-4300" in said
    back = serves_again(stack, "助餐在哪里吃", "【", "after-actions", timeout=60)
    assert time.monotonic() - started < 60
    serves_again(stack, "你好", "", "after-actions", timeout=5)
    assert RECOVERING not in heard(web_chat(stack, "失业登记在哪办"))
    print(f"\nactions: kill -9 to serving again {time.monotonic() - started:.1f}s "
          f"(first catalogue answer after {back:.1f}s); the resident heard: {said!r}")
    assert "actions stopped (code -9); restarting in 1s" in stack.log()


@pytest.mark.slow
def test_a_second_crash_soon_after_waits_longer(up):
    stack = up
    stack.kill("actions")
    until(lambda: "actions stopped (code -9); restarting in 2s" in stack.log(), timeout=10)
    stack.wait_up(["actions"], timeout=60)


@pytest.mark.slow
def test_kill_rasa(up):
    stack = up
    started = time.monotonic()
    stack.kill("rasa")
    said = heard(web_chat(stack, "你好"))
    assert said.startswith(RECOVERING) and "010-8765-4300" in said
    emergency = heard(web_chat(stack, "我家煤气泄漏了"))
    assert "119" in emergency.splitlines()[0]
    shown = page_shows_recovery(stack)
    back = serves_again(stack, "你好", "", "after-rasa", timeout=120)
    assert time.monotonic() - started < 120
    assert RECOVERING not in heard(web_chat(stack, "助餐在哪里吃"))
    print(f"\nrasa: kill -9 to serving again {time.monotonic() - started:.1f}s ({back:.1f}s of polling); "
          f"the resident heard {said!r}; an emergency: {emergency!r}; the page showed {shown!r}")
    assert "rasa stopped (code -9); restarting in 1s" in stack.log()


def page_shows_recovery(stack) -> str:
    """In headless Chromium: the page shows the recovery reply as an answer, and keeps the
    resident's text in the box to send again. Skipped without chromium."""
    if not Path("/usr/bin/chromium").is_file():
        return "(no chromium)"
    from selenium.webdriver.common.by import By

    from tests.support.browser import start_chromium

    driver = start_chromium(stack.var_dir / "chromium")
    try:
        driver.get(stack.web + "/")
        until(lambda: driver.execute_script("return document.readyState") == "complete", 30)
        driver.find_element(By.ID, "text").send_keys("高龄津贴怎么领")
        driver.find_element(By.ID, "send").click()
        answer = until(lambda: driver.find_elements(By.CSS_SELECTOR, ".msg.bot.recovering .text"), 30)
        text = answer[-1].text
        assert text.startswith(RECOVERING)
        assert driver.find_element(By.ID, "text").get_attribute("value") == "高龄津贴怎么领"
        assert not driver.find_elements(By.CSS_SELECTOR, ".msg.bot.recovering button.rate")
        return text
    finally:
        driver.quit()


@pytest.mark.slow
def test_kill_the_web_chat(up):
    stack = up
    started = time.monotonic()
    stack.kill("web")
    took = stack.wait_up(["web"], timeout=60)
    said = heard(web_chat(stack, "助餐在哪里吃"))
    assert "【" in said
    print(f"\nweb: kill -9 to serving again {time.monotonic() - started:.1f}s ({took:.1f}s of polling)")
    assert "web stopped (code -9); restarting in 1s" in stack.log()


@pytest.mark.slow
def test_ctrl_c_after_restarts_leaves_nothing_behind(up):
    stack = up
    children = stack.children()
    assert len(children) == 4  # actions, rasa, web and the phone line
    assert stop_stack(stack) == 0
    assert [pid for pid in children if is_alive(pid)] == []
    for url in stack.health.values():
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
