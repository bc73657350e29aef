"""`make eval` (part 3): what residents actually get back, end to end.

Each held-out resident message (``nlu_data_holdout/``, never trained on) is parsed by the
trained model (``models/community.tar.gz``), routed the way the assistant's rules route it
(``nlu_data/rules``: intent → action, request_form, responses), and the real actions run
in-process on a throw-away store, as ``tests/unit/actions/test_actions.py`` runs them. The reply is then
judged against the message's label: the right service answered, the request form opened, the
domain's menu, an emergency line, a handoff, an honest fallback or an interface answer.

Prints outcome accuracy overall, per domain and per style, and writes every miss to
``results/eval_outcomes.json``.

    .venv/bin/python -m tools.eval_outcomes [MODEL] [--holdout DIR]
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import pkgutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import yaml

from nlu_eval import runner as nlu_runner

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = ROOT / "nlu_data_holdout"
MODEL = ROOT / "models" / "community.tar.gz"
EMERGENCY_MARK = "请马上拨打"
INTERFACE_KINDS = ("large", "slow", "voice")


# -- routing ------------------------------------------------------------------------------------
def load_routes(rules_dir: Path = ROOT / "nlu_data" / "rules") -> Dict[str, str]:
    """intent → the first action of the unconditional rule that starts with it."""
    routes: Dict[str, str] = {}
    for path in sorted(rules_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or []:
            if rule.get("condition") or rule.get("conversation_start"):
                continue
            steps = rule.get("steps") or []
            if len(steps) >= 2 and "intent" in steps[0] and "action" in steps[1]:
                routes.setdefault(steps[0]["intent"], steps[1]["action"])
    return routes


def load_responses(domain_dir: Path = ROOT / "domain") -> Dict[str, Dict[str, Any]]:
    responses: Dict[str, Dict[str, Any]] = {}
    for path in sorted(domain_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            responses[name] = dict(variants[0])
    return responses


def load_actions() -> Dict[str, Any]:
    """Every custom action of the ``actions`` package, by name."""
    from rasa_sdk import Action

    import actions

    found: Dict[str, Any] = {}
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                try:
                    instance = cls()
                    name = instance.name()
                except Exception:  # noqa: BLE001 - base classes without a name
                    continue
                if name and name != "action_answer_":  # the catalogue actions' base class
                    found.setdefault(name, instance)
    return found


# -- one message --------------------------------------------------------------------------------
@dataclass
class Outcome:
    intent: str
    confidence: float
    action: str
    texts: List[str] = field(default_factory=list)
    buttons: List[Dict[str, str]] = field(default_factory=list)
    customs: List[Any] = field(default_factory=list)
    responses: List[str] = field(default_factory=list)  # the domain responses an action sent
    form_kind: str | None = None
    ranking: List[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "intent": self.intent, "confidence": round(self.confidence, 3), "action": self.action,
            "reply": self.text, "buttons": [b.get("title") for b in self.buttons][:6],
            "form_kind": self.form_kind, "ranking": self.ranking,
        }


def _tracker(text: str, parse: Dict[str, Any], form: bool = False):
    """The tracker an action gets for the message; for the request form, as Rasa gives it when
    the message activates the form: the loop already active, set after the message."""
    from rasa_sdk import Tracker

    latest = {
        "text": text,
        "intent": parse.get("intent") or {},
        "intent_ranking": parse.get("intent_ranking") or [],
        "entities": parse.get("entities") or [],
    }
    user = {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest",
            "metadata": {"channel": "eval"}}
    if form:
        events = [user, {"event": "active_loop", "name": "request_form"},
                  {"event": "slot", "name": "requested_slot", "value": None},
                  {"event": "action", "name": "request_form"}]
        loop = {"name": "request_form"}
        return Tracker("eval-resident", {}, latest, events, False, None, loop, "request_form")
    return Tracker("eval-resident", {}, latest, [user], False, None, {}, "action_listen")


async def run_message(text: str, parse: Dict[str, Any], routes, responses, actions) -> Outcome:
    from rasa_sdk.executor import CollectingDispatcher

    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    action_name = routes.get(intent, "action_default_fallback")
    ranking = [f"{r.get('name')} {float(r.get('confidence') or 0):.2f}"
               for r in (parse.get("intent_ranking") or [])[:4]]
    outcome = Outcome(intent, confidence, action_name, ranking=ranking)
    dispatcher = CollectingDispatcher()
    tracker = _tracker(text, parse, form=action_name == "request_form")
    if action_name == "request_form":
        events = await actions["validate_request_form"].run(dispatcher, tracker, {})
        for event in events or []:
            if event.get("event") == "slot" and event.get("name") == "request_kind" and event.get("value"):
                outcome.form_kind = str(event["value"])
    elif action_name.startswith("utter_"):
        response = responses.get(action_name, {})
        dispatcher.utter_message(text=response.get("text"), buttons=response.get("buttons") or [])
    elif action_name in actions:
        await actions[action_name].run(dispatcher, tracker, {})
    for message in dispatcher.messages:
        response = responses.get(message.get("response") or "") or {}
        if message.get("response"):
            outcome.responses.append(str(message["response"]))
        text = message.get("text") or response.get("text")
        if text:
            outcome.texts.append(str(text))
        outcome.buttons.extend(message.get("buttons") or response.get("buttons") or [])
        if message.get("custom"):
            outcome.customs.append(message["custom"])
    return outcome


# -- judging ------------------------------------------------------------------------------------
def answered_services(outcome: Outcome, catalogue) -> List[str]:
    text = outcome.text
    return [s.id for s in catalogue.services if f"【{s.name}】" in text or f"「{s.name}」" in text]


def menu_domain(outcome: Outcome, catalogue) -> str | None:
    """The domain whose services the reply's buttons offer (a menu or a domain fallback)."""
    domains = []
    for button in outcome.buttons:
        payload = str(button.get("payload") or "")
        if '"service":"' in payload and '"aspect"' not in payload:
            service_id = payload.split('"service":"', 1)[1].split('"', 1)[0]
            service = catalogue.get(service_id)
            if service is not None:
                domains.append(service.domain)
    return max(set(domains), key=domains.count) if domains else None


