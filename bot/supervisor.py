"""Keeps the assistant's servers alive: starts each child in its own process group, restarts
one that dies (with exponential backoff, so a child that cannot start does not spin), and stops
them all, leaving no process behind.

The launcher (:mod:`bot.launcher`) decides what to start; this module only keeps it running.
One thread does everything (the children get SIGTERM when the thread that started them goes).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger("launcher")
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class StartupError(RuntimeError):
    """Start-up cannot go on; the message says why, for the operator."""


@dataclass
class Backoff:
    """Seconds to wait before a restart: ``first``, doubling up to ``limit``; back to ``first``
    once the child had stayed up ``reset_after`` seconds."""

    first: float = 1.0
    limit: float = 30.0
    reset_after: float = 60.0
    current: float = 0.0

    def next(self, uptime: float) -> float:
        if not self.current or uptime >= self.reset_after:
            self.current = self.first
        delay = self.current
        self.current = min(self.current * 2, self.limit)
        return delay


@dataclass
class Child:
    name: str
    command: list[str]
    health_url: str | None  # None: ready as soon as it runs
    process: subprocess.Popen | None = None
    # A critical child must become ready at start-up (if it exits first, start-up fails with
    # its exit code, since restarting a broken model or a taken port will not help). Once
    # running, every child that dies is restarted, critical or not.
    critical: bool = True
    backoff: Backoff = field(default_factory=Backoff)
    started_at: float = 0.0
    restart_at: float | None = None  # dead, to be started again at this time
    ready: bool = False


def _in_child() -> None:
    """In the child, before exec: take SIGINT/SIGTERM again (the launcher blocks them while it
    starts a child) and get SIGTERM if the launcher dies, so nothing is left behind."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(child: Child, env: dict[str, str], cwd: Path) -> None:
    """Start ``child`` in a new session. Ctrl-C/SIGTERM wait until ``child.process`` is set,
    so stopping never misses a process that was being started."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        child.process = subprocess.Popen(
            child.command, cwd=cwd, env=env, start_new_session=True, preexec_fn=_in_child
        )
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    try:  # the whole group: sanic workers and anything else the child started
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def terminate(children: list[Child], grace_s: float = 15.0) -> None:
    """SIGTERM every child's process group, wait up to ``grace_s``, then SIGKILL what is left."""
    running = [c.process for c in children if c.process is not None]
    for process in running:
        if process.poll() is None:
            _kill_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _kill_group(process, signal.SIGKILL)
        process.wait()


class Supervisor:
    """Starts ``children``, waits until they are ready, and keeps them running."""

    def __init__(
        self,
        children: list[Child],
        env: dict[str, str],
        cwd: Path,
        *,
        health: Callable[[str], bool] = is_up,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.children = children
        self.env = env
        self.cwd = cwd
        self.health = health
        self.clock = clock

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def wait_until_ready(self, timeout_s: float) -> None:
        """Until every critical child answers its health check. A non-critical child that
        exits meanwhile is restarted later; a critical one stops start-up."""
        deadline = self.clock() + timeout_s
        while True:
            pending = [c for c in self.children if c.critical and not c.ready]
            for child in pending:
                assert child.process is not None
                if child.process.poll() is not None:
                    raise StartupError(f"{child.name} exited with code {child.process.returncode}")
            self.check()
            if all(c.ready for c in pending):
                return
            if self.clock() > deadline:
                names = ", ".join(c.name for c in pending if not c.ready)
                raise StartupError(f"{names} did not become ready within {timeout_s:.0f}s")
            time.sleep(0.5)

    def check(self) -> None:
        """One round: notice children that died, restart those whose wait is over, and log
        those that became ready."""
        for child in self.children:
            assert child.process is not None
            if child.restart_at is None and child.process.poll() is not None:
                self._died(child)
            if child.restart_at is not None and self.clock() >= child.restart_at:
                log.info("restarting %s", child.name)
                self._spawn(child)
            if child.restart_at is None and not child.ready and self._healthy(child):
                child.ready = True
                log.info("%s is up", child.name)

    def watch(self, interval_s: float = 1.0) -> None:
        """Keep the children running until interrupted (KeyboardInterrupt)."""
        while True:
            self.check()
            time.sleep(interval_s)

    def stop(self, grace_s: float = 15.0) -> None:
        """Stop every child; a second Ctrl-C meanwhile does not cut this short."""
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            terminate(self.children, grace_s)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def _spawn(self, child: Child) -> None:
        spawn(child, self.env, self.cwd)
        child.started_at = self.clock()
        child.restart_at = None
        child.ready = False

    def _healthy(self, child: Child) -> bool:
        return child.health_url is None or self.health(child.health_url)

    def _died(self, child: Child) -> None:
        assert child.process is not None
        code = child.process.returncode
        _kill_group(child.process, signal.SIGKILL)  # what it left behind would hold its port
        delay = child.backoff.next(self.clock() - child.started_at)
        child.restart_at = self.clock() + delay
        child.ready = False
        log.error("%s stopped (code %s); restarting in %.0fs", child.name, code, delay)
