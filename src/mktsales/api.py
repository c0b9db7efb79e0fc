"""The scoring API: :func:`classify`, :func:`classify_many` and :class:`Classifier`.

The default classifier (shipped model and its rules) is loaded lazily on first use, verified
against its checksum, and cached for the life of the process; importing mktsales loads nothing.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections.abc import Iterable, Iterator
from functools import cached_property
from os import PathLike
from typing import Any

from mktsales.dimensions import LABELS, Dimension
from mktsales.document import Document, prepare
from mktsales.exceptions import InputTypeError, ParameterError
from mktsales.features import match_weight
from mktsales.persistence import load_state
from mktsales.prediction import DimensionScore, Evidence, Prediction, Verdict
from mktsales.rules import RuleSet
from mktsales.scoring import Analysis, Scorer
from mktsales.workers import collector_paused, heap_frozen, predictions_in_order

__all__ = ["Classifier", "classify", "classify_many", "default_classifier", "load_classifier"]

#: Defaults used when a model carries no thresholds of its own (training stores tuned values).
DEFAULT_THRESHOLDS: dict[str, float] = {
    # below this top probability a prediction is uncertain
    "confidence": 0.6,
    # when rules and model point to opposite poles, the hybrid needs this much to be trusted
    "conflict_confidence": 0.9,
    # with no rule match, at least this share of the words must be known to the model
    "min_known_fraction": 0.5,
}
#: Fewer letters than this and a text is "too_short" to score.
MIN_LETTERS = 2
_DIMENSIONS: tuple[str, ...] = tuple(d.value for d in Dimension)
_NOT_SCORED = {"marketing": 0.0, "sales": 0.0, "other": 1.0}


def _argmax(scores: tuple[float, float, float]) -> str:
    best = max(range(3), key=lambda i: (scores[i], i == 2))  # ties go to "other"
    return LABELS[best]


def _as_dict(scores: tuple[float, float, float]) -> dict[str, float]:
    return {label: scores[i] for i, label in enumerate(LABELS)}


class Classifier:
    """A loaded model with its rules and thresholds.

    Parameters
    ----------
    scorer : Scorer
        Built from a model state.
    thresholds : dict, optional
        Overrides of the decision thresholds (keys of :data:`DEFAULT_THRESHOLDS`).
    name : str, default="custom"
        A name for reports.
    sha256 : str, optional
        Checksum of the model file it was loaded from.

    Examples
    --------
    >>> clf = default_classifier()
    >>> clf.classify("Senior Brand Manager").label
    'marketing'
    """

    def __init__(
        self,
        scorer: Scorer,
        *,
        thresholds: dict[str, float] | None = None,
        name: str = "custom",
        sha256: str | None = None,
    ) -> None:
        self.scorer = scorer
        merged = dict(DEFAULT_THRESHOLDS)
        merged.update(scorer.thresholds())
        if thresholds:
            unknown = set(thresholds) - set(DEFAULT_THRESHOLDS)
            if unknown:
                raise ParameterError(
                    f"thresholds has unknown key(s) {sorted(unknown)}; known: {sorted(DEFAULT_THRESHOLDS)}"
                )
            merged.update(thresholds)
        for key, value in merged.items():
            if not 0.0 <= float(value) <= 1.0:
                raise ParameterError(f"threshold {key} must be in [0, 1], got {value!r}")
        self.thresholds = merged
        self.name = name
        self.sha256 = sha256

    @classmethod
    def load(
        cls,
        path: str | PathLike[str] | None = None,
        *,
        trusted: bool = False,
        expected_sha256: str | None = None,
        rules: str | PathLike[str] | RuleSet | None = None,
        extra_rules: str | PathLike[str] | RuleSet | Iterable[dict[str, Any]] | None = None,
        thresholds: dict[str, float] | None = None,
    ) -> Classifier:
        """Load a model file (default: the shipped model) and optionally other rules.

        Parameters
        ----------
        path : str or path-like, optional
            Model file; see :func:`mktsales.persistence.load_state` for the checksum rules.
        trusted : bool, default=False
            Load a model file without a checksum (it runs pickle code: only your own files).
        expected_sha256 : str, optional
            Checksum the model file must have.
        rules : path or RuleSet, optional
            Rules to use instead of the model's own.
        extra_rules : path, RuleSet or iterable of dict, optional
            Rules added to the model's (or ``rules``).
        thresholds : dict, optional
            Overrides of the decision thresholds.

        Returns
        -------
        Classifier
        """
        from mktsales.persistence import default_model_path, sha256_file

        state = load_state(path, trusted=trusted, expected_sha256=expected_sha256)
        ruleset: RuleSet | None = None
        if rules is not None:
            ruleset = rules if isinstance(rules, RuleSet) else RuleSet.from_file(rules)
        if extra_rules is not None:
            base = ruleset if ruleset is not None else RuleSet.from_dicts(state["rules"], name="model")
            extra = (
                extra_rules
                if isinstance(extra_rules, RuleSet)
                else (
                    RuleSet.from_file(extra_rules)
                    if isinstance(extra_rules, str | PathLike)
                    else RuleSet.from_dicts(extra_rules, name="extra")
                )
            )
            ruleset = base.extend(extra)
        p = default_model_path() if path is None else path
        return cls(
            Scorer(state, rules=ruleset),
            thresholds=thresholds,
            name="default" if path is None else str(path),
            sha256=sha256_file(p),
        )

    @property
    def rules(self) -> RuleSet:
        """The rules this classifier matches."""
        return self.scorer.rules

    def info(self) -> dict[str, Any]:
        """Model name, checksum, rules and thresholds, for manifests and reports."""
        from mktsales import __version__

        return {
            "mktsales_version": __version__,
            "model": self.name,
            "model_sha256": self.sha256,
            "model_card": self.scorer.state.get("card", {}),
            "rules": self.rules.name,
            "rules_count": len(self.rules),
            "rules_checksum": self.rules.checksum,
            "thresholds": dict(self.thresholds),
        }

    # -- single --------------------------------------------------------------------------------
    def classify(self, text: str, *, title: str | None = None) -> Prediction:
        """Classify one text; see :func:`mktsales.classify`."""
        doc = prepare(text, title)
        return self._predict(doc, self.scorer.analyze_one(doc), text, title)

    def classify_many(
        self,
        texts: Iterable[str],
        *,
        titles: Iterable[str | None] | None = None,
        batch_size: int = 256,
        n_process: int = 1,
    ) -> Iterator[Prediction]:
        """Classify many texts, streaming results in input order; see :func:`mktsales.classify_many`."""
        if isinstance(texts, str | bytes):
            raise InputTypeError("texts must be an iterable of str, got a single string; use classify() for one text")
        if not isinstance(texts, Iterable):
            raise InputTypeError(f"texts must be an iterable of str, got {type(texts).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ParameterError(f"batch_size must be a positive int, got {batch_size!r}")
        if isinstance(n_process, bool) or not isinstance(n_process, int) or n_process == 0 or n_process < -1:
            raise ParameterError(f"n_process must be a positive int or -1 (all cores), got {n_process!r}")
        if n_process == -1:
            n_process = multiprocessing.cpu_count()
        pairs: Iterator[tuple[str, str | None]] = (
            zip(texts, itertools.repeat(None)) if titles is None else zip(texts, titles, strict=True)
        )
        batches = _batched(pairs, batch_size)
        if n_process == 1:
            # The objects alive before the call (the caller's, the libraries', the model's) are
            # frozen while it runs (see workers.freeze_heap): the predictions kept between batches
            # trigger collections of the oldest generation, each of which scanned all of them
            # again (about 140 ms a collection beside a fitted scikit-learn TF-IDF model, measured).
            with heap_frozen():
                for batch in batches:
                    yield from self._classify_batch(batch)
            return
        yield from predictions_in_order(self, batches, n_process)

    def _classify_batch(self, batch: list[tuple[str, str | None]]) -> list[Prediction]:
        # Stage by stage over the batch (see Scorer.analyze_many), with the cyclic garbage
        # collector paused: a batch allocates tens of thousands of lists and objects that all stay
        # alive until it ends, and the collector kept scanning them for nothing (about a tenth of
        # the time of classify_many on postings, measured with gc.callbacks).
        with collector_paused():
            docs = [prepare(t, ti) for t, ti in batch]
            analyses = self.scorer.analyze_many(docs)
            return [self._predict(d, a, t, ti) for d, a, (t, ti) in zip(docs, analyses, batch, strict=True)]

    # -- building predictions ------------------------------------------------------------------
    @cached_property
    def _rule_labels(self) -> list[tuple[str, str, str]]:
        """Id, dimension and pole of every rule as plain strings (reading an enum's value costs a
        descriptor call, which adds up over every match of every text)."""
        return [(r.id, r.dimension.value, r.pole.value) for r in self.scorer.matcher.rules]

    def _predict(self, doc: Document, an: Analysis, text: str, title: str | None) -> Prediction:
        evidence = self._evidence(doc, an, text, title)
        by_dimension: dict[str, list[Evidence]] = {d: [] for d in _DIMENSIONS}
        for e in evidence:
            by_dimension[e.dimension].append(e)
        cells = an.evidence.cells.tolist()
        dims = []
        for dim, (m, s) in zip(_DIMENSIONS, cells, strict=True):
            score = (m - s) / (m + s) if m + s > 0 else 0.0
            lean = "marketing" if score > 0 else ("sales" if score < 0 else None)
            dims.append(DimensionScore(dim, score, m, s, lean, tuple(by_dimension[dim])))
        rules_verdict = Verdict(_argmax(an.rules), _as_dict(an.rules))
        model_verdict = Verdict(_argmax(an.model), _as_dict(an.model))
        has_evidence = bool(an.evidence.counts)
        if not has_evidence:
            agreement = "rules_silent"
        elif rules_verdict.label == model_verdict.label:
            agreement = "agree"
        elif rules_verdict.label != "other" and model_verdict.label != "other":
            agreement = "conflict"
        else:
            agreement = "differ"
        label, scores, uncertain, reason = self._decide(doc, an, has_evidence, agreement)
        return Prediction(
            label=label,
            scores=scores,
            confidence=max(scores.values()),
            uncertain=uncertain,
            reason=reason,
            dimensions=tuple(dims),
            evidence=evidence,
            rules=rules_verdict,
            model=model_verdict,
            agreement=agreement,
            language=doc.language,
            truncated=doc.truncated,
        )

    def _decide(
        self, doc: Document, an: Analysis, has_evidence: bool, agreement: str
    ) -> tuple[str, dict[str, float], bool, str | None]:
        th = self.thresholds
        if not doc.text.strip():
            return "other", dict(_NOT_SCORED), True, "empty"
        if doc.language != "en":
            return "other", dict(_NOT_SCORED), True, "unsupported_language"
        if an.n_words < MIN_LETTERS and sum(map(len, doc.words())) < MIN_LETTERS:
            return "other", dict(_NOT_SCORED), True, "too_short"
        if not has_evidence and an.known_fraction < th["min_known_fraction"]:
            return "other", dict(_NOT_SCORED), True, "no_evidence"
        scores = _as_dict(an.hybrid)
        label = _argmax(an.hybrid)
        confidence = scores[label]
        if agreement == "conflict" and confidence < th["conflict_confidence"]:
            return label, scores, True, "conflict"
        if confidence < th["confidence"]:
            return label, scores, True, ("low_margin" if has_evidence else "no_evidence")
        return label, scores, False, None

    def _evidence(self, doc: Document, an: Analysis, text: str, title: str | None) -> tuple[Evidence, ...]:
        matches = an.evidence.matches
        if not matches:
            return ()
        rules = self.scorer.matcher.rules
        labels = self._rule_labels
        cleaned = doc.text
        # Without a separate title, token offsets and the map back to the input come straight from
        # the body (the common case of a batch, read here without the general methods' calls).
        offsets = doc.body_offsets if doc.title is None else None
        body_to_original = doc.body.to_original
        out = []
        for m in matches:
            rule_id, dimension, pole = labels[m.rule]
            if offsets is not None:
                cs, ce = offsets[2 * m.start], offsets[2 * m.end - 1]
                field = "text"
                os_, oe = body_to_original(cs, ce)
            else:
                cs, ce = doc.char_span(m.start, m.end)
                field, os_, oe = doc.to_original(cs, ce)
            source = title if field == "title" and title is not None else text
            weight = match_weight(doc, m, rules[m.rule])
            out.append(Evidence(rule_id, dimension, pole, weight, source[os_:oe], cleaned[cs:ce], os_, oe, field))
        return tuple(out)


def _batched(pairs: Iterator[tuple[str, str | None]], size: int) -> Iterator[list[tuple[str, str | None]]]:
    while True:
        batch = list(itertools.islice(pairs, size))
        if not batch:
            return
        yield batch


# -- the default classifier -------------------------------------------------------------------------
_DEFAULT: dict[str, Classifier] = {}
_LOCK = threading.Lock()


def default_classifier() -> Classifier:
    """Return the shipped classifier, loading (and verifying) it on first use."""
    clf = _DEFAULT.get("clf")
    if clf is None:
        with _LOCK:
            clf = _DEFAULT.get("clf")
            if clf is None:
                clf = Classifier.load()
                _DEFAULT["clf"] = clf
    return clf


#: Load a classifier (the shipped model by default); the same as :meth:`Classifier.load`.
load_classifier = Classifier.load


def _resolve(classifier: Classifier | None) -> Classifier:
    if classifier is None:
        return default_classifier()
    if not isinstance(classifier, Classifier):
        raise InputTypeError(f"classifier must be a mktsales.Classifier, got {type(classifier).__name__}")
    return classifier


def classify(text: str, *, title: str | None = None, classifier: Classifier | None = None) -> Prediction:
    """Label one job posting, title or task as marketing, sales or other, with its evidence.

    Parameters
    ----------
    text : str
        The text. HTML, entities, mojibake and bullets are cleaned; boilerplate is ignored.
    title : str, optional
        A separate job title; its rule matches count double and are reported with
        ``field="title"``.
    classifier : Classifier, optional
        Defaults to the shipped model and rules.

    Returns
    -------
    Prediction
        ``label``, calibrated ``scores`` summing to 1, the five ``dimensions``, the ``evidence``,
        ``uncertain`` with a ``reason``, and the rules-only and model-only verdicts.

    Raises
    ------
    InputTypeError
        When ``text`` is not a ``str`` (``None``, bytes, a number...).

    Examples
    --------
    >>> p = classify("Own the quarterly pipeline and close enterprise deals")
    >>> p.label
    'sales'
    >>> round(sum(p.scores.values()), 6)
    1.0
    >>> classify("").reason
    'empty'
    """
    return _resolve(classifier).classify(text, title=title)


def classify_many(
    texts: Iterable[str],
    *,
    titles: Iterable[str | None] | None = None,
    batch_size: int = 256,
    n_process: int = 1,
    classifier: Classifier | None = None,
) -> Iterator[Prediction]:
    """Label many texts, streaming results in input order.

    Results are exactly those of :func:`classify` called one text at a time. While a batch is
    scored, Python's cyclic garbage collector is paused (and restored afterwards, unless it was
    already disabled): the batch's objects all live until it ends, and scanning them cost about a
    tenth of the time. The objects that exist when the call starts are also frozen
    (:func:`gc.freeze`) until the results are consumed or the generator is closed, so that the
    collections the predictions trigger do not scan your whole heap again each time (and, with
    ``n_process > 1``, the forked workers do not touch its pages); objects that became cyclic
    garbage meanwhile are collected after (see :mod:`mktsales.workers`). A freeze of your own is
    left alone.

    Parameters
    ----------
    texts : iterable of str
        Consumed lazily, ``batch_size`` at a time.
    titles : iterable of str or None, optional
        One title (or None) per text.
    batch_size : int, default=256
        Texts per batch, the unit of work of a process.
    n_process : int, default=1
        Processes that classify, this one included: with 2, this process and one worker
        process share the batches, each taking the next one when it is free, so the faster
        does more; the input is read only a few batches ahead of the results consumed. -1 uses
        every core.
    classifier : Classifier, optional
        Defaults to the shipped model and rules.

    Yields
    ------
    Prediction

    Examples
    --------
    >>> [p.label for p in classify_many(["SEO specialist", "Realtor", "Registered nurse"])]
    ['marketing', 'sales', 'other']
    """
    return _resolve(classifier).classify_many(texts, titles=titles, batch_size=batch_size, n_process=n_process)


def _loaded() -> bool:
    """True once the default classifier has been loaded (used by tests of lazy loading)."""
    return "clf" in _DEFAULT
