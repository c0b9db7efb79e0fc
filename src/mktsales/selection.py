"""Choosing hyper-parameters on dev without letting noise swing the released model.

Dev macro-F1 differences between nearby settings are often smaller than dev's own sampling noise
(the grid of the twelfth retrain spanned 0.859-0.875, and the winner beat the runner-up by 0.001,
about two rows). Picking the plain maximum then swaps settings from one retrain to the next, and
with them how the model reads real postings, for no measurable reason.

:func:`select` is a champion / challenger rule: the released setting (the *incumbent*) is kept
unless the best setting beats it on dev by more than one standard error of the difference. The
standard error comes from a paired bootstrap over the dev rows: each resample draws rows with
replacement and scores both settings on the same rows, so the noise shared by the two settings
cancels. Without an incumbent (a first training, or one run with ``--no-incumbent``) the best
setting is chosen, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mktsales.bootstrap import _bootstrap_sums, _prf
from mktsales.exceptions import ParameterError

__all__ = ["Candidate", "Selection", "macro_f1_difference_se", "select"]

#: Resamples of the paired bootstrap, and its seed (fixed: training must be reproducible).
N_RESAMPLES = 1000
SEED = 0


@dataclass(frozen=True)
class Candidate:
    """One setting scored on dev.

    Attributes
    ----------
    params : mapping
        The setting (hyper-parameter name to value).
    score : float
        Its dev macro-F1.
    predictions : sequence of str
        Its predicted label for every dev row, in dev order.
    """

    params: Mapping[str, Any]
    score: float
    predictions: Sequence[str]


@dataclass(frozen=True)
class Selection:
    """What :func:`select` chose and why.

    Attributes
    ----------
    chosen : Candidate
        The setting to ship.
    best : Candidate
        The setting with the highest dev macro-F1 (ties broken by the caller's key).
    incumbent : Candidate or None
        The released setting, when it was among the candidates.
    margin : float or None
        ``best.score - incumbent.score`` (None without an incumbent).
    standard_error : float or None
        Paired-bootstrap standard error of that difference (None without an incumbent).
    """

    chosen: Candidate
    best: Candidate
    incumbent: Candidate | None
    margin: float | None
    standard_error: float | None

    @property
    def kept_incumbent(self) -> bool:
        """True when the incumbent was kept although another setting scored higher on dev."""
        return self.incumbent is not None and self.chosen is self.incumbent and self.best is not self.incumbent

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for the model card)."""
        return {
            "rule": "keep the incumbent unless the best beats it by more than one paired-bootstrap standard error",
            "best": dict(self.best.params),
            "best_dev_macro_f1": self.best.score,
            "incumbent": None if self.incumbent is None else dict(self.incumbent.params),
            "incumbent_dev_macro_f1": None if self.incumbent is None else self.incumbent.score,
            "margin": self.margin,
            "standard_error": self.standard_error,
            "kept_incumbent": self.kept_incumbent,
        }


def _macro_f1_rows(cm: np.ndarray) -> np.ndarray:
    """Macro-F1 of confusion matrices (shape (B, k, k), rows gold) over the classes present in each
    one's gold, as :func:`mktsales.metrics.macro_f1` counts it; an undefined F1 counts 0."""
    _, _, f1 = _prf(cm)
    present = cm.sum(axis=2) > 0
    return np.asarray((f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1))


def macro_f1_difference_se(
    gold: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> float:
    """Standard error of ``macro_F1(b) - macro_F1(a)`` by a paired bootstrap over the rows.

    Parameters
    ----------
    gold : sequence of str
        Gold labels.
    pred_a, pred_b : sequence of str
        Two systems' predictions for the same rows.
    n_resamples : int, default=1000
        Bootstrap resamples; resample ``i`` draws ``rng.integers(0, n, size=n)`` with
        ``rng = numpy.random.default_rng(seed)``, in order.
    seed : int, default=0
        Seed of the resampling.

    Returns
    -------
    float
        The standard deviation of the resampled differences (0.0 when the two systems agree on
        every row).

    Raises
    ------
    ParameterError
        When the sequences differ in length, are empty, or ``n_resamples`` is below 2.
    """
    n = len(gold)
    if n == 0 or len(pred_a) != n or len(pred_b) != n:
        raise ParameterError(f"need the same non-zero number of rows, got {n}, {len(pred_a)} and {len(pred_b)}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 2:
        raise ParameterError(f"n_resamples must be an int >= 2, got {n_resamples!r}")
    labels = sorted(set(gold) | set(pred_a) | set(pred_b))
    code = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    g = np.fromiter((code[x] for x in gold), dtype=np.int64, count=n)
    # One-hot confusion cells of both systems side by side: a resample's column sums are the two
    # confusion matrices of the same rows (the evaluation harness's paired bootstrap, see
    # mktsales.bootstrap).
    F = np.zeros((n, 2 * k * k))
    rows = np.arange(n)
    for side, pred in enumerate((pred_a, pred_b)):
        p = np.fromiter((code[x] for x in pred), dtype=np.int64, count=n)
        F[rows, side * k * k + g * k + p] = 1.0
    S = _bootstrap_sums(F, n_resamples, np.random.default_rng(seed))
    diffs = _macro_f1_rows(S[:, k * k :].reshape(-1, k, k)) - _macro_f1_rows(S[:, : k * k].reshape(-1, k, k))
    return float(diffs.std(ddof=1))


def select(
    candidates: Sequence[Candidate],
    gold: Sequence[str],
    *,
    incumbent: Mapping[str, Any] | None = None,
    tie_break: Callable[[Candidate], Any] = lambda c: 0,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> Selection:
    """Choose a setting: the incumbent unless the best beats it by more than one standard error.

    Parameters
    ----------
    candidates : sequence of Candidate
        Every setting tried, scored on the same dev rows.
    gold : sequence of str
        The dev rows' gold labels.
    incumbent : mapping, optional
        The released setting. It counts only when a candidate has exactly these parameters (a
        setting the grid no longer holds, or no release yet, means no incumbent).
    tie_break : callable, optional
        Extra sort key among equal dev scores (rounded to 6 decimals); the higher key wins.
    n_resamples, seed : int
        Of the paired bootstrap (see :func:`macro_f1_difference_se`).

    Returns
    -------
    Selection
    """
    if not candidates:
        raise ParameterError("no candidates to select from")
    best = max(candidates, key=lambda c: (round(c.score, 6), tie_break(c)))
    inc = None
    if incumbent is not None:
        wanted = dict(incumbent)
        inc = next((c for c in candidates if dict(c.params) == wanted), None)
    if inc is None:
        return Selection(best, best, None, None, None)
    if inc is best:
        return Selection(best, best, inc, 0.0, 0.0)
    margin = best.score - inc.score
    se = macro_f1_difference_se(gold, inc.predictions, best.predictions, n_resamples=n_resamples, seed=seed)
    chosen = best if margin > se else inc
    return Selection(chosen, best, inc, margin, se)
