"""`make bench`: speed figures of the running assistant, printed as numbers.

* ``/model/parse`` latency p50/p95;
* REST round trip p50/p95 with 1 and 20 concurrent residents;
* training time (a full ``rasa train`` from scratch);
* server cold-start time (``python -m bot`` until every server answers);
* peak memory (high-water RSS of the Rasa server, the action server and the web app).

Everything runs on loopback against the real servers; results go to results/bench.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tools.stack import start_stack, stop_stack

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "高龄津贴怎么申请", "居委会能开无犯罪证明吗", "我妈想报个助餐", "孩子放学没人接有托管吗",
    "失业登记去哪办", "残疾证怎么办", "楼上装修太吵了", "家庭医生怎么签约", "我想当志愿者",
    "低保怎么申请", "你好", "谢谢", "法律援助找谁", "老人体检什么时候", "3栋2单元路灯坏了",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe(latencies_s: list[float]) -> dict:
    ms = [v * 1000 for v in latencies_s]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "mean_ms": round(statistics.fmean(ms), 1)}


async def _timed_post(session: aiohttp.ClientSession, url: str, payload: dict) -> float:
    start = time.perf_counter()
    async with session.post(url, json=payload) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} answered HTTP {response.status}")
    return time.perf_counter() - start


async def parse_latency(url: str, rounds: int) -> list[float]:
    """``url``: /model/parse with the API token (``Stack.api``)."""
    async with aiohttp.ClientSession() as session:
        return [await _timed_post(session, url, {"text": q}) for _ in range(rounds) for q in QUESTIONS]


TURNS_PER_CONVERSATION = 5


async def rest_latency(
    base: str, residents: int, messages_each: int, think_s: float = 0.0
) -> tuple[list[float], float]:
    """Each concurrent resident sends its messages one after another, without pause, in
    conversations of five turns (a new sender id each time, as at a real service counter)."""
    url = f"{base}/webhooks/rest/webhook"
    run_id = time.monotonic_ns()

    async def resident(n: int, session: aiohttp.ClientSession) -> list[float]:
        latencies = []
        await asyncio.sleep(think_s * n / residents)  # residents don't all arrive at once
        for i in range(messages_each):
            latencies.append(await _timed_post(session, url, {
                "sender": f"bench-{run_id}-{n}-{i // TURNS_PER_CONVERSATION}",
                "message": QUESTIONS[(n + i) % len(QUESTIONS)],
            }))
            await asyncio.sleep(think_s)
        return latencies

    connector = aiohttp.TCPConnector(limit=residents)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        results = await asyncio.gather(*(resident(n, session) for n in range(residents)))
        elapsed = time.perf_counter() - start
    return [v for r in results for v in r], elapsed


FORM_TURNS = ("我想给我妈报个助餐她82了住3栋2单元501", "王秀英", "13812345678", "不吃辣", "送餐上门")


async def form_latency(base: str, conversations: int) -> tuple[list[float], list[float]]:
    """Request-form turns (filling, checking, the summary) and the confirmation turn (the request
    is committed before the reply), one resident at a time."""
    url = f"{base}/webhooks/rest/webhook"
    run_id = time.monotonic_ns()
    turns: list[float] = []
    confirms: list[float] = []
    async with aiohttp.ClientSession() as session:
        for n in range(conversations):
            sender = f"bench-form-{run_id}-{n}"
            for text in FORM_TURNS:
                turns.append(await _timed_post(session, url, {"sender": sender, "message": text}))
            confirms.append(await _timed_post(session, url, {"sender": sender, "message": "确认"}))
    return turns, confirms


def peak_rss_mb(pids: list[int]) -> dict:
    def tree(pid: int) -> list[int]:
        found = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*"):
            for child in (task / "children").read_text().split():
                found += tree(int(child))
        return found

    result = {}
    for name, pid in zip(("actions", "rasa", "web"), pids, strict=False):
        total = 0
        for p in tree(pid):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        result[name] = round(total / 1024, 1)
    return result


def training_time() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain",
             "--data", "nlu_data", "--out", out, "--force"],
            cwd=ROOT, check=True, capture_output=True,
        )
        return time.perf_counter() - start


def main() -> int:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    results: dict = {}
    print("training a model from scratch ...", flush=True)
    results["training_s"] = round(training_time(), 1)
    with tempfile.TemporaryDirectory() as var_dir:
        start = time.perf_counter()
        stack = start_stack(Path(var_dir))
        results["cold_start_s"] = round(time.perf_counter() - start, 1)
        try:
            asyncio.run(rest_latency(stack.rasa, 5, 4))  # warm-up
            results["model_parse"] = describe(asyncio.run(parse_latency(stack.api("/model/parse"), 10)))
            # Closed loop: every resident sends its next message as soon as it has the answer.
            # With think time: residents read the answer for 1 s before the next message.
            for key, residents, each, think in (
                ("rest_1_concurrent", 1, 150, 0.0),
                ("rest_20_concurrent", 20, 15, 0.0),
                ("rest_20_residents_1s_think", 20, 10, 1.0),
            ):
                latencies, elapsed = asyncio.run(rest_latency(stack.rasa, residents, each, think))
                summary = describe(latencies)
                summary["throughput_msg_per_s"] = round(len(latencies) / elapsed, 1)
                results[key] = summary
            form_turns, confirms = asyncio.run(form_latency(stack.rasa, 20))
            results["form_turn"] = describe(form_turns)
            results["form_confirm_and_store"] = describe(confirms)
            results["peak_rss_mb"] = peak_rss_mb(stack.children())
        finally:
            stop_stack(stack)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    parse = results["model_parse"]
    print(f"\n{'/model/parse':28s} p50 {parse['p50_ms']} ms   p95 {parse['p95_ms']} ms")
    labels = {"rest_1_concurrent": "REST  1 concurrent", "rest_20_concurrent": "REST 20 concurrent",
              "rest_20_residents_1s_think": "REST 20 residents, 1 s think"}
    for key, label in labels.items():
        r = results[key]
        print(f"{label:28s} p50 {r['p50_ms']} ms   p95 {r['p95_ms']} ms   {r['throughput_msg_per_s']} msg/s")
    form_labels = {"form_turn": "request form turn", "form_confirm_and_store": "confirm (stored, then reply)"}
    for key, label in form_labels.items():
        r = results[key]
        print(f"{label:28s} p50 {r['p50_ms']} ms   p95 {r['p95_ms']} ms")
    print(f"{'training time':28s} {results['training_s']} s")
    print(f"{'cold start':28s} {results['cold_start_s']} s")
    print(f"{'peak memory (RSS)':28s} {results['peak_rss_mb']} MB")
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
