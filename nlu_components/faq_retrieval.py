"""A FAQ that works from a few examples: retrieval over the questions staff approved.

Staff teach a new question (上门理发, 快递柜) with two or three wordings in the review queue. A
classifier trained on three examples loses to intents with hundreds (上门剃头 stays
``elderly_homecare`` at 0.94), so this component, after the classifier, finds the nearest
staff-approved question to each message, as FAQ engines such as AnyQ do: TF-IDF over character
1-3 grams and pinyin syllables (1-2) of the question's meaning-bearing words
(:func:`community.question_groups.question_key`: fillers gone, 剪头发/剃头 → 理发), with the
IDF of all the training data, so 社区/怎么/在哪 weigh little and 理发/快递柜 a lot. The approved
question's intent wins, whatever the classifier said, when its cosine similarity reaches
``threshold``, or reaches ``nearest_threshold`` and no other training example is as close (the
approved question is the message's nearest neighbour in all the training data). The
classifier's own choice is kept in ``faq_retrieval.classifier_intent``.

Staff-approved questions are the examples of staff-made FAQ intents (``faq_…``) and every example
staff added in the console (its metadata names a ``reviewer``): ``nlu_data/nlu/reviewed.yml``.
The threshold is calibrated by ``python -m tools.eval_faq`` (held-out questions of other intents
must not be taken, new wordings of the approved ones should).
"""

from __future__ import annotations

import logging
import pickle
from typing import Any, Dict, List

from pypinyin import lazy_pinyin
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, METADATA, METADATA_EXAMPLE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from community.question_groups import question_key

logger = logging.getLogger(__name__)
MODEL_FILE = "faq_retrieval.pkl"
OUTPUT = "faq_retrieval"
FAQ_PREFIX = "faq_"


def approved(message: Message) -> bool:
    """A question staff approved: an example of a staff-made FAQ, or one added in the console."""
    if str(message.get(INTENT) or "").startswith(FAQ_PREFIX):
        return True
    meta = message.get(METADATA) or {}
    example = meta.get(METADATA_EXAMPLE) if isinstance(meta, dict) else None
    return isinstance(example, dict) and bool(example.get("reviewer"))


def _key(text: str) -> str:
    return question_key(text or "")


def _sounds(text: str) -> str:
    return " ".join(lazy_pinyin(_key(text), errors=lambda rest: list(rest)))


class QuestionIndex:
    """Approved questions as TF-IDF vectors (characters + pinyin), IDF from all the training data."""

    def __init__(self, corpus: List[str], questions: List[str], intents: List[str]):
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        self.sounds = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), token_pattern=r"\S+", sublinear_tf=True
        )
        self.chars.fit([_key(t) for t in corpus])
        self.sounds.fit([_sounds(t) for t in corpus])
        self.questions = list(questions)
        self.intents = list(intents)
        self.matrix = self.vectors(self.questions)
        approved_keys = {_key(q) for q in questions}
        others = sorted({t for t in corpus if _key(t) not in approved_keys})
        self.others = self.vectors(others) if others else None

    def vectors(self, texts: List[str]):
        both = hstack(
            [
                self.chars.transform([_key(t) for t in texts]),
                self.sounds.transform([_sounds(t) for t in texts]),
            ]
        )
        return normalize(both.tocsr(), norm="l2")

    def nearest(self, texts: List[str]) -> List[tuple[int, float, float]]:
        """(index of the nearest approved question, its cosine similarity, the similarity of the
        nearest other training example) for each text."""
        if not self.questions:
            return [(-1, 0.0, 0.0) for _ in texts]
        vectors = self.vectors(texts)
        scores = (vectors @ self.matrix.T).toarray()
        best = scores.argmax(axis=1)
        other = (
            (vectors @ self.others.T).max(axis=1).toarray().ravel()
            if self.others is not None
            else [0.0] * len(texts)
        )
        return [(int(i), float(scores[row, i]), float(other[row])) for row, i in enumerate(best)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ApprovedQuestionRetriever(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Cosine similarity from which the nearest approved question decides the intent
            # (calibrated by tools/eval_faq.py), and from which it does when it is also the
            # nearest of all training examples.
            "threshold": 0.55,
            "nearest_threshold": 0.35,
        }

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.index: QuestionIndex | None = None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ApprovedQuestionRetriever:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        chosen = [e for e in examples if approved(e)]
        if chosen:
            self.index = QuestionIndex(
                [e.get(TEXT) for e in examples],
                [e.get(TEXT) for e in chosen],
                [e.get(INTENT) for e in chosen],
            )
            logger.info("ApprovedQuestionRetriever: %d staff-approved questions", len(chosen))
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.index is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        for message, text, (i, score, other) in zip(messages, texts, self.index.nearest(texts), strict=True):
            if i < 0 or not text or text.startswith("/"):
                continue  # a tapped button carries its intent
            intent = self.index.intents[i]
            ranking = [dict(r) for r in message.get(INTENT_RANKING_KEY) or []]
            before = (message.get(INTENT) or {}).get("name")
            found = {
                "intent": intent,
                "score": round(score, 4),
                "other_score": round(other, 4),
                "question": self.index.questions[i],
                "classifier_intent": before,
                "used": False,
            }
            if score >= self.config["threshold"] or (
                score >= self.config["nearest_threshold"] and score > other
            ):
                found["used"] = True
                confidence = 0.5 + 0.5 * min(score, 1.0)
                others = [r for r in ranking if r.get("name") != intent]
                rest = sum(float(r.get("confidence", 0.0)) for r in others) or 1.0
                for r in others:
                    r["confidence"] = float(r.get("confidence", 0.0)) / rest * (1.0 - confidence)
                ranking = [{"name": intent, "confidence": confidence}] + others
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(OUTPUT, found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            with open(directory / MODEL_FILE, "wb") as handle:
                pickle.dump(self.index, handle)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ApprovedQuestionRetriever:
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                with open(directory / MODEL_FILE, "rb") as handle:
                    component.index = pickle.load(handle)  # noqa: S301 - our own model archive
        except (ValueError, FileNotFoundError):
            logger.info("ApprovedQuestionRetriever: no approved questions yet.")
        return component


__all__ = ["ApprovedQuestionRetriever", "QuestionIndex", "approved"]
