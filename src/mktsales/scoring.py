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

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from mktsales.dimensions import LABELS
from mktsales.features import (
    N_AGGREGATE_FEATURES,
    SHORT_TEXT_WORDS,
    RuleEvidence,
    aggregate_vector,
    check_function_ngrams,
    function_forms,
    rule_evidence,
    rules_only_scores,
    stem,
    text_terms,
    tfidf_row,
)
from mktsales.rules import RuleSet
from mktsales.termindex import TermIndex

if TYPE_CHECKING:
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


def _geometric(a: list[float], b: list[float], weight: float) -> list[float]:
    """Renormalised weighted geometric mean of two probability vectors."""
    return _softmax(
        [
            (1.0 - weight) * math.log(max(x, 1e-300)) + weight * math.log(max(y, 1e-300))
            for x, y in zip(a, b, strict=True)
        ]
    )


def _softmax(z: list[float]) -> list[float]:
    # Plain floats: for three classes this is several times faster than NumPy's per-call overhead.
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    return [v / total for v in e]


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
        self.drop_function_ngrams = check_function_ngrams(params.get("drop_function_ngrams", False))
        # Without their n-grams, function words are no features, but they are words the model knows.
        self._known_forms = function_forms(self.stemmed) if self.drop_function_ngrams else frozenset()
        self.title_blend = float(params.get("title_blend", 0.0))
        self.vocabulary: dict[str, int] = {t: i for i, t in enumerate(state["vocabulary"])}
        self.idf = np.asarray(state["idf"], dtype=np.float64)
        n_text = len(self.vocabulary)
        hybrid = state["hybrid"]
        coef = np.asarray(hybrid["coef"], dtype=np.float64)
        rule_coef = coef[:, n_text + N_AGGREGATE_FEATURES :]
        text_only = state["text_only"]
        # Hybrid and text-only text coefficients stacked, so one gather and one product serve both;
        # the rows are divided by their temperature here rather than the logits at every call.
        t_h, t_t = float(hybrid["temperature"]), float(text_only["temperature"])
        self._coef_both = np.ascontiguousarray(
            np.vstack([coef[:, :n_text] / t_h, np.asarray(text_only["coef"], dtype=np.float64) / t_t]).T
        )
        self._coef_agg = np.ascontiguousarray(coef[:, n_text : n_text + N_AGGREGATE_FEATURES].T / t_h)
        self._rule_coef = {rid: (rule_coef[:, j] / t_h).tolist() for j, rid in enumerate(state["rule_columns"])}
        self._intercept_both = np.concatenate(
            [np.asarray(hybrid["intercept"], dtype=np.float64) / t_h, np.asarray(text_only["intercept"]) / t_t]
        )
        self._k = len(self.classes)
        self._label_pos = [LABELS.index(c) for c in self.classes]

    @cached_property
    def matcher(self) -> RuleMatcher:
        """The rule matcher (built on first use)."""
        return matcher_for(self.rules)

    @cached_property
    def term_index(self) -> TermIndex | None:
        """The vocabulary compiled to integer codes (built on first use), or None for an n-gram
        range it does not cover (then terms are built as strings, see :meth:`_reference_rows`)."""
        return TermIndex.build(
            self.state["vocabulary"],
            self.idf,
            ngram_range=self.ngram_range,
            stemmed=self.stemmed,
            head=self.head_features,
            known_forms=self._known_forms,
            short_words=SHORT_TEXT_WORDS if self.drop_function_ngrams == "short" else None,
        )

    def _to_labels(self, probs: list[float]) -> tuple[float, float, float]:
        out = [0.0, 0.0, 0.0]
        for pos, p in zip(self._label_pos, probs, strict=True):
            out[pos] = p
        return out[0], out[1], out[2]

    def analyze_one(self, doc: Document) -> Analysis:
        """Score one prepared document (see :meth:`analyze_many`)."""
        return self.analyze_many([doc])[0]

    def analyze_many(self, docs: Sequence[Document]) -> list[Analysis]:
        """Score prepared documents; each result is the same as scoring the document alone.

        When the model has a ``title_blend`` above 0 and a document has a title (given apart, or a
        title-like first line) followed by a body, the title is also scored on its own and the two
        probability vectors are combined geometrically: ``p = p_text**(1-a) * p_title**a``
        (renormalised). A posting's title names the job; its body also describes the product.

        The work runs stage by stage over the batch (all matching, then all TF-IDF rows in one NumPy
        pass, then the per-document sums): on postings this is markedly faster than scoring the
        documents one after the other (measured, see benchmarks/RESULTS.md).
        """
        matcher = self.matcher
        rules = matcher.rules
        blend = self.title_blend
        all_matches = [matcher.match(doc.tokens) for doc in docs]
        words = [doc.words() for doc in docs]
        blended = [
            i for i, doc in enumerate(docs) if blend > 0.0 and doc.head_is_title and doc.head_tokens < len(doc.tokens)
        ]
        # Rows of the TF-IDF batch: every document, then the head of every blended document.
        texts = words + [docs[i].head_words() for i in blended]
        heads = [doc.head_word_count for doc in docs] + [docs[i].head_word_count for i in blended]
        logits, known = self._text_logits(texts, heads)
        out = []
        head_row = dict(zip(blended, range(len(docs), len(texts)), strict=True))
        for i, doc in enumerate(docs):
            ev = rule_evidence(doc, all_matches[i], rules)
            hybrid, text_only = self._finish(logits[i], ev)
            j = head_row.get(i)
            if j is not None:
                # Rule matches never cross the line break after a title, so the title's own matches
                # are those that end inside it.
                head_ev = rule_evidence(doc, [m for m in all_matches[i] if m.end <= doc.head_tokens], rules)
                head_hybrid, head_text = self._finish(logits[j], head_ev)
                hybrid = _geometric(hybrid, head_hybrid, blend)
                text_only = _geometric(text_only, head_text, blend)
            n = len(words[i])
            out.append(
                Analysis(
                    hybrid=self._to_labels(hybrid),
                    model=self._to_labels(text_only),
                    rules=rules_only_scores(ev),
                    evidence=ev,
                    known_fraction=int(known[i]) / n if n else 1.0,
                    n_words=n,
                )
            )
        return out

    def _text_logits(self, texts: list[list[str]], heads: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Text logits of several word lists, hybrid then text-only columns, intercepts included
        (shape ``(len(texts), 2 * k)``), and how many words of each the vocabulary knows."""
        n = len(texts)
        index = self.term_index
        if index is not None:
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
            ids = index.word_ids(list(itertools.chain.from_iterable(texts)))
            rows, features, values, known = index.rows(ids, lengths, np.asarray(heads, dtype=np.int64))
        else:
            rows, features, values, known = self._reference_rows(texts, heads)
        out = np.zeros((n, self._coef_both.shape[1]))
        if len(rows):
            # np.take and an in-place product: the same values as ``coef[features] * values[:, None]``
            # in about half the time (one temporary fewer, and take beats fancy indexing here).
            contributions = np.take(self._coef_both, features, axis=0)
            contributions *= values[:, None]
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            out[rows[starts]] = np.add.reduceat(contributions, starts, axis=0)
        out += self._intercept_both
        return out, known

    def _reference_rows(
        self, texts: list[list[str]], heads: list[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The rows of :meth:`TermIndex.rows`, built term by term as strings (any n-gram range)."""
        rows, features, values, known = [], [], [], []
        for r, (words, n_head) in enumerate(zip(texts, heads, strict=True)):
            terms = text_terms(
                words,
                self.ngram_range,
                stemmed=self.stemmed,
                head=words[:n_head] if self.head_features else None,
                drop_function=self.drop_function_ngrams,
            )
            idx, vals = tfidf_row(terms, self.vocabulary, self.idf)
            order = np.argsort(idx)
            rows.append(np.full(len(idx), r, dtype=np.int64))
            features.append(idx[order])
            values.append(vals[order])
            forms = [stem(w) for w in words] if self.stemmed else words
            known.append(sum(1 for f in forms if f in self.vocabulary or f in self._known_forms))
        if not texts:
            return (np.empty(0, dtype=np.int64),) * 2 + (np.empty(0), np.empty(0, dtype=np.int64))
        return np.concatenate(rows), np.concatenate(features), np.concatenate(values), np.array(known)

    def _finish(self, text_logits: np.ndarray, ev: RuleEvidence) -> tuple[list[float], list[float]]:
        """Hybrid and text-only probabilities (model class order) from the text logits and the rules."""
        k = self._k
        z = text_logits.copy()
        z[:k] += aggregate_vector(ev) @ self._coef_agg * self.rule_scale
        logits = z.tolist()
        if ev.counts:
            rules = self.matcher.rules
            for r, count in ev.counts.items():
                col = self._rule_coef.get(rules[r].id)
                if col is not None:
                    w = math.log1p(count) * self.rule_scale
                    for c in range(k):
                        logits[c] += col[c] * w
        return _softmax(logits[:k]), _softmax(logits[k:])

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("matcher", None)  # rebuilt on first use after unpickling
        state.pop("term_index", None)
        return state

    def thresholds(self) -> dict[str, float]:
        """The decision thresholds stored with the model."""
        return dict(self.state.get("thresholds", {}))
