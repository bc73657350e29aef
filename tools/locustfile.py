"""Residents for locust (``make loadtest`` runs it through :mod:`tools.loadtest`).

A realistic mix, each visit a new conversation on the REST channel (what the web chat, Telegram
and the phone line all call):

* 60 % catalogue questions (one to three questions, as residents ask them);
* 15 % a request form to the end (6 turns: the request with its details, name, phone, notes,
  delivery, confirm; stored in the database before the answer);
* 15 % progress queries (我的申请到哪了 / 查进度);
* 10 % handoffs to staff (我要找人工; recorded in the staff inbox).

A turn fails when the answer is not HTTP 200 or holds no text. Two ways to load:

* closed loop (``LOAD_MODE=closed``): every resident sends the next message as soon as the
  answer came; the throughput is what the servers manage;
* open loop (``LOAD_MODE=open``, ``LOAD_RATE`` turns/s over all users): each user paces its
  visits at ``LOAD_RATE / users / 2.35`` per second (2.35 turns a visit) whatever the
  answers' latency (locust's ``constant_throughput``); a visit's turns follow one another.
  Run many more users than the rate times the expected latency, so a user is rarely still
  busy when its next visit is due: arrivals then keep their rate while latency grows, as they
  do at a real service counter.

    .venv/bin/locust -f tools/locustfile.py --headless -u 200 -r 50 -t 60s --host http://127.0.0.1:5005
"""

from __future__ import annotations

import os
import random
import uuid

import gevent
from locust import HttpUser, constant, constant_throughput, task

QUESTIONS = [
    "高龄津贴怎么申请", "居委会能开无犯罪证明吗", "我妈想报个助餐", "孩子放学没人接有托管吗",
    "失业登记去哪办", "残疾证怎么办", "家庭医生怎么签约", "我想当志愿者", "低保怎么申请",
    "法律援助找谁", "老人体检什么时候",
    "楼上装修太吵了怎么办", "居住证明在哪开", "老年卡怎么办", "托育补贴有吗", "谢谢", "你好",
]
FORM = ["我想给我妈报个助餐她82了住3栋2单元501", "王秀英", "13812345678", "不吃辣", "送餐上门", "确认"]
PROGRESS = ["我的申请到哪了", "查一下我的申请进度", "我上次办的助餐批下来没有"]
HANDOFF = ["我要找人工", "转人工客服", "我想跟工作人员说"]

MODE = os.environ.get("LOAD_MODE", "closed")
RATE = float(os.environ.get("LOAD_RATE", "10"))  # turns/s over all users (open loop)
USERS = int(os.environ.get("LOAD_USERS", "100"))
# Turns in an average visit (0.6 × 2 + 0.15 × 6 + 0.25 × 1): visits are paced, turns follow.
TURNS_PER_VISIT = 2.35


class Resident(HttpUser):
    wait_time = constant(0) if MODE == "closed" else constant_throughput(RATE / USERS / TURNS_PER_VISIT)

    def on_start(self) -> None:
        if MODE == "open":  # first visits spread over one pacing interval: no burst at the start
            gevent.sleep(random.uniform(0, USERS * TURNS_PER_VISIT / RATE))

    def turn(self, sender: str, text: str, name: str) -> None:
        with self.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text},
                              name=name, catch_response=True, timeout=60) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            try:
                messages = response.json()
            except ValueError:
                response.failure("not JSON")
                return
            if not messages or not any(m.get("text") for m in messages):
                response.failure("empty answer")

    def sender(self) -> str:
        return f"load-{uuid.uuid4().hex[:16]}"

    @task(60)
    def catalogue(self) -> None:
        sender = self.sender()
        for text in random.sample(QUESTIONS, random.randint(1, 3)):
            self.turn(sender, text, "catalogue")

    @task(15)
    def form(self) -> None:
        sender = self.sender()
        for text in FORM:
            self.turn(sender, text, "form")

    @task(15)
    def progress(self) -> None:
        self.turn(self.sender(), random.choice(PROGRESS), "progress")

    @task(10)
    def handoff(self) -> None:
        self.turn(self.sender(), random.choice(HANDOFF), "handoff")
