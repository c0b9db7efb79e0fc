"""The trained classifier as a scikit-learn estimator.

:class:`MktSalesClassifier` takes raw texts. ``fit`` prepares them (:mod:`mktsales.document`),
matches the rules, learns TF-IDF features, and fits two multinomial logistic regressions: one over
TF-IDF and rule features (the *hybrid*, whose label is reported) and one over TF-IDF alone (the
*model-only* verdict for ablation). With ``calibrate=True`` each gets a temperature fitted on
out-of-fold logits, which makes the probabilities calibrated without changing the ranking.

Prediction goes through :class:`mktsales.scoring.Scorer`, the same NumPy code ``classify`` uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from mktsales.dimensions import LABELS
from mktsales.document import prepare
from mktsales.exceptions import InputTypeError, ParameterError
from mktsales.features import (
    FunctionNgrams,
    aggregate_vector,
    check_function_ngrams,
    rule_evidence,
    text_terms,
)
from mktsales.rules import RuleSet, load_rules
from mktsales.scoring import FORMAT, FORMAT_VERSION, Scorer, matcher_for

__all__ = ["MktSalesClassifier", "check_texts"]

#: Temperatures are searched in this range (1.0 means the regression's own probabilities).
TEMPERATURE_BOUNDS = (0.05, 20.0)

#: Texts prepared and scored together by predict_proba (see Scorer.analyze_many).
_PREDICT_BATCH = 256


def check_texts(X: Any, name: str = "X") -> list[str]:
    """Validate a batch of texts and return it as a list.

    Parameters
    ----------
    X : iterable of str
        Texts; a pandas Series, NumPy array or list.
    name : str
        The parameter name used in error messages.

    Returns
    -------
    list of str

    Raises
    ------
    InputTypeError
        When ``X`` is a single string or bytes object, not iterable, or holds a non-string.
    """
    if isinstance(X, str | bytes | bytearray):
        raise InputTypeError(
            f"{name} must be an iterable of texts (a batch), got a single {type(X).__name__}; wrap it in a list"
        )
    if not isinstance(X, Iterable):
        raise InputTypeError(f"{name} must be an iterable of str, got {type(X).__name__}")
    texts = list(X)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputTypeError(f"{name}[{i}] must be str, got {type(t).__name__}: {t!r:.60}")
    return texts


def _check_labels(y: Any, n: int) -> np.ndarray:
    if isinstance(y, str | bytes):
        raise InputTypeError("y must be an iterable of labels, got a single string")
    labels = np.asarray(list(y), dtype=object)
    if labels.ndim != 1 or len(labels) != n:
        raise ParameterError(f"y must hold one label per text: got {len(labels)} labels for {n} texts")
    unknown = sorted({str(v) for v in labels if v not in LABELS})
    if unknown:
        raise ParameterError(f"y holds labels outside {list(LABELS)}: {unknown[:10]}")
    if len(set(labels)) < 2:
        raise ParameterError(f"y must hold at least two classes, got {sorted(set(labels))}")
    return labels


def _identity(terms: list[str]) -> list[str]:
    """The vectoriser receives ready-made terms (see mktsales.features.text_terms)."""
    return terms


def _fit_temperature(logits: np.ndarray, y_idx: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    def nll(t: float) -> float:
        return float(-log_softmax(logits / t, axis=1)[np.arange(len(y_idx)), y_idx].mean())

    res = minimize_scalar(nll, bounds=TEMPERATURE_BOUNDS, method="bounded", options={"xatol": 1e-4})
    return float(res.x)


def _as_multiclass(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binary logistic regression stores one row; softmax over [0, z] gives the same probabilities."""
    if coef.shape[0] == 1:
        return np.vstack([np.zeros_like(coef), coef]), np.array([0.0, float(intercept[0])])
    return coef, intercept


class MktSalesClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no stubs
    """Marketing / sales / other classifier over raw text: TF-IDF plus rule features.

    Parameters
    ----------
    rules : RuleSet, str or path-like, optional
        Rules whose matches become features; ``None`` uses the shipped rules.
    ngram_range : tuple of int, default=(1, 2)
        Word n-gram sizes of the TF-IDF features.
    stemmed : bool, default=False
        Strip common inflections from words before making n-grams.
    head_features : bool, default=False
        Add features for the words of the head (the title, or the first line of the text).
    drop_function_ngrams : bool or "short", default=False
        Leave out of the TF-IDF features the n-grams made only of English function words ("such
        as", "of the", "to"; see :func:`mktsales.features.function_forms`): they record how the
        training texts were written rather than the job they describe. ``"short"`` leaves them out
        of short texts only (titles and single tasks, at most
        :data:`~mktsales.features.SHORT_TEXT_WORDS` words) and keeps them for postings, at
        training and at prediction alike.
    title_blend : float, default=0.0
        Weight in [0, 1) of the title scored on its own, combined geometrically with the whole text
        (see :meth:`mktsales.scoring.Scorer.analyze_many`); applied at prediction time only.
    min_df : int or float, default=2
        Minimum document frequency of an n-gram (as in ``TfidfVectorizer``).
    max_df : float, default=1.0
        Maximum document frequency of an n-gram.
    max_features : int, optional
        Keep only the most frequent n-grams.
    C : float, default=4.0
        Inverse regularisation strength of the logistic regressions.
    rule_scale : float, default=1.0
        Multiplier of the rule features; larger values let rules weigh more against words.
    class_weight : "balanced" or None, default="balanced"
        Class weighting of the logistic regressions.
    calibrate : bool, default=True
        Fit a temperature on out-of-fold logits so that probabilities are calibrated.
    cv : int, default=5
        Folds used for calibration.
    max_iter : int, default=3000
        Iterations of the lbfgs solver.
    random_state : int, default=0
        Seed of the calibration folds.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The labels seen in ``fit``, sorted.
    vocabulary_ : dict of str to int
        The TF-IDF vocabulary.
    temperature_ : float
        Calibration temperature of the hybrid regression (1.0 when ``calibrate=False``).
    scorer_ : Scorer
        The NumPy scorer built from the fitted arrays.

    Examples
    --------
    >>> clf = MktSalesClassifier(min_df=1, calibrate=False)
    >>> X = ["close deals and hit quota", "sell cars on the showroom floor", "brand campaign and SEO",
    ...      "market research and positioning", "fix servers", "nurse patients"]
    >>> y = ["sales", "sales", "marketing", "marketing", "other", "other"]
    >>> clf.fit(X, y).predict(["cold calling to close new business"])[0]
    'sales'
    """

    def __init__(
        self,
        *,
        rules: RuleSet | str | PathLike[str] | None = None,
        ngram_range: tuple[int, int] = (1, 2),
        stemmed: bool = False,
        head_features: bool = False,
        drop_function_ngrams: FunctionNgrams = False,
        title_blend: float = 0.0,
        min_df: int | float = 2,
        max_df: float = 1.0,
        max_features: int | None = None,
        C: float = 4.0,
        rule_scale: float = 1.0,
        class_weight: str | None = "balanced",
        calibrate: bool = True,
        cv: int = 5,
        max_iter: int = 3000,
        random_state: int = 0,
    ) -> None:
        self.rules = rules
        self.ngram_range = ngram_range
        self.stemmed = stemmed
        self.head_features = head_features
        self.drop_function_ngrams = drop_function_ngrams
        self.title_blend = title_blend
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.C = C
        self.rule_scale = rule_scale
        self.class_weight = class_weight
        self.calibrate = calibrate
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.classifier_tags.multi_label = False
        return tags

    # -- helpers -------------------------------------------------------------------------------
    def _ruleset(self) -> RuleSet:
        if self.rules is None:
            return load_rules()
        if isinstance(self.rules, RuleSet):
            return self.rules
        if isinstance(self.rules, str | PathLike):
            return RuleSet.from_file(self.rules)
        raise ParameterError(f"rules must be None, a RuleSet or a path, got {type(self.rules).__name__}")

    def _check_params(self) -> None:
        lo, hi = self.ngram_range
        if not (1 <= lo <= hi <= 4):
            raise ParameterError(f"ngram_range must satisfy 1 <= min <= max <= 4, got {self.ngram_range!r}")
        if not 0.0 <= self.title_blend < 1.0:
            raise ParameterError(f"title_blend must be in [0, 1), got {self.title_blend!r}")
        if not self.C > 0:
            raise ParameterError(f"C must be > 0, got {self.C!r}")
        if not self.rule_scale >= 0:
            raise ParameterError(f"rule_scale must be >= 0, got {self.rule_scale!r}")
        try:
            check_function_ngrams(self.drop_function_ngrams)
        except ValueError as err:
            raise ParameterError(str(err)) from None
        if self.class_weight not in ("balanced", None):
            raise ParameterError(f"class_weight must be 'balanced' or None, got {self.class_weight!r}")
        if int(self.cv) < 2:
            raise ParameterError(f"cv must be >= 2, got {self.cv!r}")

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, X: Iterable[str], y: Iterable[str]) -> MktSalesClassifier:
        """Fit on raw texts and their labels.

        Parameters
        ----------
        X : iterable of str
            Texts (a list, Series or array; not a single string).
        y : iterable of str
            Labels among ``"marketing"``, ``"sales"``, ``"other"`` (at least two of them).

        Returns
        -------
        MktSalesClassifier
            ``self``, fitted.
        """
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        self._check_params()
        texts = check_texts(X)
        labels = _check_labels(y, len(texts))
        rules = self._ruleset()
        matcher = matcher_for(rules)
        docs = [prepare(t) for t in texts]
        evidence = [rule_evidence(d, matcher.match(d.tokens), matcher.rules) for d in docs]
        ngram_range = (int(self.ngram_range[0]), int(self.ngram_range[1]))
        vectorizer = TfidfVectorizer(
            analyzer=_identity,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float64,
        )
        stemmed, head = bool(self.stemmed), bool(self.head_features)
        drop = check_function_ngrams(self.drop_function_ngrams)
        T = vectorizer.fit_transform(
            [
                text_terms(
                    d.words(), ngram_range, stemmed=stemmed, head=d.head_words() if head else None, drop_function=drop
                )
                for d in docs
            ]
        )
        vocabulary = vectorizer.get_feature_names_out().tolist()
        fired = sorted({matcher.rules[r].id for ev in evidence for r in ev.counts})
        col = {rid: j for j, rid in enumerate(fired)}
        agg = np.vstack([aggregate_vector(ev) for ev in evidence]) * self.rule_scale
        rows, cols, vals = [], [], []
        for i, ev in enumerate(evidence):
            for r, count in ev.counts.items():
                rows.append(i)
                cols.append(col[matcher.rules[r].id])
                vals.append(np.log1p(count) * self.rule_scale)
        R = sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(fired)))
        H = sp.hstack([T, sp.csr_matrix(agg), R], format="csr")

        classes = np.unique(labels)
        y_idx = np.searchsorted(classes, labels)

        def make_lr() -> LogisticRegression:
            return LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
            )

        hybrid = make_lr().fit(H, labels)
        text_only = make_lr().fit(T, labels)
        t_hybrid = t_text = 1.0
        min_count = int(np.bincount(y_idx).min())
        if self.calibrate and min_count >= 2:
            folds = StratifiedKFold(n_splits=min(int(self.cv), min_count), shuffle=True, random_state=self.random_state)
            oof_h = np.zeros((len(labels), len(classes)))
            oof_t = np.zeros((len(labels), len(classes)))
            for train, test in folds.split(np.zeros(len(labels)), y_idx):
                if len(np.unique(y_idx[train])) < len(classes):
                    continue
                for matrix, oof in ((H, oof_h), (T, oof_t)):
                    lr = make_lr().fit(matrix[train], labels[train])
                    c, b = _as_multiclass(lr.coef_, lr.intercept_)
                    oof[test] = matrix[test] @ c.T + b
            t_hybrid = _fit_temperature(oof_h, y_idx)
            t_text = _fit_temperature(oof_t, y_idx)
        coef_h, int_h = _as_multiclass(hybrid.coef_, hybrid.intercept_)
        coef_t, int_t = _as_multiclass(text_only.coef_, text_only.intercept_)
        self.classes_ = classes
        self.vocabulary_ = {t: i for i, t in enumerate(vocabulary)}
        self.temperature_ = t_hybrid
        state: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "classes": [str(c) for c in classes],
            "params": {
                "ngram_range": list(ngram_range),
                "stemmed": bool(self.stemmed),
                "head_features": bool(self.head_features),
                "drop_function_ngrams": drop,
                "title_blend": float(self.title_blend),
                "min_df": self.min_df,
                "max_df": self.max_df,
                "max_features": self.max_features,
                "C": self.C,
                "rule_scale": self.rule_scale,
                "class_weight": self.class_weight,
                "calibrate": self.calibrate,
                "cv": self.cv,
                "max_iter": self.max_iter,
                "random_state": self.random_state,
            },
            "rules": rules.to_dicts(),
            "rules_name": rules.name,
            "rules_checksum": rules.checksum,
            "vocabulary": vocabulary,
            "idf": vectorizer.idf_.astype(np.float64),
            "rule_columns": fired,
            "hybrid": {"coef": coef_h, "intercept": int_h, "temperature": t_hybrid},
            "text_only": {"coef": coef_t, "intercept": int_t, "temperature": t_text},
            "thresholds": {},
        }
        self.scorer_ = Scorer(state, rules=rules)
        return self

    # -- predict -------------------------------------------------------------------------------
    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Return class probabilities, columns in :attr:`classes_` order (rows sum to 1)."""
        check_is_fitted(self)
        texts = check_texts(X)
        pos = [LABELS.index(str(c)) for c in self.classes_]
        out = np.empty((len(texts), len(pos)))
        for start in range(0, len(texts), _PREDICT_BATCH):
            docs = [prepare(t) for t in texts[start : start + _PREDICT_BATCH]]
            for i, analysis in enumerate(self.scorer_.analyze_many(docs), start=start):
                out[i] = [analysis.hybrid[p] for p in pos]
        return out

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """Return the most probable label of every text."""
        check_is_fitted(self)
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)], dtype=object)

    # -- state ---------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """Return the fitted arrays as a plain dict (what :func:`mktsales.persistence.save_model` writes)."""
        check_is_fitted(self)
        return self.scorer_.state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MktSalesClassifier:
        """Rebuild a fitted estimator from a model state."""
        scorer = Scorer(state)
        params = dict(state["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        est = cls(rules=scorer.rules, **params)
        est.classes_ = np.asarray(state["classes"], dtype=object)
        est.vocabulary_ = dict(scorer.vocabulary)
        est.temperature_ = float(state["hybrid"]["temperature"])
        est.scorer_ = scorer
        return est
