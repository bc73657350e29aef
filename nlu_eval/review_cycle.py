"""One staff review cycle, measured (issue 17): new FAQs taught with three wordings each, one
retrain, then new wordings of the same questions. Used by ``tools/eval_faq.py`` (``make eval``)
and ``tests/e2e/test_review_cycle.py``; the cycle's data is
``nlu_data_holdout/review_cycle/faq_cycle.yml`` (never trained on except the staff wordings,
which is what staff do)."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from community.training_data import HOLDOUT_DIR, TrainingData, faq_identifier

CYCLE_FILE = Path("nlu_data_holdout/review_cycle/faq_cycle.yml")
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
NEAREST = (0.2, 0.25, 0.3, 0.35, 0.4)


def takes(score: float, other: float, threshold: float, nearest: float) -> bool:
    """The retriever's rule (nlu_components/faq_retrieval.py)."""
    return score >= threshold or (score >= nearest and score > other)


@dataclass(frozen=True)
class Faq:
    label: str
    answer: str
    staff: tuple[str, ...]
    new: tuple[str, ...]


def load_cycle(path: Path) -> list[Faq]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [
        Faq(str(f["label"]), str(f["answer"]), tuple(map(str, f["staff"])), tuple(map(str, f["new"])))
        for f in data.get("faqs") or []
    ]


def copy_project(source: Path, root: Path) -> Path:
    """The project's training data copied to ``root`` (staff additions left out)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "config.yml", root / "config.yml")
    for name in ("domain", "nlu_data"):
        shutil.copytree(source / name, root / name, ignore=shutil.ignore_patterns("reviewed.yml"))
    shutil.copytree(source / HOLDOUT_DIR, root / HOLDOUT_DIR)
    return root


def teach(root: Path, faqs: list[Faq], reviewer: str = "评测") -> dict[str, str]:
    """What staff do in the console: each FAQ named in Chinese (its identifier made with
    pypinyin), its answer, and its staff wordings. Returns label → intent."""
    data = TrainingData(root)
    names = {}
    for faq in faqs:
        name = faq_identifier(faq.label, data.intents())
        data.create_intent(name, faq.label, faq.answer, list(faq.staff), reviewer)
        names[faq.label] = name
    return names


def parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> list[dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(run())


def measure(
    model: Path, faqs: list[Faq], names: dict[str, str], holdout: list[tuple[str, str]]
) -> dict[str, Any]:
    """How many new wordings reach the staff answer (with retrieval, and by the classifier
    alone), how many held-out questions of other intents retrieval took wrongly, and the same
    for each candidate threshold (the calibration)."""
    wordings = [(text, names[f.label]) for f in faqs for text in f.new]
    parsed = parse_all(model, [t for t, _ in wordings] + [t for t, _ in holdout])
    new, held = parsed[: len(wordings)], parsed[len(wordings) :]
    rows = []
    for (text, gold), p in zip(wordings, new, strict=True):
        found = p.get("faq_retrieval") or {}
        rows.append(
            {
                "text": text,
                "gold": gold,
                "intent": p["intent"]["name"],
                "classifier": found.get("classifier_intent") or p["intent"]["name"],
                "score": float(found.get("score") or 0.0),
                "nearest": found.get("intent"),
                "other": float(found.get("other_score") or 0.0),
            }
        )
    taken = []
    for (text, gold), p in zip(holdout, held, strict=True):
        found = p.get("faq_retrieval") or {}
        taken.append(
            {
                "text": text,
                "gold": gold,
                "score": float(found.get("score") or 0.0),
                "other": float(found.get("other_score") or 0.0),
                "nearest": found.get("intent"),
                "intent": p["intent"]["name"],
            }
        )

    def answered(t: float, n: float) -> int:
        return sum(
            1
            for r in rows
            if (r["nearest"] if takes(r["score"], r["other"], t, n) else r["classifier"]) == r["gold"]
        )

    def wrong(t: float, n: float) -> int:
        return sum(1 for r in taken if takes(r["score"], r["other"], t, n) and r["nearest"] != r["gold"])

    calibration = {
        f"{t:.2f}/{n:.2f}": {"answered": answered(t, n), "wrongly_taken": wrong(t, n)}
        for t in THRESHOLDS
        for n in NEAREST
        if n <= t
    }
    return {
        "answered": sum(r["intent"] == r["gold"] for r in rows),
        "classifier_alone": sum(r["classifier"] == r["gold"] for r in rows),
        "total": len(rows),
        "rows": rows,
        "holdout": len(taken),
        "holdout_wrongly_taken": sum(
            1 for r in taken if r["intent"] == r["nearest"] and r["nearest"] != r["gold"]
        ),
        "calibration": calibration,
    }
