"""`make bench` (first line): does a turn cost more late in a long conversation?

One resident talks for 120 turns in one conversation (catalogue questions, small talk, a
request form in the middle, progress queries), as an elderly resident chatting for an hour or a
kiosk session that runs all morning would. Printed: the median latency of turns 3–12 and of the
last 10 turns, and their ratio (issue 15 wants ≤ 1.3). Several conversations are run one after
another and their turns pooled, so one slow moment on a shared machine does not decide it.

By default it starts its own Rasa server and action server (the launcher's commands, a fresh
var/ in a temporary folder, SQLite; ``--database-url`` for PostgreSQL); ``--url`` measures a
server that is already running (``make run`` or ``make run-cluster`` on 5005).
``--profile FILE`` records the Rasa server with py-spy meanwhile (a speedscope/flamegraph file;
``--profile-format``) and ``--profile-actions FILE`` the action server.

    .venv/bin/python -m tools.turn_cost [--turns 120] [--conversations 3] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tools.stack import free_port, is_up

ROOT = Path(__file__).resolve().parent.parent

# What a resident says over a long conversation: questions the catalogue answers (custom
# actions), small talk (responses), and a request form with a progress query.
QUESTIONS = [
    "高龄津贴怎么申请", "居委会能开无犯罪证明吗", "孩子放学没人接有托管吗", "失业登记去哪办",
    "残疾证怎么办", "家庭医生怎么签约", "我想当志愿者", "低保怎么申请", "谢谢", "法律援助找谁",
    "老人体检什么时候", "你好", "助餐点在哪", "我的申请到哪了",
]
FORM = ["我想给我妈报个助餐她82了住3栋2单元501", "王秀英", "13812345678", "不吃辣", "送餐上门", "确认"]


def script(turns: int) -> list[str]:
    """``turns`` messages: questions, with the request form once after the first 40 turns."""
    texts: list[str] = []
    i = 0
    while len(texts) < turns:
        if len(texts) == 40:
            texts.extend(FORM)
            continue
        texts.append(QUESTIONS[i % len(QUESTIONS)])
        i += 1
    return texts[:turns]


def post(url: str, payload: dict, timeout: float = 60) -> list:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def conversation(base: str, sender: str, texts: list[str]) -> list[float]:
    url = f"{base}/webhooks/rest/webhook"
    latencies = []
    for text in texts:
        start = time.perf_counter()
        answer = post(url, {"sender": sender, "message": text})
        latencies.append(time.perf_counter() - start)
        if not answer:
            raise RuntimeError(f"an empty answer to {text!r}")
    return latencies


def summarise(runs: list[list[float]], early: tuple[int, int] = (3, 12), last: int = 10) -> dict:
    """Pooled medians (ms) of turns ``early`` (1-based, inclusive) and of the last ``last``."""
    first = [v for r in runs for v in r[early[0] - 1:early[1]]]
    late = [v for r in runs for v in r[-last:]]
    early_ms = statistics.median(first) * 1000
    late_ms = statistics.median(late) * 1000
    return {
        "turns": len(runs[0]), "conversations": len(runs),
        f"median_turns_{early[0]}_{early[1]}_ms": round(early_ms, 1),
        f"median_last_{last}_ms": round(late_ms, 1),
        "ratio": round(late_ms / early_ms, 2),
        "median_by_decile_ms": [
            round(statistics.median([v for r in runs for v in r[i:i + len(r) // 10]]) * 1000, 1)
            for i in range(0, len(runs[0]), max(1, len(runs[0]) // 10))
        ][:10],
    }


class Servers:
    """The launcher's Rasa server and action server, on free ports with a fresh var/."""

    def __init__(self, database_url: str = "", extra_env: dict[str, str] | None = None):
        self.var_dir = Path(tempfile.mkdtemp(prefix="turn-cost-"))
        self.rasa_port, self.action_port = free_port(), free_port()
        self.env = {
            **os.environ, "VAR_DIR": str(self.var_dir), "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port), "WEB_PORT": str(free_port()),
            "DATABASE_URL": database_url, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false", **(extra_env or {}),
        }
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start(self, timeout: float = 300) -> None:
        prepare = (
            "import sys; from bot import launcher; from community.settings import Settings, with_api_token;"
            "s = with_api_token(Settings.from_env()); m = launcher.check_prerequisites(s);"
            "e = launcher.write_endpoints(s); import json;"
            "print(json.dumps([c.command for c in launcher.children(s, m, e)"
            " if c.name in ('rasa', 'actions')]))"
        )
        out = subprocess.run([sys.executable, "-c", prepare], cwd=ROOT, env=self.env, check=True,
                             capture_output=True, text=True).stdout
        commands = json.loads(out.strip().splitlines()[-1])
        log = open(self.var_dir / "servers.log", "w", encoding="utf-8")  # noqa: SIM115
        for name, command in zip(("actions", "rasa"), commands, strict=True):
            self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        urls = [f"{self.base}/", f"http://127.0.0.1:{self.action_port}/health"]
        while not all(is_up(u) for u in urls):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes.values()):
                self.stop()
                raise RuntimeError((self.var_dir / "servers.log").read_text()[-3000:])
            time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.var_dir, ignore_errors=True)


def py_spy(pid: int, output: str, fmt: str) -> subprocess.Popen:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--output", output, "--format", fmt,
                             "--rate", "200", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server (or the load balancer); default: start one")
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--database-url", default="", help="PostgreSQL for the tracker (default SQLite)")
    parser.add_argument("--profile", help="py-spy output file for the Rasa server")
    parser.add_argument("--profile-actions", help="py-spy output file for the action server")
    parser.add_argument("--profile-format", default="speedscope", choices=("speedscope", "flamegraph", "raw"))
    parser.add_argument("--json", help="write the figures here as JSON too")
    args = parser.parse_args(argv)

    servers = None
    base = args.url
    if not base:
        servers = Servers(args.database_url)
        print("starting a Rasa server and an action server ...", flush=True)
        servers.start()
        base = servers.base
    spies = []
    try:
        conversation(base, f"turn-cost-warmup-{time.time_ns()}", script(8))
        if servers and args.profile:
            spies.append(py_spy(servers.processes["rasa"].pid, args.profile, args.profile_format))
        if servers and args.profile_actions:
            spies.append(py_spy(servers.processes["actions"].pid, args.profile_actions, args.profile_format))
        texts = script(args.turns)
        runs = []
        for n in range(args.conversations):
            runs.append(conversation(base, f"turn-cost-{time.time_ns()}-{n}", texts))
    finally:
        for spy in spies:
            spy.send_signal(2)  # py-spy writes its file on SIGINT
            spy.wait(timeout=60)
        if servers:
            servers.stop()
    figures = summarise(runs)
    print(json.dumps(figures, ensure_ascii=False))
    print(f"turn cost: turns 3–12 median {figures['median_turns_3_12_ms']} ms, last 10 of "
          f"{args.turns} median {figures['median_last_10_ms']} ms, ratio {figures['ratio']}× "
          f"(issue 15: ≤ 1.3×)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
