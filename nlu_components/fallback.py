"""FallbackClassifier that also rejects input that can't be understood at all, and only calls
a prediction ambiguous when the resident's two likeliest meanings are both services."""

from __future__ import annotations

from typing import Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from community.intents import META_INTENTS
from community.textnorm import input_problem


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CommunityFallbackClassifier(FallbackClassifier):
    def _should_fallback(self, message: Message) -> bool:
        if input_problem(message.get(TEXT)) is not None:
            return True
        return super()._should_fallback(message)

    def _nlu_prediction_ambiguous(self, message: Message) -> Tuple[bool, float | None]:
        ranking = message.data.get(INTENT_RANKING_KEY, [])
        if len(ranking) >= 2 and any(r.get("name") in META_INTENTS for r in ranking[:2]):
            return False, None
        return super()._nlu_prediction_ambiguous(message)
