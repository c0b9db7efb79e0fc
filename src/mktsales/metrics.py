"""Metrics shared by training and evaluation, on plain label lists and probability arrays.

``mvs_f1`` is the marketing-versus-sales figure used throughout the project: on the rows whose
gold label is marketing or sales, the prediction is whichever of the two has the higher score
(``other`` is ignored), and the macro-F1 of those two classes is reported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mktsales.dimensions import LABELS

__all__ = [
    "choose_confidence_threshold",
    "classification_summary",
    "expected_calibration_error",
    "macro_f1",
    "mvs_f1",
    "per_class",
    "reliability_bins",
]


def per_class(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every label (0.0 where undefined)."""
    t = np.asarray(y_true, dtype=object)
    p = np.asarray(y_pred, dtype=object)
    out = {}
    for label in labels:
        tp = float(np.sum((t == label) & (p == label)))
        fp = float(np.sum((t != label) & (p == label)))
        fn = float(np.sum((t == label) & (p != label)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": int(tp + fn)}
    return out


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Unweighted mean F1 over ``labels`` (default: the labels present in ``y_true``)."""
    labs = list(labels) if labels is not None else sorted(set(y_true))
    if not labs:
        return 0.0
    pc = per_class(y_true, y_pred, labs)
    return float(np.mean([pc[label]["f1"] for label in labs]))


def mvs_f1(y_true: Sequence[str], scores: np.ndarray) -> float:
    """Marketing-vs-sales macro-F1 on the marketing and sales rows.

    Parameters
    ----------
    y_true : sequence of str
        Gold labels (rows of other labels are skipped).
    scores : numpy.ndarray
        Shape (n, 3), probabilities in :data:`LABELS` order.
    """
    t = np.asarray(y_true, dtype=object)
    keep = (t == "marketing") | (t == "sales")
    if not keep.any():
        return float("nan")
    s = np.asarray(scores)[keep]
    pred = np.where(s[:, 0] >= s[:, 1], "marketing", "sales")
    present = [label for label in ("marketing", "sales") if label in set(t[keep])]
    return macro_f1(list(t[keep]), list(pred), present)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> list[dict[str, float]]:
    """Equal-width bins of top-label confidence with their accuracy and count."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    out = []
    for i in range(n_bins):
        lo, hi = edges[i], edges[i + 1]
        mask = (confidence > lo) & (confidence <= hi) if i else (confidence >= lo) & (confidence <= hi)
        n = int(mask.sum())
        out.append(
            {
                "lower": float(lo),
                "upper": float(hi),
                "count": n,
                "confidence": float(confidence[mask].mean()) if n else float("nan"),
                "accuracy": float(correct[mask].mean()) if n else float("nan"),
            }
        )
    return out


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    """Top-label expected calibration error over equal-width bins."""
    n = len(confidence)
    if n == 0:
        return float("nan")
    total = 0.0
    for b in reliability_bins(confidence, correct, n_bins):
        if b["count"]:
            total += b["count"] / n * abs(b["accuracy"] - b["confidence"])
    return total


def choose_confidence_threshold(
    confidence: np.ndarray, correct: np.ndarray, target_precision: float, grid: Sequence[float] | None = None
) -> tuple[float, float, float]:
    """Smallest threshold whose kept rows (confidence >= threshold) reach ``target_precision``.

    Returns
    -------
    tuple of float
        ``(threshold, precision_of_kept_rows, coverage)``; when no threshold reaches the target,
        the one with the highest precision.
    """
    candidates = list(grid) if grid is not None else [*(round(x, 3) for x in np.arange(0.34, 1.0, 0.01)), 0.995, 0.999]
    best = (candidates[-1], 0.0, 0.0)
    for th in candidates:
        keep = confidence >= th
        if not keep.any():
            continue
        precision = float(correct[keep].mean())
        coverage = float(keep.mean())
        if precision >= target_precision:
            return float(th), precision, coverage
        if precision > best[1]:
            best = (float(th), precision, coverage)
    return best


def classification_summary(y_true: Sequence[str], y_pred: Sequence[str], scores: np.ndarray) -> dict[str, object]:
    """Accuracy, macro-F1 (3 classes), marketing-vs-sales F1 and per-class figures."""
    t = list(y_true)
    p = list(y_pred)
    labels = [label for label in LABELS if label in set(t)]
    return {
        "n": len(t),
        "accuracy": float(np.mean(np.asarray(t, dtype=object) == np.asarray(p, dtype=object))) if t else float("nan"),
        "macro_f1": macro_f1(t, p, labels),
        "mvs_f1": mvs_f1(t, scores),
        "per_class": per_class(t, p, labels),
    }
