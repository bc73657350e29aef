"""``python -m bot.console`` account commands, staff hours, and the handoff action's answer
outside staff hours."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff as handoff_module
from actions import runtime
from actions.handoff import ActionHumanHandoff
from community.records.accounts import Accounts
from community.settings import Settings
from community.staff_hours import LOCAL_TZ, StaffHours, after_hours_notice
from community.store import Store

ROOT = Path(__file__).resolve().parents[4]
PASSWORD = "a long enough password"


def cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "bot.console", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_user_reads_the_password_from_stdin_and_it_logs_in(tmp_path):
    made = cli(tmp_path, "create-user", "wang", "--role", "staff", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    admin = cli(tmp_path, "create-user", "boss", "--role", "admin", "--password", PASSWORD)
    assert admin.returncode == 0, admin.stderr
    again = cli(tmp_path, "create-user", "wang", "--role", "staff", "--password", PASSWORD)
    assert again.returncode == 1 and "已存在" in again.stderr
    weak = cli(tmp_path, "create-user", "zhao", "--role", "staff", stdin="short\n")
    assert weak.returncode == 1 and "至少10位" in weak.stderr
    bad_role = cli(tmp_path, "create-user", "zhao", "--role", "root", "--password", PASSWORD)
    assert bad_role.returncode == 2
    listing = cli(tmp_path, "list-users")
    assert "boss\tadmin\tactive" in listing.stdout and "wang\tstaff\tactive" in listing.stdout
    assert cli(tmp_path, "disable-user", "wang").returncode == 0
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    console = Accounts(store.engine)
    assert console.authenticate("wang", PASSWORD).user is None
    assert cli(tmp_path, "enable-user", "wang").returncode == 0
    assert cli(tmp_path, "set-password", "wang", stdin="another long password\n").returncode == 0
    assert console.authenticate("wang", "another long password").user["role"] == "staff"
    assert any(a["action"] == "user_create" and a["actor"] == "cli" for a in store.audit.list())
    store.engine.dispose()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    "spec, moment, is_open",
    [
        ("周一至周五 8:30-17:30", local(2026, 11, 30, 9, 0), True),  # Monday morning
        ("周一至周五 8:30-17:30", local(2026, 11, 30, 17, 30), False),  # closing time
        ("周一至周五 8:30-17:30", local(2026, 11, 29, 10, 0), False),  # Sunday
        ("周一到周六 9:00-12:00；周日 14:00-16:00", local(2026, 11, 29, 15, 0), True),
        ("每天 8:00-20:00", local(2026, 11, 29, 19, 59), True),
    ],
)
def test_staff_hours(spec, moment, is_open):
    assert StaffHours.parse(spec).is_open(moment) is is_open


def test_after_hours_notice_says_when_someone_will_answer():
    spec = "周一至周五 8:30-17:30"
    assert after_hours_notice(spec, local(2026, 11, 30, 10, 0)) is None
    assert "明天（周一）8:30" in after_hours_notice(spec, local(2026, 11, 29, 10, 0))
    assert "今天 8:30" in after_hours_notice(spec, local(2026, 11, 30, 7, 0))
    assert "12月7日（周一）8:30" in after_hours_notice(spec, local(2026, 12, 5, 10, 0))
    assert after_hours_notice("请电话预约", local(2026, 11, 29, 10, 0)) is None  # never guess
    with pytest.raises(ValueError):
        StaffHours.parse("随时")


@pytest.fixture
def rt(tmp_path, catalogue):
    value = runtime.Runtime(
        settings=Settings(var_dir=tmp_path, staff_hours="周一至周五 8:30-17:30"),
        catalogue=catalogue,
        store=Store.from_url(f"sqlite:///{tmp_path / 'store.db'}"),
    )
    runtime.configure(value)
    yield value
    runtime.configure(None)


def ask_for_a_person(monkeypatch, moment: dt.datetime) -> str:
    monkeypatch.setattr(handoff_module, "utcnow", lambda: moment.astimezone(dt.timezone.utc))
    latest = {"text": "我要找真人", "intent": {"name": "human_handoff", "confidence": 0.99}, "entities": []}
    user = {"event": "user", "text": "我要找真人", "parse_data": latest, "metadata": {"channel": "web"}}
    tracker = Tracker("web-r1", {}, latest, [user], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionHumanHandoff().run(dispatcher, tracker, {}))
    return dispatcher.messages[0]["text"]


def test_outside_staff_hours_the_resident_is_told_when_someone_will_answer(rt, monkeypatch):
    text = ask_for_a_person(monkeypatch, local(2026, 11, 29, 21, 0))  # Sunday evening
    assert "下班时间" in text and "明天（周一）8:30" in text and "110/120/119" in text
    assert len(text.splitlines()) <= 3
    [waiting] = rt.store.handoffs.list()
    assert waiting["status"] == "waiting" and waiting["conversation_id"] == "web-r1"  # still in the inbox


def test_in_staff_hours_the_resident_is_told_to_wait_here(rt, monkeypatch):
    text = ask_for_a_person(monkeypatch, local(2026, 11, 30, 10, 0))
    assert "请稍等" in text and "下班" not in text
