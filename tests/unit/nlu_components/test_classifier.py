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
