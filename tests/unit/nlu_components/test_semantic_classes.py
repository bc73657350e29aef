import pickle

import numpy as np
import pytest

from nlu_components.semantic_classes import check_lengths, codes_table, head, semantic_classes, word_classes

ILLNESSES_AND_DISHES = [
    ("感冒 了 怎么办", "health"),
    ("糖尿病 吃 什么 药", "health"),
    ("肝炎 会 传染 吗", "health"),
    ("得 了 贫血", "health"),
    ("红烧肉 的 做法", "cookbook"),
    ("饺子 怎么 包", "cookbook"),
    ("包子 怎么 蒸", "cookbook"),
    ("烤鸭 的 做法", "cookbook"),
]


def test_words_get_their_thesaurus_classes():
    table = codes_table()
    assert "Dl01A14@" in table["黄疸"]  # 同义词词林: D 抽象事物 → Dl 疾病 → Dl01 → Dl01A → Dl01A14
    assert word_classes("黄疸", [2, 4], table) == ["Dl", "Dl01"]
    assert word_classes("紫癜", [2], table) == word_classes("糖尿病", [2], table) == ["Dl"]
    assert word_classes("素鸡", [2], table) == ["Br"]  # 食品, with 红烧肉
    assert word_classes("三安光电", [2, 4], table) == []  # not in the thesaurus
    assert head("扬州炒饭", table) == "饭" and head("黄疸", table) == "黄疸"
    assert semantic_classes(["黄疸", "怎么", "办"], [2]).split()[0] == "Dl"
    assert "Br" in semantic_classes(["扬州炒饭"], [2], backoff=True).split()
    assert semantic_classes(["扬州炒饭"], [2]) == ""
    with pytest.raises(ValueError):
        check_lengths([3])


def _train(path, **config):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu_components.classifier import TfidfIntentClassifier

    path.mkdir(parents=True)
    storage, resource = LocalModelStorage(path), Resource("tfidf")
    component = TfidfIntentClassifier(config, storage, resource)
    # Space-separated texts stand for jieba's words (the classifier reads the text when a
    # message has no tokens).
    component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in ILLNESSES_AND_DISHES]))
    return component, storage, resource


def _message(text):
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={"text": text})


def test_an_unseen_illness_gets_the_illness_class_and_intent(tmp_path):
    from nlu_components.classifier import TfidfIntentClassifier

    with_classes, storage, resource = _train(tmp_path / "a", cilin_weight=0.7)
    without, _, _ = _train(tmp_path / "b")
    vocabulary = with_classes.class_vectorizer.vocabulary_
    # 黄疸 and 紫癜 share no character with the training examples; their class Dl (疾病) is
    # the training illnesses' class, so it is a feature of the message.
    for text in ("黄疸", "紫癜"):
        features = with_classes._features([_message(text)])
        assert features[0, features.shape[1] - len(vocabulary) + vocabulary["Dl"]] > 0
        heard = with_classes.process([_message(text)])[0].get("intent")
        assert heard["name"] == "health"
        assert heard["confidence"] > without.process([_message(text)])[0].get("intent")["confidence"]
    assert with_classes.process([_message("素鸡")])[0].get("intent")["name"] == "cookbook"
    loaded = TfidfIntentClassifier.load({"cilin_weight": 0.7}, storage, resource, None)
    assert loaded.class_vectorizer is not None
    assert np.allclose(
        loaded._features([_message("黄疸")]).toarray(), with_classes._features([_message("黄疸")]).toarray()
    )


def test_off_by_default_the_features_are_unchanged(tmp_path):
    from nlu_components.classifier import MODEL_FILE, TfidfIntentClassifier

    default, storage, resource = _train(tmp_path / "a")
    other_settings, _, _ = _train(tmp_path / "b", cilin_code_lengths=[1, 7], cilin_backoff=True)
    assert default.class_vectorizer is None and other_settings.class_vectorizer is None
    messages = [_message(text) for text in ("黄疸 怎么 办", "素鸡 的 做法", "红烧肉")]
    features = default._features(messages)
    vocabularies = (default.char_vectorizer.vocabulary_, default.word_vectorizer.vocabulary_)
    assert features.shape[1] == sum(len(vocabulary) for vocabulary in vocabularies)
    assert np.array_equal(features.toarray(), other_settings._features(messages).toarray())
    # A model saved before semantic classes (five parts) still loads and answers the same.
    with storage.write_to(resource) as directory:
        parts = (default.char_vectorizer, default.word_vectorizer, None, None, default.model)
        (directory / MODEL_FILE).write_bytes(pickle.dumps(parts))
    loaded = TfidfIntentClassifier.load({}, storage, resource, None)
    assert loaded.class_vectorizer is None
    assert np.array_equal(loaded._features(messages).toarray(), features.toarray())
