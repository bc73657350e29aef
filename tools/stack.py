"""Start and stop the real assistant (`python -m bot`) for end-to-end tests and benchmarks, and
find (or kill) its servers by name for fault tests."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What names each server in its command line (the launcher's children).
COMMANDS = {
    "actions": ("bot.action_server", "rasa_sdk"),
    "rasa": ("bot.rasa_server",),
    "web": ("bot.webchat",),
}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Consecutive ports for replicas are taken below the kernel's ephemeral range (32768-60999 by
# default), where free_port() never hands a port to another test process meanwhile.
BLOCK_PORTS = range(20000, 32000)


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free TCP ports, outside the ephemeral range."""
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(BLOCK_PORTS.start, BLOCK_PORTS.stop - count)
        if all(_bindable(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports in {BLOCK_PORTS}")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


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

    @property
    def health(self) -> dict[str, str]:
        """Each server's health endpoint (what the launcher itself waits on)."""
        return {
            "actions": f"http://127.0.0.1:{self.action_port}/health",
            "rasa": f"{self.rasa}/",
            "web": f"{self.web}/healthz",
        }

    def is_up(self, name: str) -> bool:
        return is_up(self.health[name])

    def wait_up(self, names: list[str] | None = None, timeout: float = 120) -> float:
        """Wait until the named servers (default: all) answer their health endpoints; the
        seconds it took. RuntimeError if the launcher exits or the time runs out."""
        start = time.monotonic()
        pending = list(names or self.health)
        while pending:
            pending = [name for name in pending if not self.is_up(name)]
            if pending and self.process.poll() is not None:
                raise RuntimeError(f"the launcher exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            if pending and time.monotonic() - start > timeout:
                late = ", ".join(pending)
                raise RuntimeError(f"{late} not up within {timeout:.0f}s:\n{self.log()[-4000:]}")
            if pending:
                time.sleep(0.2)
        return time.monotonic() - start

    def child(self, name: str) -> int:
        """The pid of the launcher's child running server ``name`` (actions, rasa, web)."""
        for pid in self.children():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(word.encode() in command for word in COMMANDS[name]):
                return pid
        raise LookupError(f"no {name} process under the launcher (pid {self.process.pid})")

    def kill(self, name: str, timeout: float = 10) -> int:
        """``kill -9`` server ``name``; returns once it is dead (a zombie or gone): its pid."""
        pid = self.child(name)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        return pid

    def children(self) -> list[int]:
        pids = []
        task_dir = Path(f"/proc/{self.process.pid}/task")
        for task in task_dir.iterdir() if task_dir.exists() else []:
            text = (task / "children").read_text().split()
            pids.extend(int(p) for p in text)
        return pids

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def token(self) -> str:
        """Rasa's HTTP API token (RASA_AUTH_TOKEN, or the one the launcher made in var/)."""
        return os.environ.get("RASA_AUTH_TOKEN") or (self.var_dir / "rasa_auth_token").read_text().strip()

    def api(self, path: str) -> str:
        """The URL of Rasa HTTP API endpoint ``path`` (``/model/parse``), with the token."""
        return f"{self.rasa}{path}?token={self.token}"


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def is_alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "zombie" not in status


def post_json(url: str, payload: object, timeout: float = 30, headers: dict | None = None):
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8")), response.headers


def start_stack(
    var_dir: Path,
    database_url: str = "",
    timeout: float = 300,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    sigint_ignored: bool = False,
) -> Stack:
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    # The phone line (UDP): its own port too, so stacks side by side (and `make run`) don't clash.
    ports["SIP_PORT"] = free_port(socket.SOCK_DGRAM)
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "VAR_DIR": str(var_dir),
           "DATABASE_URL": database_url, "READY_TIMEOUT": str(timeout), **(extra_env or {})}
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or var_dir / "launcher.log"  # elsewhere when var/ is made to fill up
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
    # sigint_ignored: started as a script or a shell without job control would start it.
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=ignore,
    )
    stack = Stack(process, ports["RASA_PORT"], ports["ACTION_PORT"], ports["WEB_PORT"], var_dir, log_path)
    try:
        stack.wait_up(timeout=timeout)
    except RuntimeError as err:
        stop_stack(stack)
        raise RuntimeError(f"the assistant did not start: {err}") from err
    return stack


def stop_stack(stack: Stack, timeout: float = 40) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        return stack.process.wait()
