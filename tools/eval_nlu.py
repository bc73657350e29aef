"""`make eval` (part 1): train on the training split, report on the held-out split.

Prints intent accuracy, macro-F1, per-domain accuracy, the out-of-scope rejection rate and a
confusion report; writes the full report (with every error) to results/eval_nlu.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from community.intents import report_domain
from tools import nlu_runner
from tools.nlu_metrics import print_report, summarise

ROOT = Path(__file__).resolve().parent.parent


def evaluate(config: str = "config.yml", out: Path = ROOT / "var" / "eval") -> dict:
    nlu_runner.quiet()
    model, seconds = nlu_runner.train(config, str(ROOT / "nlu_data"), out, "nlu-eval")
    examples = nlu_runner.load_examples(ROOT / "tests" / "nlu_holdout")
    summary = summarise(nlu_runner.classify(model, examples), report_domain)
    summary["training_seconds"] = seconds
    return summary


def main() -> int:
    config = sys.argv[1] if len(sys.argv) > 1 else "config.yml"
    summary = evaluate(config)
    print_report(
        "Held-out evaluation (tests/nlu_holdout, never trained on)",
        summary,
        {"config": config, "NLU training time (s)": f"{summary['training_seconds']:.1f}"},
    )
    (ROOT / "results").mkdir(exist_ok=True)
    path = ROOT / "results" / "eval_nlu.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"full report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
