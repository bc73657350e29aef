"""The disk under var/ fills up (a small tmpfs): every store of the assistant is on it.

What the resident hears: an emergency still gets 119/110/120 first; a request that can be kept
nowhere is reported as not saved (never "好的" with nothing stored); once space is back the
emergency reaches the staff inbox and the assistant serves as before.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import pytest

from tests.support.rest_chat import meal_form_to_summary, say, texts, until
from tools.stack import start_stack, stop_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for var/ needs root (CI runs as root)")
    root = tmp_path_factory.mktemp("disk-full")
    var = root / "var"
    var.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", str(var)], check=True)
    try:
        stack = start_stack(var, log_path=root / "launcher.log")
        try:
            yield stack
        finally:
            stop_stack(stack)
    finally:
        subprocess.run(["umount", "-l", str(var)], check=False)


def fill(path) -> None:
    """Write until the disk says no space is left (big pieces, then small ones)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)


def handoff_senders(stack) -> set[str]:
    with sqlite3.connect(stack.var_dir / "community.db") as db:
        return {r[0] for r in db.execute("SELECT conversation_id FROM handoffs")}


def test_a_full_disk_still_answers_emergencies_and_loses_nothing_silently(stack):
    sender = "rest-disk-full"
    meal_form_to_summary(stack, sender)
    filler = stack.var_dir / "filler"
    fill(filler)
    try:
        started = time.monotonic()
        emergency = say(stack, "着火了，快来人", "rest-disk-fire")
        confirmed = texts(say(stack, "确认", sender))
        assert time.monotonic() - started < 20
    finally:
        filler.unlink()
    assert emergency[0]["text"].startswith("请马上拨打 119")
    with sqlite3.connect(stack.var_dir / "community.db") as db:
        rows = db.execute("SELECT ref FROM service_requests WHERE conversation_id = ?", (sender,))
        stored = [r[0] for r in rows]
    if stored:  # the pages it needed were free after all: then the resident has the reference
        assert stored[0] in confirmed
    else:
        assert "没能保存" in confirmed or "安全保存" in confirmed or "无法保存" in confirmed
    # Space is back: the emergency reaches staff, and the assistant serves as before.
    assert until(lambda: "rest-disk-fire" in handoff_senders(stack), timeout=90)
    assert "【" in texts(say(stack, "助餐在哪里吃", "rest-disk-after"))
