import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu_components.classifier import tfidf


def test_fast_tfidf_equals_scikit_learns():
    texts = ["高龄津贴怎么申请", "助餐 在 哪", "高龄 高龄 津贴", "完全没见过的字"]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True).fit(texts[:3])
    expected = vectorizer.transform(texts).toarray()
    assert np.allclose(tfidf(vectorizer, vectorizer.idf_, texts).toarray(), expected)


def test_fast_probabilities_equal_predict_proba():
    from sklearn.linear_model import LogisticRegression

    from nlu_components.classifier import TfidfIntentClassifier

    texts = ["高龄津贴", "助餐在哪", "失业登记", "你好", "谢谢", "残疾证"]
    labels = ["a", "b", "c", "d", "e", "f"]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True).fit(texts)
    features = vectorizer.transform(texts + ["高龄助餐"])
    component = TfidfIntentClassifier({}, None, None)
    component.model = LogisticRegression(C=10, max_iter=500).fit(vectorizer.transform(texts), labels)
    assert np.allclose(component._probabilities(features), component.model.predict_proba(features))


EXAMPLES = [
    ("高龄津贴怎么申请", "elderly_allowance"),
    ("高龄津贴每月多少钱", "elderly_allowance"),
    ("我想领高龄津贴", "elderly_allowance"),
    ("残疾证怎么办理", "disability_card"),
    ("残疾证丢了补办", "disability_card"),
    ("办残疾证要什么材料", "disability_card"),
    ("助餐点在哪里", "meal_service"),
    ("老人吃饭的食堂", "meal_service"),
    ("社区助餐怎么收费", "meal_service"),
]


def _trained(tmp_path, **config):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu_components.classifier import TfidfIntentClassifier

    tmp_path.mkdir(parents=True, exist_ok=True)
    storage, resource = LocalModelStorage(tmp_path), Resource("tfidf")
    component = TfidfIntentClassifier(config, storage, resource)
    component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in EXAMPLES]))
    return component, storage, resource


def _parse(component, text):
    from rasa.shared.nlu.training_data.message import Message

    return component.process([Message(data={"text": text})])[0].get("intent")


def test_pinyin_features_carry_a_sound_alike_spelling(tmp_path):
    # 搞领金贴 shares no character n-gram with 高龄津贴 but sounds like it (gao lin jin tie).
    with_pinyin, _, _ = _trained(tmp_path / "a", pinyin_ngram_range=[1, 2])
    without, _, _ = _trained(tmp_path / "b")  # the default: no pinyin
    assert with_pinyin.pinyin_vectorizer is not None and without.pinyin_vectorizer is None
    heard = _parse(with_pinyin, "搞领金贴")
    assert heard["name"] == "elderly_allowance"
    assert heard["confidence"] > _parse(without, "搞领金贴")["confidence"] + 0.1


def test_persisted_model_loads_and_answers_the_same(tmp_path):
    from nlu_components.classifier import TfidfIntentClassifier

    component, storage, resource = _trained(tmp_path, pinyin_ngram_range=[1, 2])
    loaded = TfidfIntentClassifier.load({"pinyin_ngram_range": [1, 2]}, storage, resource, None)
    assert loaded.pinyin_vectorizer is not None
    for text in ("残疾证去哪办", "搞领金贴", "吃饭"):
        assert _parse(loaded, text) == _parse(component, text)
