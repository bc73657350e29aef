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
import datetime as dt
import fcntl
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bot.console.model_training import ModelTraining, evaluate_main
from bot.console.recheck import ask_again, gate_report, recheck_message, taught
from bot.console.retrain_errors import RetrainError
from bot.console.serving_model import ServingModel
from community.settings import PROJECT_ROOT, Settings
from community.store import Store
from community.training_data import HOLDOUT_DIR, TrainingData

log = logging.getLogger(__name__)

STATES = ("idle", "training", "evaluating", "loading", "done", "rejected", "failed")
ACTIVE = ("training", "evaluating", "loading")
CANDIDATES = "candidates"
STATUS_FILE = "retrain-status.json"
LOCK_FILE = ".retrain.lock"
KEEP_REJECTED = 2  # rejected candidates kept for inspection; older ones are deleted


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
        "report": [],  # the gate report: each new or changed intent (recheck.gate_report)
        "recheck": None,  # {"answered", "failing", "per_intent"} after the new model serves
    }


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
        store: Store | None = None,
    ):
        self.settings = settings
        self.store = store  # the review queue, to ask reviewed questions again (None: no recheck)
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
        self.training = ModelTraining(
            self.root,
            config_path=self.config_path,
            data_paths=self.data_paths,
            domain_path=self.domain_path,
            holdout_dir=self.holdout_dir,
            candidates=self.candidates,
            train_timeout=train_timeout,
            on_progress=lambda progress, message: self._set(progress=progress, message=message),
        )
        self.serving = ServingModel(settings, self.candidates, load_timeout)

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
        current = self.serving.current()
        self._set(current_model=str(current), progress=3, message="正在训练新模型（可能需要几分钟）…")
        started = time.monotonic()
        candidate = self.training.train()
        train_seconds = time.monotonic() - started
        self._set(
            state="evaluating",
            progress=60,
            model_path=str(candidate),
            message=f"新模型训练完成（{train_seconds:.0f} 秒），正在用留出测试集检查准确率…",
        )

        accuracies = self.training.evaluate([candidate, current])
        new, old = accuracies[str(candidate)], accuracies[str(current)]
        reviewed = self._taught()
        per_intent = self.training.per_intent
        report = gate_report(
            TrainingData(self.root), reviewed, per_intent.get(str(current)), per_intent.get(str(candidate))
        )
        self._set(old_accuracy=old, new_accuracy=new, progress=85, report=report)
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
            self.serving.load(final)
        except BaseException:
            os.replace(final, candidate)  # the launcher must not start with an unloaded model
            self._set(model_path=str(candidate))
            raise
        recheck = self._ask_again(reviewed)
        if recheck is not None:
            report = gate_report(
                TrainingData(self.root), reviewed, per_intent.get(str(current)),
                per_intent.get(str(candidate)), recheck,
            )
        self._set(
            state="done",
            progress=100,
            finished_at=_now(),
            model_path=str(final),
            loaded=True,
            report=report,
            recheck=recheck,
            message=f"新模型已上线：准确率 {new:.1%}（原来 {old:.1%}）。" + recheck_message(recheck),
        )

    def _taught(self) -> dict[str, list[dict[str, Any]]]:
        """Questions staff reviewed since the last retrain, by intent ({} without a store)."""
        if self.store is None:
            return {}
        try:
            return taught(self.store)
        except Exception as err:  # noqa: BLE001 - the report is extra; training goes on
            log.warning("reviewed questions not readable: %s", err)
            return {}

    def _ask_again(self, reviewed: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
        """After the new model serves: each reviewed question asked again (see recheck)."""
        if self.store is None or not reviewed:
            return None
        self._set(progress=95, message="新模型已上线，正在把这批问题重新问一遍…")
        try:
            return ask_again(self.settings, self.store, reviewed)
        except Exception as err:  # noqa: BLE001 - the model is live; say what could not be done
            log.warning("recheck failed: %s", err)
            return None

    def _prune_rejected(self, keep: Path) -> None:
        rejected = sorted(
            (p for p in self.candidates.glob("reviewed-*.tar.gz") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in rejected[KEEP_REJECTED - 1 :]:
            old.unlink(missing_ok=True)
            old.with_name(old.name.replace(".tar.gz", ".log")).unlink(missing_ok=True)


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
        return evaluate_main(args.holdout, args.models)
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
