"""Two web processes and two notification producers on one PostgreSQL store (issue 15): every
notification reaches its resident exactly once, whichever process holds the resident's event
stream (some residents have a page on each), and promptly (LISTEN/NOTIFY wakes both)."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest

from community.store import Store
from tools.stack import free_port, is_up

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[3]
RESIDENTS = 20
PER_PRODUCER = 40


@pytest.fixture
def web_processes(pg_url, tmp_path):
    Store.from_url(pg_url)  # migrated once, before both start
    processes, ports = [], []
    for n in range(2):
        port = free_port()
        env = {**os.environ, "DATABASE_URL": pg_url, "WEB_PORT": str(port), "RASA_PORT": str(free_port()),
               "ACTION_PORT": str(free_port()), "VAR_DIR": str(tmp_path / f"var{n}"),
               "VOSK_MODEL_PATH": str(tmp_path / "no-model")}
        log = open(tmp_path / f"web{n}.log", "w")  # noqa: SIM115 - closed with the process
        processes.append(subprocess.Popen([sys.executable, "-m", "bot.webchat"], cwd=ROOT, env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
        ports.append(port)
    deadline = time.monotonic() + 120
    while not all(is_up(f"http://127.0.0.1:{p}/healthz") for p in ports):
        assert time.monotonic() < deadline, (tmp_path / "web0.log").read_text()[-2000:]
        assert all(p.poll() is None for p in processes), (tmp_path / "web0.log").read_text()[-2000:]
        time.sleep(0.3)
    yield ports
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


async def stream(port: int, rid: str, got: collections.Counter, stop: asyncio.Event) -> None:
    """A page: read pushes from the event stream and acknowledge each, as chat.js does."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookies={"sqa_rid": rid}) as session:
        async with session.get(f"{base}/api/events", timeout=aiohttp.ClientTimeout(total=None)) as response:
            reader = asyncio.create_task(_read(response, session, base, got))
            await stop.wait()
            reader.cancel()


async def _read(response, session, base, got) -> None:
    event = None
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "push":
            data = json.loads(line.split(":", 1)[1])
            got[data["id"]] += 1
            await session.post(f"{base}/api/ack", json={"ids": [data["id"]]})
            event = None


def test_each_notification_is_delivered_exactly_once(web_processes, pg_url):
    residents = [secrets.token_hex(16) for _ in range(RESIDENTS)]
    store = Store.from_url(pg_url, migrate=False)
    queued: list[int] = []
    lock = threading.Lock()

    def producer(n: int) -> None:  # e.g. the staff console in each web process, or a worker
        for i in range(PER_PRODUCER):
            rid = residents[(n * PER_PRODUCER + i) % RESIDENTS]
            text = f"您的申请有新进展（{n}-{i}）"
            row = store.notifications.notify("web", f"web-{rid}", text, kind="status")
            with lock:
                queued.append(row)

    async def run() -> tuple[collections.Counter, float]:
        got: collections.Counter = collections.Counter()
        stop = asyncio.Event()
        pages = []
        for i, rid in enumerate(residents):
            pages.append(asyncio.create_task(stream(web_processes[i % 2], rid, got, stop)))
            if i % 5 == 0:  # a second page, on the other process
                pages.append(asyncio.create_task(stream(web_processes[(i + 1) % 2], rid, got, stop)))
        await asyncio.sleep(2)  # streams open
        start = time.monotonic()
        threads = [threading.Thread(target=producer, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        await asyncio.to_thread(lambda: [t.join() for t in threads])
        while len(got) < len(queued) and time.monotonic() - start < 40:
            await asyncio.sleep(0.1)
        took = time.monotonic() - start
        await asyncio.sleep(3)  # anything pushed twice would show now
        stop.set()
        await asyncio.gather(*pages, return_exceptions=True)
        return got, took

    got, took = asyncio.run(run())
    print(f"{len(queued)} notifications, all delivered after {took:.1f} s")
    assert set(got) == set(queued), f"missing: {sorted(set(queued) - set(got))[:10]}"
    assert [i for i, n in got.items() if n != 1] == [], "a notification was pushed more than once"
    assert not store.notifications.pending("web"), "every notification acknowledged"
