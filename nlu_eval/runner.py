"""Train an NLU model in-process and classify texts with it (for the evaluation scripts)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from nlu_eval.metrics import Prediction


def quiet() -> None:
    """Before Rasa is loaded: no telemetry, no TensorFlow chatter, no per-text debug lines."""
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    warnings.filterwarnings("ignore")
    for name in ("rasa", "tensorflow", "absl", "jieba", "py.warnings"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)  # rasa's structured debug lines would print every text


def train(config: str, nlu_data: str | list[str], out: Path, name: str) -> tuple[Path, float]:
    """Train an NLU-only model; returns its path and the training time in seconds."""
    from rasa.model_training import train_nlu

    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = nlu_data if isinstance(nlu_data, str) else ",".join(nlu_data)
    path = train_nlu(config, data, str(out), fixed_model_name=name)
    if not path:
        raise RuntimeError("rasa train nlu produced no model")
    return Path(path), time.perf_counter() - start


def load_examples(path: str | Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU file or directory, without entity markup."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def classify(model: Path, examples: list[tuple[str, str]]) -> list[Prediction]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> list[Prediction]:
        preds = []
        for text, gold in examples:
            parsed = await agent.parse_message(text)
            predicted = parsed["intent"]["name"]
            ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
            top = ranking[0] if ranking else parsed["intent"]
            preds.append(Prediction(text, gold, predicted, top["name"], float(top["confidence"])))
        return preds

    return asyncio.run(run())
