"""Services named in a message, from the community's catalogue, and what they say about the
intent.

The catalogue's names and aliases (matched by characters and by pinyin, see
``community.catalogue``) are the surest sign of what a resident asks about: "城乡居民养老保险怎么交"
is not out of scope because the classifier has never seen 养老保险. This component adds each
service the resident asks about as a ``service`` entity (value: the service id), and lets a
named service decide the intent when the classifier is unsure or wrong:

* the classifier's intent is small talk or out of scope → the service's intent;
* otherwise each named service's intent gets a bonus (larger for names of three characters or
  more, and for a danger named outright: 走失, 家暴) and the best score wins, so "重残护理补贴"
  named inside a disability question stays a disability question;
* handoffs, repeat/slower, applying, cancelling and progress checks are overruled only when
  the classifier is unsure of them (below ``kept_confidence``) and a service is named in three
  characters or more; emergencies never.

The catalogue is read when the model is loaded (``CATALOGUE_DIR``): a community edits its
catalogue and restarts; no retraining.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from community.catalogue import Catalogue, CatalogueError, Match, load_catalogue

logger = logging.getLogger(__name__)

EXTRACTOR = "CatalogueServiceMatcher"
# The classifier's guess is replaced outright when it is one of these.
SOFT_INTENTS = frozenset(
    {"out_of_scope", "greet", "goodbye", "thank", "bot_challenge", "affirm", "deny", "nlu_fallback"}
)
# ... and never when it is one of these, unless the classifier is unsure of it (below
# ``kept_confidence``: a misheard name with 申请 in it may be request_service at 0.3) and a
# service is named in three characters or more;
KEPT_INTENTS = frozenset(
    {"human_handoff", "repeat", "slower", "request_service", "cancel", "check_request",
     "emergency_help", "interface_help"}
)
# ... and an emergency, however unsure, never.
ALWAYS_KEPT = frozenset({"emergency_help"})


def is_danger(match: Match) -> bool:
    """A danger named outright (走失, 家暴, 失火): an emergency service whose number is 110, 119
    or 120, written in its characters. Short as it is, it weighs like a full name: 老人走失了 is
    an emergency even when the classifier leans to the elderly 防走失 service."""
    service = match.service
    return service.intent in ALWAYS_KEPT and service.phone.isdigit() and not match.by_sound


def choose_intent(ranking: List[Dict[str, Any]], asked: List[Match], strong_bonus: float,
                  weak_bonus: float, confidence: float,
                  kept_confidence: float = 0.0) -> List[Dict[str, Any]] | None:
    """The new intent ranking, or ``None`` to keep the classifier's."""
    if not ranking or not asked:
        return None
    top = ranking[0]["name"]
    strong = [m for m in asked if m.strong]
    unsure = float(ranking[0]["confidence"]) < kept_confidence and top not in ALWAYS_KEPT
    if top in KEPT_INTENTS and not (unsure and strong):
        return None
    probabilities = {r["name"]: float(r["confidence"]) for r in ranking}
    bonus: Dict[str, float] = {}
    for match in asked:
        value = strong_bonus if match.strong or is_danger(match) else weak_bonus
        bonus[match.service.intent] = max(bonus.get(match.service.intent, 0.0), value)
    if top in SOFT_INTENTS or top in KEPT_INTENTS:
        chosen = (strong if top in KEPT_INTENTS else asked)[0].service.intent
        sure = max(probabilities.get(chosen, 0.0), confidence)
    else:
        chosen = max(bonus, key=lambda name: probabilities.get(name, 0.0) + bonus[name])
        score = probabilities.get(chosen, 0.0) + bonus[chosen]
        if probabilities.get(top, 0.0) > score:
            return None  # the classifier is surer of another intent than the name suggests
        sure = max(probabilities.get(chosen, 0.0), min(confidence, score))
    rest = [r for r in ranking if r["name"] != chosen]
    left = sum(float(r["confidence"]) for r in rest)
    scale = (1.0 - sure) / left if left > 0 else 0.0
    return [{"name": chosen, "confidence": sure}] + [
        {"name": r["name"], "confidence": float(r["confidence"]) * scale} for r in rest
    ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CatalogueServiceMatcher(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "catalogue_dir": None,  # None: CATALOGUE_DIR (community.settings), else this path
            "strong_bonus": 0.5,  # a name of three characters or more
            "weak_bonus": 0.25,  # a two-character alias (助餐, 低保)
            "confidence": 0.9,  # confidence given to an intent a named service decided
            "kept_confidence": 0.4,  # below it, a kept intent (not an emergency) yields to a name
        }

    def __init__(self, config: Dict[str, Any], catalogue: Catalogue | None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.catalogue = catalogue

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CatalogueServiceMatcher:
        directory = config.get("catalogue_dir")
        if not directory:
            from community.settings import Settings

            directory = Settings.from_env().catalogue_dir
        try:
            catalogue = load_catalogue(Path(directory))
        except CatalogueError as err:
            logger.error("CatalogueServiceMatcher: %s; services won't be matched.", err)
            catalogue = None
        return cls(config, catalogue)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.catalogue is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue  # button payloads carry their service already
            asked = self.catalogue.asked(text)
            if not asked:
                continue
            found = [
                {"entity": "service", "value": m.service.id, "start": m.start, "end": m.end,
                 "confidence_entity": 1.0, "extractor": EXTRACTOR}
                for m in asked
            ]
            message.set(ENTITIES, found + (message.get(ENTITIES) or []), add_to_output=True)
            ranking = choose_intent(
                message.get(INTENT_RANKING_KEY) or [], asked, self.config["strong_bonus"],
                self.config["weak_bonus"], self.config["confidence"], self.config["kept_confidence"],
            )
            if ranking is not None:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
