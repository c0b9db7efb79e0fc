"""Prediction-time scoring with NumPy only.

A trained model is a handful of arrays (vocabulary, idf, coefficients, temperatures) and a rule
set. :class:`Scorer` turns prepared documents into probabilities with them, without importing
scikit-learn, which keeps the cold start of ``classify`` short. The scikit-learn estimator
(:class:`mktsales.model.MktSalesClassifier`) uses the same scorer for ``predict_proba``, so there
is one implementation of the arithmetic.

Three verdicts are computed for every text:

- ``hybrid``: logistic regression over TF-IDF features and rule features (the label reported);
- ``model``: logistic regression over TF-IDF features only (for ablation);
- ``rules``: the rules alone (:func:`mktsales.features.rules_only_scores`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from mktsales.dimensions import LABELS
from mktsales.features import (
    N_AGGREGATE_FEATURES,
    RuleEvidence,
    aggregate_vector,
    rule_evidence,
    rules_only_scores,
    text_terms,
    tfidf_row,
)
from mktsales.rules import RuleSet

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mktsales.document import Document
    from mktsales.matching import RuleMatcher

__all__ = ["FORMAT", "FORMAT_VERSION", "Analysis", "Scorer", "matcher_for"]

FORMAT = "mktsales-model"
FORMAT_VERSION = 1

_MATCHERS: dict[str, RuleMatcher] = {}


def matcher_for(rules: RuleSet) -> RuleMatcher:
    """Return a (cached) matcher for a rule set; building one costs a fraction of a second."""
    from mktsales.matching import RuleMatcher

    key = rules.checksum
    matcher = _MATCHERS.get(key)
    if matcher is None:
        if len(_MATCHERS) >= 8:
            _MATCHERS.clear()
        matcher = RuleMatcher(rules)
        _MATCHERS[key] = matcher
    return matcher


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    e: np.ndarray = np.exp(z)
    out: np.ndarray = e / e.sum()
    return out


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the scorer computed for one document.

    Attributes
    ----------
    hybrid, model, rules : tuple of float
        Probabilities in :data:`mktsales.dimensions.LABELS` order from the three verdicts.
    evidence : RuleEvidence
        The rule matches and their sums.
    known_fraction : float
        Share of the text's words that the model's vocabulary knows (1.0 for an empty text).
    n_words : int
        Number of word tokens.
    """

    hybrid: tuple[float, float, float]
    model: tuple[float, float, float]
    rules: tuple[float, float, float]
    evidence: RuleEvidence
    known_fraction: float
    n_words: int


class Scorer:
    """Scores prepared documents with a trained model's arrays.

    Parameters
    ----------
    state : dict
        A model state as produced by :meth:`mktsales.model.MktSalesClassifier.to_state`.
    rules : RuleSet, optional
        Rules to match instead of the rules the model was trained with. Rules the model knows
        keep their own learned weights; new rules act through the per-dimension features.
    """

    def __init__(self, state: dict[str, Any], rules: RuleSet | None = None) -> None:
        if state.get("format") != FORMAT:
            raise ValueError(f"not a mktsales model state (format={state.get('format')!r})")
        self.state = state
        self.classes: tuple[str, ...] = tuple(state["classes"])
        self.rules = (
            rules if rules is not None else RuleSet.from_dicts(state["rules"], name=state.get("rules_name", "model"))
        )
        params = state["params"]
        self.ngram_range: tuple[int, int] = (int(params["ngram_range"][0]), int(params["ngram_range"][1]))
        self.rule_scale = float(params["rule_scale"])
        self.stemmed = bool(params.get("stemmed", False))
        self.head_features = bool(params.get("head_features", False))
        self.vocabulary: dict[str, int] = {t: i for i, t in enumerate(state["vocabulary"])}
        self.idf = np.asarray(state["idf"], dtype=np.float64)
        n_text = len(self.vocabulary)
        hybrid = state["hybrid"]
        coef = np.asarray(hybrid["coef"], dtype=np.float64)
        self._coef_text = np.ascontiguousarray(coef[:, :n_text])
        self._coef_agg = np.ascontiguousarray(coef[:, n_text : n_text + N_AGGREGATE_FEATURES])
        rule_coef = coef[:, n_text + N_AGGREGATE_FEATURES :]
        self._rule_coef = {rid: rule_coef[:, j].copy() for j, rid in enumerate(state["rule_columns"])}
        self._intercept = np.asarray(hybrid["intercept"], dtype=np.float64)
        self._temperature = float(hybrid["temperature"])
        text_only = state["text_only"]
        self._coef_text_only = np.ascontiguousarray(np.asarray(text_only["coef"], dtype=np.float64))
        self._intercept_text_only = np.asarray(text_only["intercept"], dtype=np.float64)
        self._temperature_text_only = float(text_only["temperature"])
        self._label_pos = [LABELS.index(c) for c in self.classes]

    @cached_property
    def matcher(self) -> RuleMatcher:
        """The rule matcher (built on first use)."""
        return matcher_for(self.rules)

    def _to_labels(self, probs: np.ndarray) -> tuple[float, float, float]:
        out = [0.0, 0.0, 0.0]
        for pos, p in zip(self._label_pos, probs, strict=True):
            out[pos] = float(p)
        return out[0], out[1], out[2]

    def analyze_one(self, doc: Document) -> Analysis:
        """Score one prepared document."""
        rules = self.matcher.rules
        ev = rule_evidence(doc, self.matcher.match(doc.tokens), rules)
        words = doc.words()
        head = doc.head_words() if self.head_features else None
        terms = text_terms(words, self.ngram_range, stemmed=self.stemmed, head=head)
        idx, vals = tfidf_row(terms, self.vocabulary, self.idf)
        text_part = self._coef_text[:, idx] @ vals if len(idx) else np.zeros(len(self.classes))
        logits = text_part + self._intercept + self._coef_agg @ (aggregate_vector(ev) * self.rule_scale)
        for r, count in ev.counts.items():
            col = self._rule_coef.get(rules[r].id)
            if col is not None:
                logits = logits + col * (math.log1p(count) * self.rule_scale)
        text_logits = (self._coef_text_only[:, idx] @ vals if len(idx) else 0.0) + self._intercept_text_only
        vocab = self.vocabulary
        known = sum(1 for t in terms[: len(words)] if t in vocab)
        return Analysis(
            hybrid=self._to_labels(_softmax(logits / self._temperature)),
            model=self._to_labels(_softmax(np.asarray(text_logits) / self._temperature_text_only)),
            rules=rules_only_scores(ev),
            evidence=ev,
            known_fraction=known / len(words) if words else 1.0,
            n_words=len(words),
        )

    def analyze(self, docs: Sequence[Document]) -> list[Analysis]:
        """Score many prepared documents (results in input order)."""
        return [self.analyze_one(d) for d in docs]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("matcher", None)  # rebuilt on first use after unpickling
        return state

    def thresholds(self) -> dict[str, float]:
        """The decision thresholds stored with the model."""
        return dict(self.state.get("thresholds", {}))
