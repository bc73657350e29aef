"""Fixtures for the review and retraining tests: a copy of the project's training data, and a
tiny assistant (three intents) that trains in seconds, served by a real Rasa server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from community.settings import Settings
from community.training_data import HOLDOUT_DIR
from tools.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore",
}


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project's real training data, copied: tests never write to the real nlu_data/."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "config.yml", root / "config.yml")
    for name in ("domain", "nlu_data"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("reviewed.yml"))
    shutil.copytree(ROOT / HOLDOUT_DIR, root / HOLDOUT_DIR)
    return root


TINY_CONFIG = """\
recipe: default.v1
language: zh
assistant_id: tiny-review-fixture
pipeline:
  - name: nlu_components.tokenizer.NormalizingJiebaTokenizer
  - name: nlu_components.classifier.TfidfIntentClassifier
    char_ngram_range: [1, 2]
    word_ngram_range: [1, 1]
  - name: nlu_components.fallback.CommunityFallbackClassifier
    threshold: 0.2
    ambiguity_threshold: 0.05
policies:
  - name: RulePolicy
"""

TINY_DOMAIN = """\
version: "3.1"
intents:
  - greet
  - elderly_meal
  - out_of_scope
responses:
  utter_greet:
    - text: 您好！我是社区服务助手。
  utter_meal:
    - text: 老年助餐点在社区服务中心一楼，每天11点开饭。
  utter_out_of_scope:
    - text: 抱歉，这个我帮不上忙。
  utter_default:
    - text: 这个问题我暂时答不上来。
"""

TINY_NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好
    - 早上好
    - 嗨
    - 晚上好
    - 在吗
- intent: elderly_meal
  examples: |
    - 老年助餐在哪里吃
    - 助餐点在哪
    - 老人吃饭的食堂
    - 社区食堂几点开饭
    - 老年食堂怎么订餐
    - 助餐一顿多少钱
- intent: out_of_scope
  examples: |
    - 今天天气怎么样
    - 给我讲个笑话
    - 股票会涨吗
    - 你会唱歌吗
    - 推荐一部电影
    - 火星上有水吗
"""

TINY_RULES = """\
version: "3.1"
rules:
  - rule: greet
    steps: [{intent: greet}, {action: utter_greet}]
  - rule: meal
    steps: [{intent: elderly_meal}, {action: utter_meal}]
  - rule: out of scope
    steps: [{intent: out_of_scope}, {action: utter_out_of_scope}]
"""

TINY_HOLDOUT = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好呀
    - 您好啊
    - 早上好呀
- intent: elderly_meal
  examples: |
    - 助餐点在哪里
    - 老人食堂几点开饭
    - 老年助餐多少钱一顿
- intent: out_of_scope
  examples: |
    - 明天天气怎么样
    - 讲个笑话吧
    - 电影推荐一下
"""


def write_tiny_project(root: Path) -> Path:
    files = {
        "config.yml": TINY_CONFIG,
        "domain/intents.yml": TINY_DOMAIN,
        "nlu_data/nlu/base.yml": TINY_NLU,
        "nlu_data/rules/base.yml": TINY_RULES,
        "nlu_data_holdout/intents/holdout.yml": TINY_HOLDOUT,
        "credentials.yml": "rest:\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def rasa_train(root: Path, out: Path, name: str) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain",
         "--data", "nlu_data", "--out", str(out), "--fixed-model-name", name],
        cwd=root, env=ENV, capture_output=True, text=True, timeout=600,
    )
    model = out / f"{name}.tar.gz"
    assert result.returncode == 0 and model.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return model


@dataclass
class RasaServer:
    process: subprocess.Popen
    url: str
    settings: Settings
    root: Path
    first_model: Path
    log_path: Path

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))

    def post(self, path: str, payload: dict) -> object:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))

    def intent(self, text: str) -> str:
        return self.post("/model/parse", {"text": text})["intent"]["name"]

    def reply(self, text: str, sender: str = "resident-review") -> str:
        messages = self.post("/webhooks/rest/webhook", {"sender": sender, "message": text})
        return "\n".join(m.get("text", "") for m in messages)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory):
    """A tiny assistant's first model, served by `rasa run --enable-api` on a free port."""
    root = write_tiny_project(tmp_path_factory.mktemp("tiny"))
    port = free_port()
    ports = {"RASA_PORT": str(port), "ACTION_PORT": str(free_port()), "WEB_PORT": str(free_port())}
    settings = Settings.from_env({**ports, "MODEL_DIR": str(root / "models"), "VAR_DIR": str(root / "var")})
    model = rasa_train(root, settings.model_dir, "first")
    log_path = root / "rasa.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port),
             "-m", str(model), "--credentials", "credentials.yml"],
            cwd=root, env=ENV, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = RasaServer(process, settings.rasa_url, settings, root, model, log_path)
    deadline = time.monotonic() + 180
    while True:
        try:
            server.get("/status")
            break
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                _stop(process)
                pytest.fail("Rasa did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.5)
    yield server
    _stop(process)