def apply_kind(outcome: Outcome) -> str | None:
    """The request kind of an answer whose first button is 在线办理."""
    if outcome.buttons and outcome.buttons[0].get("title") == "在线办理":
        payload = str(outcome.buttons[0].get("payload") or "")
        if '"request_kind":"' in payload:
            return payload.split('"request_kind":"', 1)[1].split('"', 1)[0]
    return None


def interface_kind(outcome: Outcome) -> str | None:
    for custom in outcome.customs:
        if isinstance(custom, dict):
            if custom.get("interface") in INTERFACE_KINDS:
                return str(custom["interface"])
            if custom.get("speech_rate") == "slow":
                return "slow"
    return None


# The honest "can't help" of the unclear action: a question it can't answer, or English it
# can't read (What's the best bubble tea shop around here?).
CANT_HELP = ("答不上来", "只能看懂中文")


def is_fallback(outcome: Outcome) -> bool:
    return outcome.action in ("utter_out_of_scope", "action_answer_out_of_scope") or (
        outcome.action == "action_handle_unclear" and any(w in outcome.text for w in CANT_HELP)
    )


# A complaint (噪音, 路灯, 电梯…) is rightly answered by taking the report: the 接诉即办 form
# opened with what the message said, not asking again which kind of problem it is.
COMPLAINT_PREFIX = "community_complaint_"
ASKS_CATEGORY = "反映哪类问题"
# What the assistant says about itself: who it is (utter_iamabot), the greeting with the main
# menu (utter_greet) or what it helps with (utter_what_i_do, sent by an action).
# ``menu:any`` (a meta question: 你能干啥) takes these or any domain's menu.
ABOUT_ACTIONS = ("utter_iamabot", "utter_greet", "utter_what_i_do")


def about_itself(outcome: Outcome) -> bool:
    return outcome.action in ABOUT_ACTIONS or any(r in ABOUT_ACTIONS for r in outcome.responses)


def report_taken(outcome: Outcome) -> bool:
    return outcome.form_kind == "report" and ASKS_CATEGORY not in outcome.text


def handed_over(outcome: Outcome) -> bool:
    """The resident who asked for a person was handed over: by the handoff action, or by the
    unclear action reading a request in English (Can I talk to a real person please)."""
    from actions.handoff import HANDED_OVER

    return outcome.action == "action_human_handoff" or (
        bool(outcome.texts) and outcome.texts[0].startswith(HANDED_OVER)
    )


def judge(expect: str, outcome: Outcome, catalogue) -> bool:
    services = answered_services(outcome, catalogue)
    emergency = bool(outcome.texts) and EMERGENCY_MARK in outcome.texts[0].splitlines()[0]
    for alternative in expect.split("|"):
        kind, _, value = alternative.partition(":")
        if kind == "service" and value in services:
            return True
        if kind == "service" and value.startswith(COMPLAINT_PREFIX) and report_taken(outcome):
            return True
        if kind == "both" and all(v in services for v in value.split(",")):
            return True
        if kind == "form" and (outcome.form_kind == value or apply_kind(outcome) == value):
            return True
        if kind == "menu" and not services and menu_domain(outcome, catalogue) == value:
            return True
        if kind == "menu" and value == "any" and not services and (
            menu_domain(outcome, catalogue) is not None or about_itself(outcome)
        ):
            return True
        if kind == "about" and about_itself(outcome):
            return True
        if kind == "emergency" and emergency:
            return True
        if kind == "handoff" and handed_over(outcome):
            return True
        if kind == "fallback" and is_fallback(outcome) and menu_domain(outcome, catalogue) is None:
            return True
        if kind == "interface" and interface_kind(outcome) == value:
            return True
    return False


