"""Feature computation: TF-IDF agrees with scikit-learn; rule evidence adds up."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from mktsales.document import prepare
from mktsales.features import TITLE_WEIGHT, ngrams, rule_evidence, rules_only_scores, tfidf_row
from mktsales.rules import load_rules
from mktsales.scoring import matcher_for

DOCS = [
    "close deals close deals and win new business",
    "brand strategy and market research for the brand",
    "nurse patients on the ward",
    "sell sell sell to the ward",
]


def test_tfidf_row_matches_scikit_learn() -> None:
    """Our per-document TF-IDF equals TfidfVectorizer(sublinear_tf=True) on the same vocabulary."""
    words = [prepare(d).words() for d in DOCS]
    vec = TfidfVectorizer(analyzer=partial(ngrams, ngram_range=(1, 2)), sublinear_tf=True)
    expected = vec.fit_transform(words).toarray()
    vocab = {t: i for i, t in enumerate(vec.get_feature_names_out())}
    for row, w in zip(expected, words, strict=True):
        idx, vals = tfidf_row(ngrams(w), vocab, vec.idf_)
        got = np.zeros_like(row)
        got[idx] = vals
        np.testing.assert_allclose(got, row, rtol=1e-12)


def test_rules_only_scores_sum_to_one_and_follow_the_evidence() -> None:
    """Rules-only probabilities sum to 1; no evidence means other."""
    matcher = matcher_for(load_rules())
    for text, expected in (("close deals and hit quota", "sales"), ("brand strategy", "marketing"), ("nurse", "other")):
        doc = prepare(text)
        ev = rule_evidence(doc, matcher.match(doc.tokens), matcher.rules)
        scores = rules_only_scores(ev)
        assert sum(scores) == pytest.approx(1.0)
        assert ["marketing", "sales", "other"][int(np.argmax(scores))] == expected


def test_repeated_matches_grow_sublinearly() -> None:
    """A rule matched three times adds weight * (1 + log 3), not three times its weight."""
    matcher = matcher_for(load_rules())
    doc = prepare("The role\nquota. quota. quota.")
    ev = rule_evidence(doc, matcher.match(doc.tokens), matcher.rules)
    ((rule, count),) = ev.counts.items()
    assert count == 3
    assert ev.sales == pytest.approx(matcher.rules[rule].weight * (1 + np.log(3)))


def test_head_matches_weigh_more() -> None:
    """The same words count TITLE_WEIGHT times more in the head (a separate title or the first line)."""
    matcher = matcher_for(load_rules())

    def sales(doc: object) -> float:
        return rule_evidence(doc, matcher.match(doc.tokens), matcher.rules).sales  # type: ignore[attr-defined]

    in_body = sales(prepare("The role\nquota"))
    assert in_body > 0
    assert sales(prepare("quota\nThe role")) == pytest.approx(TITLE_WEIGHT * in_body)
    assert sales(prepare("The role", title="quota")) == pytest.approx(TITLE_WEIGHT * in_body)
