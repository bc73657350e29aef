"""Proving the fix after a retrain (issue 17): every question staff reviewed since the last
retrain is asked again of the model now serving (through the one Rasa client); those that still
fail go back to the review queue, marked. And the gate report: each new or changed intent, by its
Chinese name, with the examples staff gave and its held-out results, in plain Chinese."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from bot.resident.rasa import RasaClient, RasaUnavailable
from community.settings import Settings
from community.store import Store
from community.training_data import TrainingData

MAX_EXAMPLES_SHOWN = 6


def taught(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Questions reviewed since the last retrain (not yet asked again), by the intent taught."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.review_queue.unchecked():
        if row.get("assigned_intent"):
            found[str(row["assigned_intent"])].append(row)
    return dict(found)


def ask_again(settings: Settings, store: Store, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Parse each reviewed question with the serving model: answered when it now reaches the
    intent staff taught. Marks them in the queue (still failing ones come back, marked)."""

    async def parse_all() -> dict[int, str]:
        got: dict[int, str] = {}
        async with RasaClient.from_settings(settings, timeout=30) as rasa:
            for items in rows.values():
                for row in items:
                    parsed = await rasa.parse(str(row.get("corrected_text") or row["text"]))
                    got[int(row["id"])] = str((parsed.get("intent") or {}).get("name") or "")
        return got

    predicted = asyncio.run(parse_all())
    per_intent: dict[str, dict[str, int]] = {}
    answered, failing = [], []
    for intent, items in rows.items():
        ok = [r["id"] for r in items if predicted.get(int(r["id"])) == intent]
        bad = [r["id"] for r in items if predicted.get(int(r["id"])) != intent]
        answered += ok
        failing += bad
        per_intent[intent] = {"answered": len(ok), "failing": len(bad)}
    store.review_queue.rechecked(answered, failing)
    return {"answered": len(answered), "failing": len(failing), "per_intent": per_intent}


def recheck_message(result: dict[str, Any] | None) -> str:
    if not result or not (result["answered"] or result["failing"]):
        return ""
    text = f"这批问题：{result['answered']} 条现在能答了，{result['failing']} 条还不行"
    if result["failing"]:
        text += "（已放回待答问题，标着“重新训练后还答不了”）"
    return text + "。"


def _holdout_line(intent: str, old: dict | None, new: dict | None) -> str:
    now = (new or {}).get(intent)
    before = (old or {}).get(intent)
    if not now:
        return "留出测试题里没有这类问题（新问题用上面重新问一遍的结果来检验）。"
    n = int(now.get("support") or 0)
    right_now = round(float(now.get("recall") or 0.0) * n)
    if before:
        right_before = round(float(before.get("recall") or 0.0) * n)
        return f"留出测试 {n} 题：原来答对 {right_before} 题，现在答对 {right_now} 题。"
    return f"留出测试 {n} 题：现在答对 {right_now} 题。"


def gate_report(
    data: TrainingData,
    rows: dict[str, list[dict[str, Any]]],
    old: dict | None,
    new: dict | None,
    recheck: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One entry per intent taught in this cycle: its Chinese name, whether it is new, the
    examples staff gave, its held-out results (old and new model) and how its reviewed
    questions fare now."""
    faqs = data.faq_intents()
    report = []
    for intent, items in sorted(rows.items(), key=lambda kv: -len(kv[1])):
        examples = [str(r.get("corrected_text") or r["text"]) for r in items]
        entry = {
            "intent": intent,
            "label": data.label(intent),
            "kind": "新问题" if intent in faqs else "补充例句",
            "examples": examples[:MAX_EXAMPLES_SHOWN],
            "more_examples": max(0, len(examples) - MAX_EXAMPLES_SHOWN),
            "holdout": _holdout_line(intent, old, new),
            "recheck": "",
        }
        counts = (recheck or {}).get("per_intent", {}).get(intent)
        if counts:
            entry["recheck"] = f"这批问题：{counts['answered']} 条现在能答了，{counts['failing']} 条还不行。"
        report.append(entry)
    return report


__all__ = ["RasaUnavailable", "ask_again", "gate_report", "recheck_message", "taught"]
