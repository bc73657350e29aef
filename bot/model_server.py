"""One model for every Rasa replica, through Rasa's own model server endpoint (issue 15).

Each Rasa server's ``endpoints.yml`` says ``models: url: …/models/current`` with
``wait_time_between_pulls``; Rasa asks with ``If-None-Match: <its model's fingerprint>`` and
loads the answer when the ``ETag`` differs (a restarted replica has none, so it loads the
current model). This module is that endpoint, and the publishing side:

* :func:`publish` puts an accepted model in ``MODEL_PUBLISH_DIR`` once (a copy, then an atomic
  rename of ``current.json``, so a replica never reads half a model);
* ``python -m bot.model_server`` serves it: ``GET /models/current`` → the file, its
  ``ETag`` (sha256) and a ``filename`` header (the model's own name, which Rasa reports in
  ``/status``), 304 when the caller already has it, 404 before anything is published;
  ``GET /healthz``.

The retrainer (``bot.console.serving_model``) publishes instead of ``PUT /model`` when
``MODEL_PUBLISH_DIR`` is set (``make run-cluster`` sets it); ``make run`` keeps ``PUT /model``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from community.config import PROJECT_ROOT, environment, path, port, read_section
from community.settings import Settings

log = logging.getLogger("model_server")
POINTER = "current.json"


@dataclass(frozen=True)
class ModelServerSettings:
    """``MODEL_PUBLISH_DIR`` (empty: no model server, ``PUT /model`` as before),
    ``MODEL_SERVER_PORT`` and ``MODEL_PULL_SECONDS`` (how often each Rasa replica asks)."""

    publish_dir: Path | None = None
    port: int = 5070
    pull_seconds: int = 10

    def __post_init__(self) -> None:
        if self.pull_seconds <= 0:
            raise ValueError("MODEL_PULL_SECONDS must be positive")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/models/current"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ModelServerSettings:
        return read_section(cls, environment() if env is None else env, {
            "publish_dir": ("MODEL_PUBLISH_DIR", path),
            "port": ("MODEL_SERVER_PORT", port),
            "pull_seconds": ("MODEL_PULL_SECONDS", int),
        })


def sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def publish(model: Path, publish_dir: Path) -> str:
    """Make ``model`` the one every replica serves; its ETag. Publishing the same file again
    changes nothing."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    etag = sha256(model)
    target = publish_dir / f"{etag[:16]}-{model.name}"
    if not target.exists():
        with tempfile.NamedTemporaryFile(dir=publish_dir, delete=False, suffix=".part") as handle:
            tmp = Path(handle.name)
        shutil.copyfile(model, tmp)
        os.replace(tmp, target)
    pointer = {"file": target.name, "filename": model.name, "etag": etag}
    tmp = publish_dir / f".{POINTER}.{os.getpid()}"
    tmp.write_text(json.dumps(pointer), encoding="utf-8")
    os.replace(tmp, publish_dir / POINTER)
    for old in publish_dir.glob("*.tar.gz"):  # keep the current model and the one before
        if old.name != target.name and old.stat().st_mtime < target.stat().st_mtime - 3600:
            old.unlink(missing_ok=True)
    log.info("published model %s (ETag %s)", model.name, etag[:12])
    return etag


def current(publish_dir: Path) -> dict | None:
    try:
        return json.loads((publish_dir / POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def make_app(publish_dir: Path) -> web.Application:
    async def model(request: web.Request) -> web.StreamResponse:
        pointer = current(publish_dir)
        if pointer is None or not (publish_dir / pointer["file"]).is_file():
            return web.Response(status=404, text="no model published yet")
        etag = pointer["etag"]
        headers = {"ETag": etag, "filename": pointer["filename"]}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        # Not FileResponse: it would put its own ETag (size and mtime) in place of the sha256.
        body = (publish_dir / pointer["file"]).read_bytes()
        return web.Response(body=body, headers=headers, content_type="application/gzip")

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"published": (current(publish_dir) or {}).get("filename")})

    app = web.Application()
    app.router.add_get("/models/current", model)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bot.model_server",
                                     description="Serve the published model.")
    parser.add_argument("--publish-if-empty", type=Path, metavar="MODEL",
                        help="publish MODEL when nothing is published yet, then exit (a first start)")
    args = parser.parse_args(argv)
    settings = ModelServerSettings.from_env()
    publish_dir = settings.publish_dir or PROJECT_ROOT / "var" / "published-model"
    if args.publish_if_empty:
        if current(publish_dir) is None:
            publish(args.publish_if_empty, publish_dir)
        return
    host = Settings.from_env().host
    web.run_app(make_app(publish_dir), host=host, port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
