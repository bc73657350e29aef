"""The admin's retrain, end to end on a tiny assistant served by a real Rasa server: a better
model is loaded while the server keeps answering; a worse one is rejected and the old one keeps
serving; failures say why."""

from __future__ import annotations

import threading
import time
import urllib.error
from pathlib import Path

import pytest

from bot.console.retrain import Retrainer
from community.settings import Settings
from community.training_data import TrainingData

pytestmark = pytest.mark.slow

PARKING_ANSWER = "小区地面停车每月150元，请到物业服务中心办理。"


class Poller:
    """A resident who keeps asking while the model is retrained and swapped."""

    def __init__(self, server):
        self.server, self.answers, self.failures = server, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.server.intent("助餐点在哪")
                self.answers += 1
            except (urllib.error.URLError, OSError) as err:
                self.failures.append(repr(err))
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def wait_for(retrainer: Retrainer, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while retrainer.status()["state"] in ("training", "evaluating", "loading"):
        status = retrainer.status()
        seen.append((status["state"], status["progress"]))
        assert time.monotonic() < deadline, f"retrain did not finish: {status}"
        time.sleep(0.2)
    status = retrainer.status()
    status["seen"] = seen
    return status


def test_a_better_model_is_loaded_without_downtime_and_answers_the_new_question(tiny_server):
    server = tiny_server
    before = server.get("/status")["model_file"]
    assert before == "first.tar.gz"
    assert server.intent("小区停车费怎么收") != "faq_parking_fee"

    TrainingData(server.root).create_intent(
        "faq_parking_fee", "小区停车收费", PARKING_ANSWER,
        ["小区停车费怎么收", "停车位一个月多少钱", "外来车辆停车收费吗", "地面车位怎么收费", "停车怎么交钱"],
        reviewer="王芳",
    )
    retrainer = Retrainer(server.settings, server.root)
    assert retrainer.status()["state"] == "idle"
    with Poller(server) as resident:
        started = time.monotonic()
        assert retrainer.start("admin") is True
        assert time.monotonic() - started < 1  # the web app is not held up
        assert retrainer.start("admin") is False  # one job at a time
        assert Retrainer(server.settings, server.root).start("other-worker") is False
        status = wait_for(retrainer)
    assert status["state"] == "done", status
    assert status["loaded"] is True and status["progress"] == 100
    assert status["new_accuracy"] >= status["old_accuracy"] > 0.5
    assert status["started_at"] and status["finished_at"] and "上线" in status["message"]
    states = [s for s, _ in status["seen"]]
    assert "training" in states and "evaluating" in states
    progress = [p for _, p in status["seen"]]
    assert progress == sorted(progress)

    model = Path(status["model_path"])
    assert model.parent == server.settings.model_dir and model.is_file()
    assert (server.settings.model_dir / "first.tar.gz").is_file()  # not overwritten
    assert server.get("/status")["model_file"] == model.name
    assert server.intent("小区停车费怎么收") == "faq_parking_fee"
    assert server.reply("请问小区停车费怎么收？") == PARKING_ANSWER
    assert server.intent("助餐点在哪") == "elderly_meal"
    assert resident.answers > 10 and resident.failures == []
    # Another web worker sees the same outcome.
    assert Retrainer(server.settings, server.root).status()["state"] == "done"


def test_a_worse_model_is_rejected_and_the_current_one_keeps_serving(tiny_server):
    server = tiny_server
    serving = server.get("/status")["model_file"]
    # A reviewer files meal questions under out_of_scope by mistake.
    TrainingData(server.root).add_examples(
        "out_of_scope",
        ["助餐点在哪里啊", "老年食堂几点开饭", "老人食堂几点开门", "助餐多少钱一顿", "老年助餐一顿多少钱",
         "社区助餐点在哪里", "助餐点几点开饭", "老人食堂在哪", "老年助餐点几点开", "助餐一顿饭多少钱"],
        reviewer="新来的",
    )
    retrainer = Retrainer(server.settings, server.root)
    assert retrainer.start("admin") is True
    status = wait_for(retrainer)
    assert status["state"] == "rejected", status
    assert status["new_accuracy"] < status["old_accuracy"]
    assert status["loaded"] is False and "没有上线" in status["message"]
    rejected = Path(status["model_path"])
    assert rejected.is_file() and rejected.parent != server.settings.model_dir
    assert sorted(p.name for p in server.settings.model_dir.glob("*.tar.gz")) == sorted(
        ["first.tar.gz", serving])  # the launcher would still start the model that was serving
    assert server.get("/status")["model_file"] == serving
    assert server.reply("小区停车费怎么收") == PARKING_ANSWER
    assert server.intent("助餐点在哪里") == "elderly_meal"


def test_when_rasa_is_not_running_the_job_fails_and_says_so(tiny_server, tmp_path):
    settings = Settings.from_env({"RASA_PORT": "9", "MODEL_DIR": str(tmp_path / "models")})
    retrainer = Retrainer(settings, tiny_server.root)
    assert retrainer.start("admin") is True
    status = wait_for(retrainer, timeout=60)
    assert status["state"] == "failed" and "连不上 Rasa" in status["message"]
    assert status["loaded"] is False and status["finished_at"]


def test_training_that_fails_says_why_and_nothing_changes(tiny_server, tmp_path):
    server = tiny_server
    serving = server.get("/status")["model_file"]
    config = tmp_path / "broken.yml"
    config.write_text(
        (server.root / "config.yml").read_text(encoding="utf-8").replace(
            "nlu_components.classifier.TfidfIntentClassifier", "NoSuchClassifier"),
        encoding="utf-8",
    )
    retrainer = Retrainer(server.settings, server.root, config_path=config)
    assert retrainer.start("admin") is True
    status = wait_for(retrainer)
    assert status["state"] == "failed" and status["message"].startswith("训练失败")
    assert "NoSuchClassifier" in status["message"]
    assert server.get("/status")["model_file"] == serving


def test_after_a_retrain_reviewed_questions_are_asked_again_and_the_report_names_intents(
    tiny_server, tmp_path
):
    """Proving the fix (issue 17): the questions staff reviewed are asked of the new model;
    "这批问题：N 条现在能答了，M 条还不行"; those still failing are back in the queue, marked; the
    gate report names each new or changed intent in Chinese with its examples and held-out
    results."""
    from community.store import Store

    server = tiny_server
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    queue = store.review_queue
    swim = ["社区有没有游泳池", "游泳池在哪里", "社区游泳馆开不开"]
    ids = [queue.record(text=t, channel="web", conversation_id=f"web-s{i}", reason="fallback", top_intents=[])
           for i, t in enumerate(swim)]
    data = TrainingData(server.root)
    answer = "社区没有游泳池，最近的游泳馆在体育中心。"
    data.create_intent("faq_you_yong_chi", "游泳池", answer, swim, reviewer="王芳")
    queue.review(ids, "new_intent", reviewer="王芳", intent="faq_you_yong_chi")
    # Taught as a greeting with one example against six strong meal examples: still fails.
    odd = queue.record(text="食堂开饭了没", channel="web", conversation_id="web-odd", reason="rated_down",
                       top_intents=[])
    data.add_examples("greet", ["食堂开饭了没"], reviewer="王芳")
    queue.review([odd], "assigned", reviewer="王芳", intent="greet")

    # The odd example may cost held-out accuracy; the gate is tested above, the recheck here.
    retrainer = Retrainer(server.settings, server.root, store=store, tolerance=0.5)
    assert retrainer.start("admin") is True
    status = wait_for(retrainer)
    assert status["state"] == "done", status["message"]
    recheck = status["recheck"]
    assert recheck["per_intent"]["faq_you_yong_chi"]["answered"] >= 2
    assert f"这批问题：{recheck['answered']} 条现在能答了，{recheck['failing']} 条还不行" in status["message"]
    rows = {r["id"]: r for r in queue.questions([*ids, odd])}
    failing = [i for i, r in rows.items() if r["recheck"] == "still_failing"]
    assert all(rows[i]["status"] == "new" for i in failing)  # back in the queue, marked
    assert all(rows[i]["status"] == "new_intent" for i in ids if i not in failing)
    report = {r["label"]: r for r in status["report"]}
    assert report["游泳池"]["kind"] == "新问题" and report["游泳池"]["examples"] == swim
    assert "留出测试题里没有这类问题" in report["游泳池"]["holdout"]
    assert report["打招呼"]["kind"] == "补充例句" and report["打招呼"]["holdout"].startswith("留出测试 3 题")
    # Asked again only once: the next retrain has nothing new to recheck.
    assert queue.unchecked() == []
