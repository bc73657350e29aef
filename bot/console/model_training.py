"""The heavy steps of a retraining job, each in a child process so the web app stays
responsive: ``rasa train`` into ``<model_dir>/candidates/`` (progress read from its
"Finished training" lines) and the held-out evaluation of ``make eval``
(``python -m bot.console.retrain evaluate``, :func:`evaluate_main`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.console.retrain_errors import RetrainError, last_line
from community.settings import PROJECT_ROOT


class ModelTraining:
    """Train a candidate model and measure held-out accuracy, in child processes."""

    def __init__(
        self,
        root: Path,
        *,
        config_path: Path,
        data_paths: list[Path],
        domain_path: Path,
        holdout_dir: Path,
        candidates: Path,
        train_timeout: float,
        on_progress: Callable[[int, str], None],
    ):
        self.root = root
        self.config_path = config_path
        self.data_paths = data_paths
        self.domain_path = domain_path
        self.holdout_dir = holdout_dir
        self.candidates = candidates
        self.train_timeout = train_timeout
        self.on_progress = on_progress
        self._accuracy_cache: dict[tuple, float] = {}
        # model path → held-out results per intent ({"precision", "recall", "f1", "support"}),
        # for the gate report.
        self.per_intent: dict[str, dict] = {}

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        paths = [str(PROJECT_ROOT)] + ([str(self.root)] if self.root != PROJECT_ROOT else [])
        env.update(
            PYTHONPATH=os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONWARNINGS="ignore",
        )
        return env

    def _expected_components(self) -> int:
        try:
            config = yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}
            return max(1, len(config.get("pipeline") or []) + len(config.get("policies") or []))
        except (OSError, yaml.YAMLError):
            return 8

    def train(self) -> Path:
        """``rasa train`` in a child process; progress from its "Finished training" lines."""
        name = "reviewed-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        log_path = self.candidates / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--config",
            str(self.config_path),
            "--domain",
            str(self.domain_path),
            "--data",
            *[str(p) for p in self.data_paths],
            "--out",
            str(self.candidates),
            "--fixed-model-name",
            name,
        ]
        expected = self._expected_components()
        finished = 0
        output: list[str] = []
        deadline = time.monotonic() + self.train_timeout
        with open(log_path, "w", encoding="utf-8") as log_file:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self._env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
            timer = threading.Timer(self.train_timeout, self._kill, args=(process,))
            timer.start()
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    log_file.write(line)
                    output.append(line)
                    del output[:-200]
                    if "Finished training component" in line:
                        finished += 1
                        progress = 5 + int(50 * min(finished, expected) / expected)
                        self.on_progress(progress, f"正在训练新模型（第 {finished} / {expected} 步）…")
                    elif "Started validating" in line:
                        self.on_progress(4, "正在检查训练数据…")
                code = process.wait()
            finally:
                timer.cancel()
        model = self.candidates / f"{name}.tar.gz"
        if time.monotonic() > deadline:
            raise RetrainError("train-timeout", f"训练超过 {self.train_timeout / 60:.0f} 分钟，已停止。")
        if code != 0 or not model.is_file():
            reason = last_line("".join(output))
            raise RetrainError("train-failed", f"训练失败：{reason}（详见 {log_path}）", reason)
        return model

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _holdout_fingerprint(self) -> tuple:
        files = sorted(self.holdout_dir.rglob("*.y*ml")) if self.holdout_dir.is_dir() else []
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)

    def evaluate(self, models: list[Path]) -> dict[str, float]:
        """Held-out intent accuracy (classifier top-1, as ``make eval``) of each model."""
        holdout = self._holdout_fingerprint()
        if not holdout:
            raise RetrainError("no-holdout", f"找不到留出测试集 {self.holdout_dir}，无法检查新模型。")
        keys = {m: (str(m), m.stat().st_mtime_ns, m.stat().st_size, holdout) for m in models}
        todo = [m for m in models if keys[m] not in self._accuracy_cache]
        if todo:
            command = [
                sys.executable,
                "-m",
                "bot.console.retrain",
                "evaluate",
                "--holdout",
                str(self.holdout_dir),
                *[str(m) for m in todo],
            ]
            try:
                result = subprocess.run(
                    command,
                    cwd=self.root,
                    env=self._env(),
                    capture_output=True,
                    text=True,
                    timeout=self.train_timeout,
                    start_new_session=True,
                )
            except subprocess.TimeoutExpired as err:
                raise RetrainError("eval-timeout", "检查准确率超时。") from err
            if result.returncode != 0:
                reason = last_line(result.stderr or result.stdout)
                raise RetrainError("eval-failed", f"检查准确率失败：{reason}", reason)
            summaries = json.loads(result.stdout.strip().splitlines()[-1])
            for m in todo:
                self._accuracy_cache[keys[m]] = float(summaries[str(m)]["intent_accuracy"])
                self.per_intent[str(m)] = summaries[str(m)].get("per_intent") or {}
        return {str(m): self._accuracy_cache[keys[m]] for m in models}


def evaluate_main(holdout: str, models: list[str]) -> int:
    """Child process of :meth:`ModelTraining.evaluate`: one JSON line, model path → summary."""
    from community.intents import report_domain
    from nlu_eval import runner as nlu_runner
    from nlu_eval.metrics import summarise

    nlu_runner.quiet()
    examples = nlu_runner.load_examples(holdout)
    result = {}
    for model in models:
        summary = summarise(nlu_runner.classify(Path(model), examples), report_domain)
        result[model] = {
            k: summary[k]
            for k in (
                "examples",
                "intent_accuracy",
                "intent_macro_f1",
                "routed_accuracy",
                "in_scope_false_rejection_rate",
                "per_intent",
            )
        }
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0
