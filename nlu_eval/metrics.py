"""Intent-classification metrics: accuracy, macro-F1, per-domain accuracy, rejection rate,
and a confusion report. Pure Python, so it is tested without Rasa."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

REJECTED = ("out_of_scope", "nlu_fallback")


@dataclass(frozen=True)
class Prediction:
    text: str
    gold: str
    predicted: str  # after the fallback classifier (may be nlu_fallback)
    top: str  # the classifier's own first choice, ignoring nlu_fallback
    confidence: float = 1.0  # the classifier's confidence in ``top``


def f1_per_label(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[float, float, float, int]]:
    """(precision, recall, F1, support) per gold label."""
    pairs = list(pairs)
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for gold, pred in pairs:
        if gold == pred:
            tp[gold] += 1
        else:
            fp[pred] += 1
            fn[gold] += 1
    support = Counter(g for g, _ in pairs)
    scores = {}
    for label in support:
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        scores[label] = (p, r, f, support[label])
    return scores


def macro_f1(pairs: Iterable[tuple[str, str]]) -> float:
    scores = f1_per_label(pairs)
    return sum(s[2] for s in scores.values()) / len(scores) if scores else 0.0


def accuracy(pairs: Iterable[tuple[str, str]]) -> float:
    pairs = list(pairs)
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0


def routed(pred: Prediction) -> str:
    """What the resident experiences: out-of-scope questions count as handled when rejected."""
    if pred.gold == "out_of_scope" and pred.predicted in REJECTED:
        return "out_of_scope"
    return pred.predicted


def summarise(preds: list[Prediction], domain_of: Callable[[str], str]) -> dict:
    in_scope = [p for p in preds if p.gold != "out_of_scope"]
    oos = [p for p in preds if p.gold == "out_of_scope"]
    by_domain: dict[str, list[Prediction]] = defaultdict(list)
    for p in in_scope:
        by_domain[domain_of(p.gold)].append(p)
    confusions = Counter((p.gold, p.top) for p in preds if p.gold != p.top)
    false_rejects = [p for p in in_scope if p.predicted in REJECTED]
    return {
        "examples": len(preds),
        "intent_accuracy": accuracy((p.gold, p.top) for p in preds),
        "intent_macro_f1": macro_f1((p.gold, p.top) for p in preds),
        "routed_accuracy": accuracy((p.gold, routed(p)) for p in preds),
        "routed_macro_f1": macro_f1((p.gold, routed(p)) for p in preds),
        "in_scope_false_rejection_rate": len(false_rejects) / len(in_scope) if in_scope else 0.0,
        "oos_rejection_rate": (
            sum(p.predicted in REJECTED for p in oos) / len(oos) if oos else None
        ),
        "per_domain_accuracy": {
            d: accuracy((p.gold, p.top) for p in ps) for d, ps in sorted(by_domain.items())
        },
        "per_intent": {
            k: {"precision": v[0], "recall": v[1], "f1": v[2], "support": v[3]}
            for k, v in sorted(f1_per_label((p.gold, p.top) for p in preds).items())
        },
        "top_confusions": [
            {"gold": g, "predicted": t, "count": n} for (g, t), n in confusions.most_common(15)
        ],
        "errors": [
            {"text": p.text, "gold": p.gold, "top": p.top, "predicted": p.predicted}
            for p in preds
            if p.gold != routed(p)
        ],
    }


def threshold_sweep(preds: list[Prediction], thresholds: Iterable[float]) -> list[dict]:
    """Out-of-scope rejection against in-scope false rejection for fallback thresholds."""
    in_scope = [p for p in preds if p.gold != "out_of_scope"]
    oos = [p for p in preds if p.gold == "out_of_scope"]
    rows = []
    for t in thresholds:
        rejected_oos = sum(p.top == "out_of_scope" or p.confidence < t for p in oos)
        rejected_in = sum(p.top == "out_of_scope" or p.confidence < t for p in in_scope)
        correct_in = sum(p.top == p.gold and p.confidence >= t for p in in_scope)
        rows.append({
            "threshold": t,
            "oos_rejection": rejected_oos / len(oos) if oos else 0.0,
            "in_scope_false_rejection": rejected_in / len(in_scope) if in_scope else 0.0,
            "in_scope_answered_correctly": correct_in / len(in_scope) if in_scope else 0.0,
        })
    return rows


def print_report(title: str, summary: dict, extra: dict | None = None) -> None:
    print(f"\n=== {title} ===")
    for key, value in (extra or {}).items():
        print(f"{key:38s} {value}")
    print(f"{'held-out examples':38s} {summary['examples']}")
    print(f"{'intent accuracy (classifier top-1)':38s} {summary['intent_accuracy']:.4f}")
    print(f"{'intent macro-F1 (classifier top-1)':38s} {summary['intent_macro_f1']:.4f}")
    print(f"{'routed accuracy (after fallback)':38s} {summary['routed_accuracy']:.4f}")
    print(f"{'routed macro-F1 (after fallback)':38s} {summary['routed_macro_f1']:.4f}")
    print(f"{'in-scope sent to fallback':38s} {summary['in_scope_false_rejection_rate']:.4f}")
    if summary["oos_rejection_rate"] is not None:
        print(f"{'out-of-scope rejection rate':38s} {summary['oos_rejection_rate']:.4f}")
    if summary["per_domain_accuracy"]:
        print("per-domain accuracy (classifier top-1):")
        for domain, acc in summary["per_domain_accuracy"].items():
            print(f"  {domain:14s} {acc:.4f}")
    print("weakest intents (F1):")
    weakest = sorted(summary["per_intent"].items(), key=lambda kv: kv[1]["f1"])[:8]
    for name, s in weakest:
        print(f"  {name:26s} P {s['precision']:.2f}  R {s['recall']:.2f}  F1 {s['f1']:.2f}  n={s['support']}")
    print("top confusions (gold → predicted: count):")
    for c in summary["top_confusions"][:10]:
        print(f"  {c['gold']} → {c['predicted']}: {c['count']}")
