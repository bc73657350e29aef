"""Start and stop `make run-cluster` (``python -m bot.cluster``) for tests and the load test, find
a Rasa replica's process to kill it, and drive residents in a closed loop against it.

    .venv/bin/python -m tools.cluster_stack --kill-after 5 --seconds 20 --residents 20 [--url URL]

runs the kill test by hand (against a cluster it starts, or ``--url`` with ``--pid`` to kill).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tools.stack import free_port, free_port_block, is_alive, is_up

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "高龄津贴怎么申请", "居委会能开无犯罪证明吗", "孩子放学没人接有托管吗", "失业登记去哪办", "残疾证怎么办",
    "家庭医生怎么签约", "我想当志愿者", "低保怎么申请", "谢谢", "法律援助找谁", "老人体检什么时候", "你好",
]


@dataclass
class Cluster:
    process: subprocess.Popen
    env: dict[str, str]
    var_dir: Path
    log_path: Path

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.env['WEB_PORT']}"

    def replica_ports(self) -> list[int]:
        base = int(self.env["RASA_REPLICA_BASE_PORT"])
        return [base + i for i in range(int(self.env.get("RASA_REPLICAS", "2")))]

    def replica_pid(self, port: int) -> int:
        """The pid of the Rasa replica listening on ``port`` (a child of the launcher)."""
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                try:
                    words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if b"bot.rasa_server" in words and str(port).encode() in words:
                    return int(pid)
        raise LookupError(f"no Rasa replica on port {port}")

    def kill_replica(self, port: int) -> int:
        pid = self.replica_pid(port)
        os.kill(pid, signal.SIGKILL)
        while is_alive(pid):
            time.sleep(0.02)
        return pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_cluster(var_dir: Path, database_url: str, timeout: float = 400,
                  extra_env: dict[str, str] | None = None) -> Cluster:
    base_rasa = free_port_block(8)  # four ports each for Rasa and action replicas
    base_actions = base_rasa + 4
    env = {
        **os.environ, "VAR_DIR": str(var_dir), "DATABASE_URL": database_url,
        "RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()), "WEB_PORT": str(free_port()),
        "MODEL_SERVER_PORT": str(free_port()), "SIP_PORT": str(free_port()),
        "PHONE_RTP_PORT": str(free_port()), "READY_TIMEOUT": str(timeout),
        "RASA_TELEMETRY_ENABLED": "false", **(extra_env or {}),
    }
    # Replicas take consecutive ports from a block that was free, below the ephemeral range
    # (an ephemeral base once collided with a port another test process had just been handed).
    env.setdefault("RASA_REPLICA_BASE_PORT", str(base_rasa))
    env.setdefault("ACTION_REPLICA_BASE_PORT", str(base_actions))
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / "cluster.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot.cluster"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    cluster = Cluster(process, env, var_dir, log_path)
    deadline = time.monotonic() + timeout
    while not (is_up(cluster.rasa + "/") and is_up(cluster.web + "/healthz")):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_cluster(cluster)
            raise RuntimeError(f"the cluster did not start:\n{cluster.log()[-4000:]}")
        time.sleep(0.5)
    return cluster


def stop_cluster(cluster: Cluster, timeout: float = 60) -> int:
    if cluster.process.poll() is None:
        cluster.process.send_signal(signal.SIGTERM)
    try:
        return cluster.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.process.pid, signal.SIGKILL)
        return cluster.process.wait()


@dataclass
class LoopResult:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        ordered = sorted(self.latencies) or [0.0]

        def pct(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {"turns": len(self.latencies), "failed_or_empty": len(self.failures),
                "throughput_per_s": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0,
                "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": pct(1.0),
                "failures": self.failures[:5]}


async def closed_loop(base: str, residents: int, seconds: float, timeout: float = 90) -> LoopResult:
    """``residents`` each send the next message as soon as the answer came, for ``seconds``.
    A turn that fails (HTTP error, timeout) or comes back empty is counted as a failure."""
    result = LoopResult()
    url = f"{base}/webhooks/rest/webhook"
    run = uuid.uuid4().hex[:8]
    stop_at = time.monotonic() + seconds

    async def resident(n: int, session: aiohttp.ClientSession) -> None:
        i = 0
        while time.monotonic() < stop_at:
            text = QUESTIONS[(n + i) % len(QUESTIONS)]
            start = time.perf_counter()
            try:
                async with session.post(url, json={"sender": f"loop-{run}-{n}", "message": text}) as r:
                    body = await r.json(content_type=None) if r.status == 200 else None
                    if r.status != 200 or not body or not any(m.get("text") for m in body):
                        result.failures.append(f"{time.strftime('%X')} {r.status}: {str(body)[:80]}")
                    else:
                        result.latencies.append(time.perf_counter() - start)
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                result.failures.append(f"{time.strftime('%X')} loop-{run}-{n} {type(err).__name__}")
            i += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=residents),
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        await asyncio.gather(*(resident(n, session) for n in range(residents)))
    result.seconds = time.monotonic() - started
    return result


async def kill_test(cluster_or_pid: Cluster | int, base: str, residents: int, seconds: float,
                    kill_after: float) -> tuple[LoopResult, int]:
    async def killer() -> int:
        await asyncio.sleep(kill_after)
        if isinstance(cluster_or_pid, Cluster):
            return await asyncio.to_thread(cluster_or_pid.kill_replica, cluster_or_pid.replica_ports()[0])
        os.kill(cluster_or_pid, signal.SIGKILL)
        return cluster_or_pid

    loop, killed = await asyncio.gather(closed_loop(base, residents, seconds), killer())
    return loop, killed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running cluster's load balancer (with --pid)")
    parser.add_argument("--pid", type=int, help="the Rasa replica to kill")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/community_killtest")
    parser.add_argument("--residents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--kill-after", type=float, default=5)
    args = parser.parse_args(argv)
    cluster = None
    if args.url:
        base, target = args.url, args.pid
    else:
        import tempfile

        cluster = start_cluster(Path(tempfile.mkdtemp(prefix="cluster-")), args.database_url,
                                extra_env={"HAPROXY_LOG_LEVEL": "info"})
        print(f"cluster log: {cluster.log_path}", flush=True)
        base, target = cluster.rasa, cluster
    try:
        asyncio.run(closed_loop(base, 4, 3))  # warm-up
        loop, killed = asyncio.run(kill_test(target, base, args.residents, args.seconds, args.kill_after))
    finally:
        if cluster:
            stop_cluster(cluster)
    print(json.dumps({"killed_pid": killed, **loop.summary()}, ensure_ascii=False))
    return 1 if loop.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
