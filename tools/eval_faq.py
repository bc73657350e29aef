"""`make eval` (review loop): one staff review cycle, measured.

Five new questions residents asked (上门理发, 快递柜, 电动车充电, 老年大学, 糖尿病餐) are taught
as new FAQs with three staff wordings each (nlu_data_holdout/review_cycle/faq_cycle.yml), in a
copy of the project's training data; one NLU retrain; then the ten new wordings residents use
later are parsed. Prints how many get the staff answer, with retrieval over staff-approved
questions (nlu_components/faq_retrieval.py) and by the classifier alone; how many held-out
questions of other intents retrieval took wrongly; and the threshold calibration.
Writes results/eval_faq.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from community.training_data import HOLDOUT_DIR
from nlu_eval import runner as nlu_runner
from nlu_eval.review_cycle import CYCLE_FILE, copy_project, load_cycle, measure, teach

ROOT = Path(__file__).resolve().parent.parent


def evaluate(source: Path = ROOT) -> dict:
    nlu_runner.quiet()
    faqs = load_cycle(source / CYCLE_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_project(source, Path(tmp) / "project")
        names = teach(root, faqs)
        model, seconds = nlu_runner.train(
            str(root / "config.yml"), str(root / "nlu_data"), Path(tmp) / "models", "faq-cycle"
        )
        holdout = nlu_runner.load_examples(root / HOLDOUT_DIR)
        result = measure(model, faqs, names, holdout)
    result["training_seconds"] = round(seconds, 1)
    result["faqs"] = names
    return result


def main() -> int:
    result = evaluate()
    print("\n=== Review loop: one cycle, 3 staff wordings per new FAQ ===")
    print(f"new wordings answered with the staff answer: {result['answered']}/{result['total']}"
          f" (classifier alone: {result['classifier_alone']}/{result['total']})")
    print(f"held-out questions of other intents taken by retrieval: "
          f"{result['holdout_wrongly_taken']}/{result['holdout']}")
    for row in result["rows"]:
        mark = "ok " if row["intent"] == row["gold"] else "MISS"
        print(f"  {mark} {row['text']}  → {row['intent']} (classifier {row['classifier']}, "
              f"nearest {row['nearest']} {row['score']:.2f})")
    print("threshold / nearest_threshold: answered / held-out questions wrongly taken")
    for t, c in result["calibration"].items():
        print(f"  {t}: {c['answered']}/{result['total']} / {c['wrongly_taken']}/{result['holdout']}")
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "eval_faq.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if result["answered"] * 10 >= 8 * result["total"] else 1


if __name__ == "__main__":
    sys.exit(main())
