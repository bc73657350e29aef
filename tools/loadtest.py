"""`make loadtest`: locust against `make run` and `make run-cluster`, in the same run.

Both stacks are started side by side (``make run``: one Rasa server on SQLite; the cluster: two
Rasa replicas and two action servers behind HAProxy, PostgreSQL, Redis locks), and measured in
turns, one after the other, so a neighbour's load on this shared machine hits both alike:

1. capacity: a closed loop of ``--users`` residents with no pause (turns/s answered, and
   p50/p95/p99), ``--rounds`` times per stack, alternating;
2. open loop: arrivals at ``--rate`` turns/s (by default 60 % of the single server's capacity)
   on each stack: p50/p95/p99 and errors;
3. the same open loop on the cluster while one Rasa replica is killed 5 s in.

The mix (catalogue questions, request forms, progress queries, handoffs) is in
``tools/locustfile.py``. Results are printed and written to results/loadtest.json.

    .venv/bin/python -m tools.loadtest [--seconds 30] [--users 40] [--rounds 2] [--rate R]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tools.cluster_stack import start_cluster, stop_cluster
from tools.stack import start_stack, stop_stack

ROOT = Path(__file__).resolve().parent.parent
LOCUST = str(Path(sys.executable).parent / "locust")
DATABASE = "postgresql://postgres@127.0.0.1:5432/community_loadtest"


def cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) of ``root_pid``'s children and their descendants: the servers."""
    import psutil

    total = 0.0
    for child in psutil.Process(root_pid).children(recursive=True):
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def locust(host: str, seconds: float, users: int, mode: str, rate: float = 0.0,
           servers_pid: int | None = None) -> dict:
    """One headless locust run; its aggregated figures (and the servers' CPU per turn)."""
    cpu_before = cpu_seconds(servers_pid) if servers_pid else 0.0
    with tempfile.TemporaryDirectory() as out:
        prefix = str(Path(out) / "run")
        env = {**os.environ, "LOAD_MODE": mode, "LOAD_RATE": str(rate), "LOAD_USERS": str(users)}
        subprocess.run(
            [LOCUST, "-f", str(ROOT / "tools" / "locustfile.py"), "--headless", "--only-summary",
             "-u", str(users), "-r", str(users), "-t", f"{int(seconds)}s", "--host", host,
             "--csv", prefix, "--stop-timeout", "60", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=seconds + 180,
        )
        rows = {row["Name"]: row for row in csv.DictReader(open(prefix + "_stats.csv", encoding="utf-8"))}
        errors = {f'{row["Name"]}: {row["Error"]}'[:120]: int(row["Occurrences"])
                  for row in csv.DictReader(open(prefix + "_failures.csv", encoding="utf-8"))}
    total = rows["Aggregated"]
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    cpu = {}
    if servers_pid and requests:
        cpu = {"server_cpu_ms_per_turn": round((cpu_seconds(servers_pid) - cpu_before) * 1000 / requests, 1)}
    return {**cpu,
        "turns": requests, "failures": failures,
        "answered_per_s": round((requests - failures) / seconds, 1),
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
        "by_kind_p95_ms": {k: float(v["95%"]) for k, v in rows.items() if k != "Aggregated"},
        **({"errors": errors} if errors else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=40, help="closed-loop residents")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=0.0, help="open-loop turns/s (default 60%% of single)")
    parser.add_argument("--open-users", type=int, default=150)
    parser.add_argument("--database-url", default=DATABASE)
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    results: dict = {"single": {"capacity": []}, "cluster": {"capacity": []}}
    with tempfile.TemporaryDirectory() as tmp:
        print("starting make run (single Rasa, SQLite) and make run-cluster side by side ...", flush=True)
        single = start_stack(Path(tmp) / "single")
        cluster = None
        try:
            cluster = start_cluster(Path(tmp) / "cluster", args.database_url)
            hosts = {"single": single.rasa, "cluster": cluster.rasa}
            pids = {"single": single.process.pid, "cluster": cluster.process.pid}
            for host in hosts.values():  # warm-up
                locust(host, 10, 10, "closed")
            for _ in range(args.rounds):
                for name, host in hosts.items():
                    figures = locust(host, args.seconds, args.users, "closed", servers_pid=pids[name])
                    results[name]["capacity"].append(figures)
                    print(f"capacity {name:8s} {json.dumps(figures, ensure_ascii=False)}", flush=True)
            for name in hosts:
                runs = results[name]["capacity"]
                results[name]["capacity_per_s"] = round(sum(r["answered_per_s"] for r in runs) / len(runs), 1)
            ratio = results["cluster"]["capacity_per_s"] / results["single"]["capacity_per_s"]
            results["throughput_ratio"] = round(ratio, 2)
            rate = args.rate or round(0.6 * results["single"]["capacity_per_s"], 1)
            results["open_rate_per_s"] = rate
            for name, host in hosts.items():
                figures = locust(host, args.seconds, args.open_users, "open", rate)
                results[name]["open_loop"] = figures
                print(f"open loop {rate}/s {name:8s} {json.dumps(figures, ensure_ascii=False)}", flush=True)
            port = cluster.replica_ports()[0]
            killer = threading.Timer(5, lambda: os.kill(cluster.replica_pid(port), signal.SIGKILL))
            killer.start()
            figures = locust(hosts["cluster"], args.seconds, args.open_users, "open", rate)
            results["cluster"]["open_loop_replica_killed"] = figures
            print(f"open loop {rate}/s cluster, a replica killed at 5 s {json.dumps(figures)}", flush=True)
        finally:
            if cluster:
                stop_cluster(cluster)
            stop_stack(single)
    print(f"\nthroughput (closed loop, {args.users} residents): "
          f"make run {results['single']['capacity_per_s']} turns/s, "
          f"make run-cluster {results['cluster']['capacity_per_s']} turns/s: "
          f"{results['throughput_ratio']}× (issue 15: ≥ 1.15×)")
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "loadtest.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
