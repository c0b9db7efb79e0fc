"""The scikit-learn estimator contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from mktsales.exceptions import InputTypeError, ParameterError
from mktsales.model import MktSalesClassifier

Data = tuple[list[str], list[str]]


@pytest.fixture(scope="module")
def fitted(small_training_set: Data) -> MktSalesClassifier:
    X, y = small_training_set
    return MktSalesClassifier(min_df=1, cv=3).fit(X, y)


def test_not_fitted_error_before_fit() -> None:
    """Predicting before fit raises NotFittedError."""
    with pytest.raises(NotFittedError):
        MktSalesClassifier().predict(["sell"])


def test_bare_string_is_rejected(fitted: MktSalesClassifier) -> None:
    """A single string where a batch is expected is an error, as in TfidfVectorizer."""
    with pytest.raises(InputTypeError, match="single str"):
        fitted.predict("close deals")
    with pytest.raises(InputTypeError, match=r"X\[1\] must be str"):
        fitted.predict(["ok", None])  # type: ignore[list-item]


def test_probabilities_sum_to_one_and_classes_are_sorted(fitted: MktSalesClassifier, small_training_set: Data) -> None:
    """predict_proba rows sum to 1; classes_ are the sorted labels; predict is the argmax."""
    X, _ = small_training_set
    proba = fitted.predict_proba(X[:20])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.classes_) == ["marketing", "other", "sales"]
    assert list(fitted.predict(X[:20])) == list(fitted.classes_[proba.argmax(axis=1)])


def test_learns_the_training_set(fitted: MktSalesClassifier, small_training_set: Data) -> None:
    """Training accuracy is high (the model learns)."""
    X, y = small_training_set
    assert np.mean(fitted.predict(X) == np.asarray(y, dtype=object)) > 0.9


def test_clone_and_params(fitted: MktSalesClassifier) -> None:
    """clone gives an unfitted copy with the same params; set_params works."""
    c = clone(fitted)
    assert c.get_params() == fitted.get_params()
    assert not hasattr(c, "classes_")
    c.set_params(C=0.5)
    assert c.C == 0.5


def test_pickle_round_trip(fitted: MktSalesClassifier, small_training_set: Data) -> None:
    """A pickled and restored estimator predicts the same probabilities."""
    X, _ = small_training_set
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(X[:10]), fitted.predict_proba(X[:10]))


def test_state_round_trip(fitted: MktSalesClassifier, small_training_set: Data) -> None:
    """to_state/from_state rebuilds an equivalent estimator."""
    X, _ = small_training_set
    again = MktSalesClassifier.from_state(fitted.to_state())
    np.testing.assert_array_equal(again.predict_proba(X[:10]), fitted.predict_proba(X[:10]))


def test_numpy_scorer_equals_logistic_regression(small_training_set: Data) -> None:
    """Without calibration, our NumPy scorer reproduces LogisticRegression.predict_proba."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    X, y = small_training_set
    est = MktSalesClassifier(min_df=1, calibrate=False, rule_scale=0.0).fit(X, y)
    state = est.to_state()
    from sklearn.feature_extraction.text import TfidfVectorizer

    from mktsales.document import prepare
    from mktsales.features import ngrams

    vec = TfidfVectorizer(analyzer=ngrams, sublinear_tf=True, min_df=1).fit([prepare(t).words() for t in X])
    T = vec.transform([prepare(t).words() for t in X])
    lr = LogisticRegression(C=est.C, class_weight="balanced", max_iter=3000, random_state=0).fit(
        sp.hstack([T, sp.csr_matrix((len(X), 13))]).tocsr(), y
    )
    expected = lr.predict_proba(sp.hstack([T, sp.csr_matrix((len(X), 13))]).tocsr())
    assert state["vocabulary"] == vec.get_feature_names_out().tolist()
    np.testing.assert_allclose(est.predict_proba(X), expected, atol=1e-6)


def test_grid_search_in_a_pipeline(small_training_set: Data) -> None:
    """GridSearchCV over a hyper-parameter inside a Pipeline fits and picks a value."""
    X, y = small_training_set
    pipe = Pipeline([("clf", MktSalesClassifier(min_df=1, calibrate=False))])
    search = GridSearchCV(pipe, {"clf__C": [0.1, 4.0]}, cv=3, scoring="f1_macro")
    search.fit(X, y)
    assert search.best_params_["clf__C"] in (0.1, 4.0)
    assert search.best_score_ > 0.5


def test_binary_training(small_training_set: Data) -> None:
    """A marketing-vs-sales only model works and reports two classes."""
    X, y = small_training_set
    keep = [i for i, label in enumerate(y) if label != "other"]
    est = MktSalesClassifier(min_df=1, cv=3).fit([X[i] for i in keep], [y[i] for i in keep])
    assert list(est.classes_) == ["marketing", "sales"]
    proba = est.predict_proba(["close deals every quarter", "own the brand strategy"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(est.predict(["close deals every quarter", "own the brand strategy"])) == ["sales", "marketing"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"C": 0}, "C must be > 0"),
        ({"ngram_range": (2, 1)}, "ngram_range"),
        ({"class_weight": "heavy"}, "class_weight"),
        ({"rule_scale": -1}, "rule_scale"),
        ({"cv": 1}, "cv must be"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, object], message: str, small_training_set: Data) -> None:
    """Invalid hyper-parameters raise ValueError naming the parameter and value."""
    X, y = small_training_set
    with pytest.raises(ParameterError, match=message):
        MktSalesClassifier(**params).fit(X, y)  # type: ignore[arg-type]


