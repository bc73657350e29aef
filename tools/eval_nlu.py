"""`make eval` (part 1): train on the training split, report on the held-out split.

Prints intent accuracy, macro-F1, per-domain accuracy, the out-of-scope rejection rate and a
confusion report; writes the full report (with every error) to results/eval_nlu.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from community.intents import report_domain
from community.training_data import HOLDOUT_DIR
from nlu_eval import runner as nlu_runner
from nlu_eval.metrics import print_report, summarise, threshold_sweep

ROOT = Path(__file__).resolve().parent.parent


def evaluate(config: str = "config.yml", out: Path = ROOT / "var" / "eval") -> dict:
    nlu_runner.quiet()
    model, seconds = nlu_runner.train(config, str(ROOT / "nlu_data"), out, "nlu-eval")
    examples = nlu_runner.load_examples(ROOT / HOLDOUT_DIR)
    preds = nlu_runner.classify(model, examples)
    summary = summarise(preds, report_domain)
    summary["training_seconds"] = seconds
    summary["threshold_sweep"] = threshold_sweep(preds, [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6])
    return summary


def main() -> int:
    config = sys.argv[1] if len(sys.argv) > 1 else "config.yml"
    summary = evaluate(config)
    print_report(
        "Held-out evaluation (nlu_data_holdout/intents, never trained on)",
        summary,
        {"config": config, "NLU training time (s)": f"{summary['training_seconds']:.1f}"},
    )
    print("fallback threshold sweep (OOS rejected / in-scope rejected / in-scope answered right):")
    for row in summary["threshold_sweep"]:
        print(f"  {row['threshold']:.2f}  {row['oos_rejection']:.3f}  {row['in_scope_false_rejection']:.3f}"
              f"  {row['in_scope_answered_correctly']:.3f}")
    (ROOT / "results").mkdir(exist_ok=True)
    path = ROOT / "results" / "eval_nlu.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"full report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
