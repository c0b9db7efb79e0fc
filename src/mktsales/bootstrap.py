"""Statistics of labelled predictions from per-row features, and their bootstrap.

Every statistic of an evaluation (confusion matrix, marketing-vs-sales confusion, Brier score,
calibration bins) is a sum over rows of a feature matrix (:func:`_features`), so a resample needs
only the feature sums of its rows (:func:`_bootstrap_sums`) and :func:`_statistics` turns sums into
accuracy, macro-F1, per-class precision / recall / F1, marketing-vs-sales F1, ECE and Brier score.
Resample ``b`` draws ``rng.integers(0, n, size=n)`` with ``rng = numpy.random.default_rng(seed)``,
in order; intervals are percentile intervals of the resampled values (see :mod:`mktsales.evaluation`
for how undefined ratios are counted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mktsales.exceptions import ParameterError

__all__ = ["brier_score"]


#: Bootstrap resamples are drawn in chunks of at most this many row indices (memory bound).
_BOOTSTRAP_CELLS = 4_000_000


# -- parameters ------------------------------------------------------------------------------------
def _int_param(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _level(confidence_level: Any) -> float:
    if isinstance(confidence_level, bool) or not isinstance(confidence_level, int | float):
        raise ParameterError(f"confidence_level must be a number in (0, 1), got {confidence_level!r}")
    if not 0.0 < float(confidence_level) < 1.0:
        raise ParameterError(f"confidence_level must be in (0, 1), got {confidence_level!r}")
    return float(confidence_level)


# -- statistics ------------------------------------------------------------------------------------
def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    # the bins of mktsales.metrics.reliability_bins: [0, e1], (e1, e2], ..., (e_{n-1}, 1]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx: np.ndarray = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    return idx


@dataclass(frozen=True)
class _Outcome:
    """Per-row arrays of one source of labels, as indices into the evaluated labels."""

    labels: tuple[str, ...]
    gold: np.ndarray
    pred: np.ndarray
    probs: np.ndarray


def _width(k: int, n_bins: int) -> int:
    return k * k + 4 + 1 + 3 * n_bins


def _outcome(labels: tuple[str, ...], gold: Sequence[str], pred: Sequence[str], probs: np.ndarray) -> _Outcome:
    index = {label: i for i, label in enumerate(labels)}
    return _Outcome(
        labels,
        np.array([index[g] for g in gold], dtype=np.int64),
        np.array([index[p] for p in pred], dtype=np.int64),
        np.asarray(probs, dtype=np.float64),
    )


def _brier_rows(o: _Outcome) -> np.ndarray:
    k = len(o.labels)
    onehot = np.eye(k)[o.gold]
    if k == 2:  # binary: sklearn's brier_score_loss on the marketing probability
        m = o.labels.index("marketing")
        out: np.ndarray = (o.probs[:, m] - onehot[:, m]) ** 2
        return out
    summed: np.ndarray = ((o.probs - onehot) ** 2).sum(axis=1)
    return summed


def _features(o: _Outcome, n_bins: int) -> np.ndarray:
    """Per-row columns whose sums give every statistic (see :func:`_statistics`)."""
    n, k = len(o.gold), len(o.labels)
    rows = np.arange(n)
    F = np.zeros((n, _width(k, n_bins)))
    F[rows, o.gold * k + o.pred] = 1.0
    m, s = o.labels.index("marketing"), o.labels.index("sales")
    ms = np.flatnonzero((o.gold == m) | (o.gold == s))
    mvs_gold = np.where(o.gold[ms] == m, 0, 1)
    mvs_pred = np.where(o.probs[ms, m] >= o.probs[ms, s], 0, 1)
    F[ms, k * k + mvs_gold * 2 + mvs_pred] = 1.0
    F[:, k * k + 4] = _brier_rows(o)
    conf = o.probs.max(axis=1)
    bins = _bin_index(conf, n_bins)
    base = k * k + 5
    F[rows, base + bins] = 1.0
    F[rows, base + n_bins + bins] = conf
    F[rows, base + 2 * n_bins + bins] = (o.gold == o.pred).astype(np.float64)
    return F


def _prf(cm: np.ndarray, undefined: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 of confusion matrices (shape (B, k, k), rows gold).

    A ratio whose denominator is zero takes ``undefined``: 0.0 as scikit-learn's
    ``zero_division=0``, or NaN to leave the resample out of that class's interval.
    """
    tp = np.diagonal(cm, axis1=1, axis2=2)
    predicted = cm.sum(axis=1)
    actual = cm.sum(axis=2)
    fill = np.full_like(tp, undefined)
    precision = np.divide(tp, predicted, out=fill.copy(), where=predicted > 0)
    recall = np.divide(tp, actual, out=fill.copy(), where=actual > 0)
    denom = predicted + actual  # 2 tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=fill.copy(), where=denom > 0)
    return precision, recall, f1