def test_unknown_labels_are_refused(small_training_set: Data) -> None:
    """Labels outside marketing/sales/other are named in the error."""
    X, y = small_training_set
    with pytest.raises(ParameterError, match="finance"):
        MktSalesClassifier().fit(X[:4], ["finance", "sales", "other", "sales"])
    with pytest.raises(ParameterError, match="one label per text"):
        MktSalesClassifier().fit(X[:4], y[:3])


def test_function_word_ngrams_can_be_left_out(small_training_set: Data) -> None:
    """With drop_function_ngrams, no feature is made only of function words, the setting survives
    the state round trip, and the TermIndex path scores like the string-term reference path."""
    from mktsales.document import prepare
    from mktsales.features import function_forms
    from mktsales.scoring import Scorer

    X, y = small_training_set
    est = MktSalesClassifier(min_df=1, cv=3, stemmed=True, drop_function_ngrams=True).fit(X, y)
    kept = MktSalesClassifier(min_df=1, cv=3, stemmed=True).fit(X, y)
    forms = function_forms(True)
    assert not [t for t in est.vocabulary_ if set(t.split(" ")) <= forms]
    assert {"of", "to", "and"} <= set(kept.vocabulary_)  # present when kept
    assert any(" " in t and set(t.split(" ")) & forms for t in est.vocabulary_)  # "sell to", "of sales"
    again = MktSalesClassifier.from_state(est.to_state())
    assert again.drop_function_ngrams is True
    np.testing.assert_array_equal(again.predict_proba(X[:10]), est.predict_proba(X[:10]))
    docs = [prepare(t) for t in X[:30]] + [prepare("sell to the buyer")]
    words = [d.words() for d in docs]
    heads = [d.head_word_count for d in docs]
    fast = Scorer(est.to_state())
    reference = Scorer(est.to_state())
    reference.__dict__["term_index"] = None  # the cached property: score with string terms instead
    assert fast.term_index is not None
    fast_logits, fast_known = fast._text_logits(words, heads)
    ref_logits, ref_known = reference._text_logits(words, heads)
    np.testing.assert_allclose(fast_logits, ref_logits, rtol=1e-12)
    np.testing.assert_array_equal(fast_known, ref_known)
    # "to" and "the" are no features but count as known words, as they did before.
    assert fast_known[-1] == sum(w in est.vocabulary_ for w in ("sell", "buyer")) + 2


def test_function_word_ngrams_can_be_left_out_of_short_texts_only(small_training_set: Data) -> None:
    """With drop_function_ngrams="short", postings keep their function-word n-grams and titles
    and tasks lose them, at training and at prediction, through the compiled index and the string
    terms alike; the setting survives the state round trip and other values are refused."""
    from mktsales.document import prepare
    from mktsales.features import SHORT_TEXT_WORDS, function_forms
    from mktsales.scoring import Scorer

    X, y = small_training_set
    filler = " ".join(["such as the brand and the campaign of the season"] * 6)  # 60 words
    assert len(prepare(filler).words()) > SHORT_TEXT_WORDS
    X2, y2 = [*X, filler, filler], [*y, "marketing", "marketing"]
    est = MktSalesClassifier(min_df=1, cv=3, stemmed=True, drop_function_ngrams="short").fit(X2, y2)
    assert {"such as", "of the"} <= set(est.vocabulary_)  # learnt from the long texts
    forms = function_forms(True)
    only_short = MktSalesClassifier(min_df=1, cv=3, stemmed=True, drop_function_ngrams="short").fit(X, y)
    assert max(len(prepare(t).words()) for t in X) <= SHORT_TEXT_WORDS
    assert not [t for t in only_short.vocabulary_ if set(t.split(" ")) <= forms]  # all texts short
    again = MktSalesClassifier.from_state(est.to_state())
    assert again.drop_function_ngrams == "short"
    np.testing.assert_array_equal(again.predict_proba(X[:10]), est.predict_proba(X[:10]))

    long_text = " ".join(["such as of the"] * 15)  # 60 words, every one a function word
    docs = [prepare("such as of the"), prepare(long_text), *(prepare(t) for t in X[:20])]
    words = [d.words() for d in docs]
    heads = [d.head_word_count for d in docs]
    fast = Scorer(est.to_state())
    reference = Scorer(est.to_state())
    reference.__dict__["term_index"] = None  # score with string terms instead
    fast_logits, fast_known = fast._text_logits(words, heads)
    ref_logits, ref_known = reference._text_logits(words, heads)
    np.testing.assert_allclose(fast_logits, ref_logits, rtol=1e-12)
    np.testing.assert_array_equal(fast_known, ref_known)
    # The short text has no feature left: its logits are the intercepts; the long one has some.
    np.testing.assert_array_equal(fast_logits[0], fast._intercept_both)
    assert not np.allclose(fast_logits[1], fast._intercept_both)
    assert fast_known[0] == 4  # function words still count as known words

    with pytest.raises(ParameterError, match="'short'"):
        MktSalesClassifier(drop_function_ngrams="long").fit(X, y)
