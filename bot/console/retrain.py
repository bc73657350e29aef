"""The admin's "retrain" (重新训练): train, check, and hot-load a model in the background.

:meth:`Retrainer.start` begins a job in a background thread; the heavy work runs in child
processes, so the web app stays responsive:

1. ``rasa train`` (the Makefile's command) writes a new model into
   ``<model_dir>/candidates/`` — never over the current model, and out of the launcher's sight
   (it loads the newest ``<model_dir>/*.tar.gz`` at start-up).
2. The held-out split (``nlu_data_holdout/intents``) is classified by the new model and by the one
   the Rasa server is running, with the evaluation code of ``make eval``
   (:mod:`nlu_eval.runner`, :mod:`nlu_eval.metrics`), in a child process:
   ``python -m bot.console.retrain evaluate --holdout DIR MODEL...`` prints the summaries.
3. If the new model's held-out intent accuracy is not lower than the current one's, it is
   moved into ``<model_dir>`` and loaded into the running server with Rasa's ``PUT /model``
   (the server swaps agents when the new one is ready, so it keeps answering); otherwise the
   job ends "rejected" and the current model keeps serving.

:meth:`Retrainer.status` tells the console where the job is, in Chinese for staff. The status
is also written to ``<model_dir>/candidates/retrain-status.json`` and one job at a time runs
across processes (an flock), so every web worker sees the same job.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from bot.resident.rasa import RasaClient, RasaUnavailable
from community.settings import PROJECT_ROOT, Settings
from community.training_data import HOLDOUT_DIR

log = logging.getLogger(__name__)

STATES = ("idle", "training", "evaluating", "loading", "done", "rejected", "failed")
ACTIVE = ("training", "evaluating", "loading")
CANDIDATES = "candidates"
STATUS_FILE = "retrain-status.json"
LOCK_FILE = ".retrain.lock"
KEEP_REJECTED = 2  # rejected candidates kept for inspection; older ones are deleted


class RetrainError(RuntimeError):
    """A step of the job failed; ``message`` is for staff (Chinese), ``str()`` for the log."""

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(f"{code}: {detail or message}")
        self.code = code
        self.message = message


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _idle() -> dict[str, Any]:
    return {
        "state": "idle",
        "message": "尚未开始训练。",
        "progress": 0,
        "started_at": None,
        "finished_at": None,
        "old_accuracy": None,
        "new_accuracy": None,
        "model_path": None,
        "loaded": False,
        "actor": None,
        "current_model": None,
    }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "exception" in line.lower()]
    return (errors or lines or [""])[-1][-300:]


class Retrainer:
    """One retraining job at a time; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        root: Path,
        *,
        config_path: Path | None = None,
        data_paths: list[Path] | None = None,
        holdout_dir: Path | None = None,
        domain_path: Path | None = None,
        tolerance: float = 0.0,
        train_timeout: float = 3600.0,
        load_timeout: float = 600.0,
    ):
        self.settings = settings
        self.root = Path(root).resolve()
        self.config_path = Path(config_path or self.root / "config.yml")
        self.data_paths = [Path(p) for p in (data_paths or [self.root / "nlu_data"])]
        self.holdout_dir = Path(holdout_dir or self.root / HOLDOUT_DIR)
        self.domain_path = Path(domain_path or self.root / "domain")
        self.tolerance = tolerance  # accuracy may drop by this much (0: not at all)
        self.train_timeout = train_timeout
        self.load_timeout = load_timeout
        self.candidates = Path(settings.model_dir) / CANDIDATES
        self._lock = threading.Lock()
        self._status: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None
        self._accuracy_cache: dict[tuple, float] = {}

    # -- public API ------------------------------------------------------------------------

    def start(self, actor: str) -> bool:
        """Start a job in the background; False if one is already running (here or in another
        worker process)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self.candidates.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(self.candidates / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock_fd)
                return False
            self._status = {**_idle(), "actor": actor, "started_at": _now()}
            self._update(state="training", progress=1, message="正在准备训练…")
            self._thread = threading.Thread(target=self._run, args=(lock_fd,), name="retrain", daemon=True)
            self._thread.start()
            return True

    def status(self) -> dict[str, Any]:
        """Where the job is: ``state`` (one of :data:`STATES`), ``message`` (Chinese),
        ``progress`` (0-100), ``started_at``/``finished_at`` (ISO 8601, UTC), ``old_accuracy``/
        ``new_accuracy`` (held-out intent accuracy, 0-1), ``model_path``, ``loaded``."""
        with self._lock:
            if self._status is not None:
                return dict(self._status)
        path = self.candidates / STATUS_FILE
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return _idle()
        if saved.get("state") in ACTIVE and not self._locked_elsewhere():
            saved.update(state="failed", message="上次训练被中断（网页服务重启了），请重新开始。")
        return {**_idle(), **saved}

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the job in this process ends (for tests and the command line)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    # -- the job ---------------------------------------------------------------------------

    def _update(self, **changes: Any) -> None:
        assert self._status is not None
        self._status.update(changes)
        snapshot = json.dumps(self._status, ensure_ascii=False, indent=1)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".status.", dir=self.candidates)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(snapshot)
            os.replace(tmp, self.candidates / STATUS_FILE)
        except OSError as err:  # the status file only helps other workers; never fail on it
            log.warning("cannot write the retrain status: %s", err)

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._update(**changes)

    def _locked_elsewhere(self) -> bool:
        path = self.candidates / LOCK_FILE
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def _run(self, lock_fd: int) -> None:
        try:
            self._job()
        except RetrainError as err:
            log.warning("retrain failed: %s", err)
            self._set(state="failed", message=err.message, finished_at=_now())
        except Exception as err:  # the console must show the failure, whatever it is
            log.exception("retrain failed")
            self._set(
                state="failed", message=f"训练出错：{type(err).__name__}: {err}"[:400], finished_at=_now()
            )
        finally:
            os.close(lock_fd)

    def _job(self) -> None:
        current = self._current_model()
        self._set(current_model=str(current), progress=3, message="正在训练新模型（可能需要几分钟）…")
        started = time.monotonic()
        candidate = self._train()
        train_seconds = time.monotonic() - started
        self._set(
            state="evaluating",
            progress=60,
            model_path=str(candidate),
            message=f"新模型训练完成（{train_seconds:.0f} 秒），正在用留出测试集检查准确率…",
        )

        accuracies = self._evaluate([candidate, current])
        new, old = accuracies[str(candidate)], accuracies[str(current)]
        self._set(old_accuracy=old, new_accuracy=new, progress=85)
        if new + 1e-9 < old - self.tolerance:
            self._prune_rejected(keep=candidate)
            self._set(
                state="rejected",
                progress=100,
                finished_at=_now(),
                message=(
                    f"新模型准确率 {new:.1%} 低于当前模型 {old:.1%}，没有上线；"
                    "当前模型继续服务。请检查最近添加的例句后再试。"
                ),
            )
            return

        self._set(state="loading", progress=90, message="准确率没有下降，正在加载新模型（服务不中断）…")
        final = Path(self.settings.model_dir) / candidate.name
        os.replace(candidate, final)
        try:
            self._load(final)
        except BaseException:
            os.replace(final, candidate)  # the launcher must not start with an unloaded model
            self._set(model_path=str(candidate))
            raise
        self._set(
            state="done",
            progress=100,
            finished_at=_now(),
            model_path=str(final),
            loaded=True,
            message=f"新模型已上线：准确率 {new:.1%}（原来 {old:.1%}）。",
        )

    # -- steps -----------------------------------------------------------------------------

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

    def _train(self) -> Path:
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
                        self._set(progress=progress, message=f"正在训练新模型（第 {finished} 步）…")
                    elif "Started validating" in line:
                        self._set(progress=4, message="正在检查训练数据…")
                code = process.wait()
            finally:
                timer.cancel()
        model = self.candidates / f"{name}.tar.gz"
        if time.monotonic() > deadline:
            raise RetrainError("train-timeout", f"训练超过 {self.train_timeout / 60:.0f} 分钟，已停止。")
        if code != 0 or not model.is_file():
            reason = _last_line("".join(output))
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

    def _evaluate(self, models: list[Path]) -> dict[str, float]:
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
                reason = _last_line(result.stderr or result.stdout)
                raise RetrainError("eval-failed", f"检查准确率失败：{reason}", reason)
            summaries = json.loads(result.stdout.strip().splitlines()[-1])
            for m in todo:
                self._accuracy_cache[keys[m]] = float(summaries[str(m)]["intent_accuracy"])
        return {str(m): self._accuracy_cache[keys[m]] for m in models}

    # -- the Rasa server -------------------------------------------------------------------

    def _rasa(self, call: str, *args: Any, timeout: float = 10) -> Any:
        """One call of the project's Rasa client, from this worker thread."""

        async def run() -> Any:
            async with RasaClient.from_settings(self.settings, timeout=timeout) as rasa:
                return await getattr(rasa, call)(*args)

        return asyncio.run(run())

    def _current_model(self) -> Path:
        """The model file the running Rasa server has loaded."""
        try:
            status = self._rasa("status")
        except RasaUnavailable as err:
            if err.code == "rasa-auth":
                raise RetrainError("rasa-auth", "Rasa 服务器拒绝访问：请检查 RASA_AUTH_TOKEN。") from err
            if err.code == "rasa-status":
                raise RetrainError("rasa-status", f"Rasa 服务器没有加载模型（HTTP {err.status}）。") from err
            raise RetrainError(
                "rasa-down",
                f"连不上 Rasa 服务器（{self.settings.rasa_url}），请先启动助手再训练。",
                str(err),
            ) from err
        name = Path(str(status.get("model_file") or "")).name
        for path in (Path(self.settings.model_dir) / name, self.candidates / name):
            if name and path.is_file():
                return path.resolve()
        raise RetrainError(
            "current-model-unknown",
            f"在 {self.settings.model_dir} 找不到正在使用的模型 {name or '（无）'}，无法比较准确率。",
        )

    def _load(self, model: Path) -> None:
        """``PUT /model``: Rasa loads the new model, then swaps it in; it keeps answering."""
        try:
            self._rasa("load_model", str(model.resolve()), self.load_timeout, timeout=self.load_timeout)
            status = self._rasa("status")
        except RasaUnavailable as err:
            if err.code in ("rasa-status", "rasa-auth"):
                raise RetrainError(
                    "load-failed",
                    f"Rasa 服务器加载新模型失败（HTTP {err.status}），当前模型继续服务。",
                    err.message[-300:],
                ) from err
            raise RetrainError(
                "load-failed", "加载新模型时连不上 Rasa 服务器，当前模型继续服务。", str(err)
            ) from err
        if status.get("model_file") != model.name:
            raise RetrainError("load-failed", "Rasa 服务器没有换上新模型，当前模型继续服务。", str(status))

    def _prune_rejected(self, keep: Path) -> None:
        rejected = sorted(
            (p for p in self.candidates.glob("reviewed-*.tar.gz") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in rejected[KEEP_REJECTED - 1 :]:
            old.unlink(missing_ok=True)
            old.with_name(old.name.replace(".tar.gz", ".log")).unlink(missing_ok=True)


def _evaluate_main(holdout: str, models: list[str]) -> int:
    """Child process of :meth:`Retrainer._evaluate`: one JSON line, model path → summary."""
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
            )
        }
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console.retrain")
    commands = parser.add_subparsers(dest="command", required=True)
    evaluate = commands.add_parser("evaluate", help="held-out accuracy of models (one JSON line)")
    evaluate.add_argument("--holdout", default=str(PROJECT_ROOT / HOLDOUT_DIR))
    evaluate.add_argument("models", nargs="+")
    run = commands.add_parser("run", help="retrain now, against the running Rasa server")
    run.add_argument("--actor", default=os.environ.get("USER", "cli"))
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        return _evaluate_main(args.holdout, args.models)
    logging.basicConfig(level=logging.INFO)
    retrainer = Retrainer(Settings.from_env(), PROJECT_ROOT)
    if not retrainer.start(args.actor):
        print("a retraining job is already running", file=sys.stderr)
        return 1
    status = retrainer.wait()
    print(json.dumps(status, ensure_ascii=False, indent=1))
    return 0 if status["state"] == "done" else 1


if __name__ == "__main__":
    raise SystemExit(main())