def _statistics(
    S: np.ndarray, n: int, labels: tuple[str, ...], macro_labels: Sequence[str], n_bins: int
) -> dict[str, np.ndarray]:
    """Statistics of samples whose feature sums are the rows of ``S`` (shape (B, width))."""
    k = len(labels)
    cm = S[:, : k * k].reshape(-1, k, k)
    _, _, f1_zero = _prf(cm)
    precision, recall, f1 = _prf(cm, undefined=np.nan)
    out: dict[str, np.ndarray] = {"accuracy": np.trace(cm, axis1=1, axis2=2) / n}
    macro_idx = [labels.index(label) for label in macro_labels]
    out["macro_f1"] = f1_zero[:, macro_idx].mean(axis=1) if macro_idx else np.full(len(S), np.nan)
    for j, label in enumerate(labels):
        out[f"precision.{label}"] = precision[:, j]
        out[f"recall.{label}"] = recall[:, j]
        out[f"f1.{label}"] = f1[:, j]
    mvs_cm = S[:, k * k : k * k + 4].reshape(-1, 2, 2)
    _, _, mvs = _prf(mvs_cm)
    out["mvs_f1"] = np.where(mvs_cm.sum(axis=(1, 2)) > 0, mvs.mean(axis=1), np.nan)
    out["brier"] = S[:, k * k + 4] / n
    base = k * k + 5
    conf_sum = S[:, base + n_bins : base + 2 * n_bins]
    correct_sum = S[:, base + 2 * n_bins : base + 3 * n_bins]
    out["ece"] = np.abs(correct_sum - conf_sum).sum(axis=1) / n
    return out


def _bootstrap_sums(F: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """Feature sums of ``n_bootstrap`` resamples of the rows of ``F`` (see the module docstring)."""
    n, d = F.shape
    out = np.empty((n_bootstrap, d))
    step = max(1, _BOOTSTRAP_CELLS // max(n, 1))
    for start in range(0, n_bootstrap, step):
        b = min(step, n_bootstrap - start)
        idx = rng.integers(0, n, size=(b, n))
        flat = (idx + (np.arange(b) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)
        out[start : start + b] = counts @ F
    return out


def _interval(samples: np.ndarray | None, level: float) -> tuple[float | None, float | None]:
    if samples is None:
        return None, None
    finite = samples[np.isfinite(samples)]
    if not finite.size:
        return None, None
    lo, hi = np.percentile(finite, [50.0 * (1.0 - level), 50.0 * (1.0 + level)])
    return float(lo), float(hi)


def _estimate(value: float | None, samples: np.ndarray | None, level: float) -> dict[str, float | None]:
    lo, hi = _interval(samples, level)
    v = None if value is None or not math.isfinite(value) else float(value)
    return {"value": v, "ci_low": lo, "ci_high": hi}


def brier_score(o_labels: Sequence[str], gold: Sequence[str], probs: np.ndarray) -> float:
    """Brier score as :func:`sklearn.metrics.brier_score_loss` computes it.

    Parameters
    ----------
    o_labels : sequence of str
        The labels of the columns of ``probs``: the three labels, or marketing and sales.
    gold : sequence of str
        Gold labels.
    probs : numpy.ndarray
        Probabilities, one column per label.

    Returns
    -------
    float
        With three labels, the mean over rows of the squared error summed over the classes; with
        two, the mean squared error of the marketing probability.
    """
    labels = tuple(o_labels)
    o = _outcome(labels, gold, gold, probs)
    return float(_brier_rows(o).mean()) if len(gold) else float("nan")


def _auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """Area under the ROC curve of scores with ``pos`` the positives (ties count one half)."""
    if not len(pos) or not len(neg):
        return None
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    n_pos, n_neg = len(pos), len(neg)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
