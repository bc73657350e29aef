"""Start and stop the real assistant (`python -m bot`) for end-to-end tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    process: subprocess.Popen
    rasa_port: int
    action_port: int
    web_port: int
    var_dir: Path
    log_path: Path

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def children(self) -> list[int]:
        pids = []
        task_dir = Path(f"/proc/{self.process.pid}/task")
        for task in task_dir.iterdir() if task_dir.exists() else []:
            text = (task / "children").read_text().split()
            pids.extend(int(p) for p in text)
        return pids

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def post_json(url: str, payload: object, timeout: float = 30, headers: dict | None = None):
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8")), response.headers


def start_stack(
    var_dir: Path, database_url: str = "", timeout: float = 300, extra_env: dict[str, str] | None = None
) -> Stack:
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "VAR_DIR": str(var_dir),
           "DATABASE_URL": database_url, "READY_TIMEOUT": str(timeout), **(extra_env or {})}
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / "launcher.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    stack = Stack(process, ports["RASA_PORT"], ports["ACTION_PORT"], ports["WEB_PORT"], var_dir, log_path)
    deadline = time.monotonic() + timeout
    while "is running" not in stack.log():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_stack(stack)
            raise RuntimeError("the assistant did not start:\n" + stack.log()[-4000:])
        time.sleep(0.5)
    return stack


def stop_stack(stack: Stack, timeout: float = 40) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        return stack.process.wait()