def load_holdout(directory: Path) -> List[Dict[str, str]]:
    messages: List[Dict[str, str]] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        messages.extend(data.get("messages") or [])
    return messages


def _rates(rows: List[Dict[str, Any]], key: str) -> Dict[str, Dict[str, float]]:
    groups: Dict[str, List[bool]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row["ok"])
    return {k: {"accuracy": sum(v) / len(v), "n": len(v)} for k, v in sorted(groups.items())}


def evaluate(model: Path = MODEL, holdout: Path = HOLDOUT) -> Dict[str, Any]:
    from rasa.core.agent import Agent

    from actions import runtime
    from community.catalogue import load_catalogue
    from community.settings import Settings
    from community.store import Store

    nlu_runner.quiet()
    messages = load_holdout(holdout)
    routes, responses, actions = load_routes(), load_responses(), load_actions()
    agent = Agent.load(str(model))
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp))
        catalogue = load_catalogue(settings.catalogue_dir)
        runtime.configure(
            runtime.Runtime(settings=settings, catalogue=catalogue,
                            store=Store.from_url(f"sqlite:///{Path(tmp) / 'store.db'}"))
        )
        try:
            async def run_all() -> None:
                for m in messages:
                    parse = await agent.parse_message(m["text"])
                    outcome = await run_message(m["text"], parse, routes, responses, actions)
                    rows.append({**m, "ok": judge(m["expect"], outcome, catalogue),
                                 "got": outcome.as_dict(),
                                 "answered": answered_services(outcome, catalogue)})

            asyncio.run(run_all())
        finally:
            runtime.configure(None)
    in_domains = [r for r in rows if r["domain"] not in ("interface", "oos", "meta")]
    return {
        "messages": len(rows),
        "outcome_accuracy": sum(r["ok"] for r in rows) / len(rows) if rows else 0.0,
        "service_domains_accuracy": (
            sum(r["ok"] for r in in_domains) / len(in_domains) if in_domains else 0.0
        ),
        "per_domain": _rates(rows, "domain"),
        "per_style": _rates(rows, "style"),
        "misses": [
            {k: r[k] for k in ("text", "domain", "style", "expect", "got", "answered")}
            for r in rows if not r["ok"]
        ],
    }


def report_path(holdout: Path) -> Path:
    """results/eval_outcomes.json for the main set, results/eval_outcomes_<name>.json for another."""
    name = "" if holdout.resolve() == HOLDOUT.resolve() else f"_{holdout.name}"
    return ROOT / "results" / f"eval_outcomes{name}.json"


def print_summary(summary: Dict[str, Any], holdout: Path = HOLDOUT) -> None:
    where = holdout.resolve().relative_to(ROOT) if holdout.resolve().is_relative_to(ROOT) else holdout
    print(f"\n=== Outcomes end to end ({where}, never trained on) ===")
    print(f"{'messages':38s} {summary['messages']}")
    print(f"{'outcome accuracy (right answer)':38s} {summary['outcome_accuracy']:.4f}")
    print(f"{'  in the ten service domains':38s} {summary['service_domains_accuracy']:.4f}")
    for key, title in (("per_domain", "per domain"), ("per_style", "per style")):
        print(f"{title}:")
        for name, row in summary[key].items():
            print(f"  {name:14s} {row['accuracy']:.4f}  (n={row['n']})")
    print(f"misses: {len(summary['misses'])}; first 15:")
    for miss in summary["misses"][:15]:
        got = miss["got"]
        print(f"  [{miss['style']}] {miss['text'][:40]} → {got['intent']} {got['action']}"
              f" {miss['answered'][:2] or (got['form_kind'] or got['reply'][:24])}  (want {miss['expect']})")


def main(argv: List[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    holdout = HOLDOUT
    if "--holdout" in args:
        i = args.index("--holdout")
        holdout = Path(args[i + 1])
        del args[i : i + 2]
    model = Path(args[0]) if args else MODEL
    if not model.exists():
        print(f"No model at {model}: run `make train` first.", file=sys.stderr)
        return 2
    summary = evaluate(model, holdout)
    print_summary(summary, holdout)
    (ROOT / "results").mkdir(exist_ok=True)
    path = report_path(holdout)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"full report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
