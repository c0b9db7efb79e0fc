"""The compiled TF-IDF vocabulary gives the same rows as building every term as a string."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from mktsales.api import Classifier
from mktsales.document import prepare
from mktsales.features import (
    SHORT_TEXT_WORDS,
    FunctionNgrams,
    function_forms,
    stem,
    text_terms,
    tfidf_row,
)
from mktsales.model import MktSalesClassifier
from mktsales.termindex import TermIndex


def _docs(repo: Path, n: int) -> list:  # type: ignore[type-arg]
    with (repo / "data" / "corpus" / "dev.jsonl").open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    # Every kind: titles, tasks and postings, with the head of each.
    return [prepare(r["text"]) for r in records[:n]]


def _identity(terms: list[str]) -> list[str]:
    return terms


@pytest.mark.parametrize(
    ("stemmed", "head", "ngram_range", "drop"),
    [
        (True, False, (1, 2), False),
        (False, True, (1, 2), False),
        (True, True, (1, 1), False),
        (False, False, (1, 1), False),
        (True, False, (1, 2), True),
        (False, True, (1, 2), True),
        (True, False, (1, 2), "short"),
        (False, True, (1, 2), "short"),
        (True, True, (1, 1), "short"),
    ],
)
def test_rows_equal_the_string_terms(
    repo: Path, stemmed: bool, head: bool, ngram_range: tuple[int, int], drop: FunctionNgrams
) -> None:
    """For each model configuration, every row (features, values, known words) equals the
    reference built from text_terms and tfidf_row, on texts the vocabulary was and was not fitted on.
    Without function-word n-grams, function words still count as known words; with ``"short"``,
    only titles and tasks lose them, postings keep them."""
    docs = _docs(repo, 400)
    skipped = function_forms(stemmed) if drop else frozenset()

    def terms(d):  # type: ignore[no-untyped-def]
        return text_terms(
            d.words(), ngram_range, stemmed=stemmed, head=d.head_words() if head else None, drop_function=drop
        )

    vec = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True).fit([terms(d) for d in docs[:200]])
    vocabulary = list(vec.get_feature_names_out())
    lookup = {t: i for i, t in enumerate(vocabulary)}
    function_only = [t for t in vocabulary if set(t.lstrip("^").split(" ")) <= skipped]
    if drop is True:
        assert not function_only
    elif drop == "short":
        assert function_only  # from the postings, which keep them
    index = TermIndex.build(
        vocabulary,
        vec.idf_,
        ngram_range=ngram_range,
        stemmed=stemmed,
        head=head,
        known_forms=skipped,
        short_words=SHORT_TEXT_WORDS if drop == "short" else None,
    )
    assert index is not None
    words = [d.words() for d in docs]
    ids = index.word_ids(list(itertools.chain.from_iterable(words)))
    lengths = np.array([len(w) for w in words])
    heads = np.array([d.head_word_count for d in docs])
    rows, features, values, known = index.rows(ids, lengths, heads)
    compared = 0
    for r, d in enumerate(docs):
        t = terms(d)
        idx, vals = tfidf_row(t, lookup, vec.idf_)
        order = np.argsort(idx)
        mine = rows == r
        np.testing.assert_array_equal(features[mine], idx[order])
        np.testing.assert_allclose(values[mine], vals[order], rtol=1e-12)
        forms = [stem(w) if stemmed else w for w in d.words()]
        assert known[r] == sum(f in lookup or f in skipped for f in forms)
        compared += len(idx)
    assert compared > 1000


def test_a_row_does_not_depend_on_its_batch(repo: Path) -> None:
    """A text's row is bit-identical alone and in any batch (so classify equals classify_many)."""
    docs = _docs(repo, 60)
    vocabulary = [f"w{i}" for i in range(50)] + ["w1 w2"]
    index = TermIndex(vocabulary, np.linspace(1.0, 3.0, 51), stemmed=False, bigrams=True, head=False)
    texts = [[f"w{(i * 7 + j) % 53}" for j in range(5 + i % 9)] for i in range(len(docs))]
    texts[3] = []  # an empty text in the middle
    lengths = np.array([len(t) for t in texts])
    heads = np.zeros(len(texts), dtype=np.int64)
    together = index.rows(index.word_ids(list(itertools.chain.from_iterable(texts))), lengths, heads)
    for r, t in enumerate(texts):
        alone = index.rows(index.word_ids(t), lengths[r : r + 1], heads[r : r + 1])
        mine = together[0] == r
        assert together[1][mine].tobytes() == alone[1].tobytes()
        assert together[2][mine].tobytes() == alone[2].tobytes()
        assert together[3][r] == alone[3][0]


def test_other_ngram_ranges_use_the_reference_path(small_training_set: tuple[list[str], list[str]]) -> None:
    """A (1, 3) model is not compiled; it scores through the string terms and still works."""
    X, y = small_training_set
    model = MktSalesClassifier(ngram_range=(1, 3), min_df=1).fit(X, y)
    assert model.scorer_.term_index is None
    probs = model.predict_proba(["close deals with new clients", "plan the brand campaign"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert list(model.predict(["close deals with new clients and hit quota"])) == ["sales"]


def test_scores_equal_with_and_without_the_index(clf: Classifier, repo: Path) -> None:
    """The shipped model scores the same through the compiled index and through string terms."""
    docs = _docs(repo, 300)
    fast = clf.scorer.analyze_many(docs)
    reference = Classifier(type(clf.scorer)(clf.scorer.state)).scorer
    reference.__dict__["term_index"] = None  # force the string path
    slow = reference.analyze_many(docs)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a.hybrid, b.hybrid, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.model, b.model, rtol=1e-9, atol=1e-12)
        assert a.known_fraction == b.known_fraction
