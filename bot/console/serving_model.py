"""The model the running Rasa server serves, through the project's one Rasa client: which one
it is (``GET /status``) and loading a new one (``PUT /model``: Rasa loads it, then swaps it in,
so it keeps answering).

With several Rasa replicas (``make run-cluster``, ``MODEL_PUBLISH_DIR`` set) the accepted model
is published once to the model server (:mod:`bot.model_server`) instead, and every replica
pulls it; :meth:`ServingModel.load` then waits until the replicas answer with it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bot.console.retrain_errors import RetrainError
from bot.model_server import ModelServerSettings, publish
from bot.resident.rasa import RasaClient, RasaUnavailable
from community.settings import Settings


class ServingModel:
    def __init__(self, settings: Settings, candidates: Path, load_timeout: float):
        self.settings = settings
        self.candidates = candidates
        self.load_timeout = load_timeout

    def _call(self, call: str, *args: Any, timeout: float = 10) -> Any:
        """One call of the project's Rasa client, from this worker thread."""

        async def run() -> Any:
            async with RasaClient.from_settings(self.settings, timeout=timeout) as rasa:
                return await getattr(rasa, call)(*args)

        return asyncio.run(run())

    def current(self) -> Path:
        """The model file the running Rasa server has loaded."""
        try:
            status = self._call("status")
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

    def load(self, model: Path) -> None:
        """``PUT /model``: Rasa loads the new model, then swaps it in; it keeps answering.
        With a model server: publish it there, and wait until the replicas serve it."""
        publish_dir = ModelServerSettings.from_env().publish_dir
        if publish_dir is not None:
            self._publish(model, publish_dir)
            return
        try:
            self._call("load_model", str(model.resolve()), self.load_timeout, timeout=self.load_timeout)
            status = self._call("status")
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

    def _publish(self, model: Path, publish_dir: Path, agreeing: int = 6) -> None:
        """Publish once; then ``/status`` through the load balancer must name the new model
        ``agreeing`` times running (each replica pulls it within ``MODEL_PULL_SECONDS``)."""
        publish(model, publish_dir)
        deadline = time.monotonic() + self.load_timeout
        seen = 0
        while seen < agreeing:
            if time.monotonic() > deadline:
                raise RetrainError("load-failed", "新模型已发布，但 Rasa 服务器在规定时间内没有全部换上。")
            try:
                seen = seen + 1 if self._call("status").get("model_file") == model.name else 0
            except RasaUnavailable:
                seen = 0
            time.sleep(0.5)
