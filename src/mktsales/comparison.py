"""Report comparison: two evaluation reports side by side, with confidence intervals of B - A.

:func:`load_report` reads a ``report.json``; :func:`compare_reports` compares two reports metric by
metric, with a paired bootstrap when both hold the same rows, and returns a :class:`Comparison`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from mktsales.bootstrap import (
    _bootstrap_sums,
    _estimate,
    _features,
    _int_param,
    _level,
    _Outcome,
    _outcome,
    _statistics,
)
from mktsales.evalreport import REPORT_SCHEMA, EvalReport, _clean, _write_files
from mktsales.exceptions import InputTypeError, ParameterError

__all__ = ["COMPARISON_SCHEMA", "Comparison", "compare_reports", "load_report"]


#: Identifies the layout of a comparison of two reports.
COMPARISON_SCHEMA = "mktsales.comparison/1"


def load_report(path: str | PathLike[str]) -> dict[str, Any]:
    """Read a ``report.json`` written by :meth:`EvalReport.write`.

    Raises
    ------
    ParameterError
        When the file is not JSON or not an evaluation report.
    FileNotFoundError
        When it does not exist.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{p} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{p} is not a UTF-8 text file") from None
    _check_report(data, str(p))
    out: dict[str, Any] = data
    return out


def _check_report(data: Any, name: str) -> None:
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ParameterError(f"{name} is not a mktsales evaluation report (schema {REPORT_SCHEMA!r}, found {found!r})")
    if not isinstance(data.get("rows"), list) or not data["rows"]:
        raise ParameterError(f"{name} holds no per-row predictions ('rows'), so it cannot be compared")


def _report_outcome(data: Mapping[str, Any], name: str) -> tuple[_Outcome, list[str], list[str]]:
    try:
        labels = tuple(data["settings"]["labels"])
        rows = data["rows"]
        gold = [r["gold"] for r in rows]
        pred = [r["predicted"] for r in rows]
        probs = np.array([[float(r["probabilities"][label]) for label in labels] for r in rows])
        keys = [str(r["key"]) for r in rows]
        outcome = _outcome(labels, gold, pred, probs)
    except (KeyError, TypeError, ValueError) as exc:
        raise ParameterError(
            f"{name}: malformed per-row predictions ({type(exc).__name__}: {exc}); was it written by mktsales?"
        ) from None
    macro_labels = [label for label in labels if label in set(gold)]
    return outcome, macro_labels, keys


def _point_statistics(o: _Outcome, macro_labels: Sequence[str], n_bins: int) -> dict[str, float]:
    S = _features(o, n_bins).sum(axis=0)[None, :]
    return {key: float(v[0]) for key, v in _statistics(S, len(o.gold), o.labels, macro_labels, n_bins).items()}


def _metric_keys(labels: Sequence[str]) -> list[str]:
    return ["accuracy", "macro_f1", "mvs_f1", *(f"f1.{label}" for label in labels), "ece", "brier"]


@dataclass(frozen=True)
class Comparison:
    """Two evaluation reports side by side; see :func:`compare_reports`.

    Attributes
    ----------
    data : dict
        Everything :meth:`to_dict` returns.
    """

    data: dict[str, Any] = field(repr=False)

    @property
    def paired(self) -> bool:
        """True when both reports hold the same rows and the bootstrap was paired."""
        return bool(self.data["paired"])

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as a JSON-ready dict (a copy)."""
        out: dict[str, Any] = copy.deepcopy(self.data)
        return out

    def summary(self) -> str:
        """The comparison as a terminal table."""
        from mktsales.report import format_comparison

        return format_comparison(self.data)

    def to_markdown(self) -> str:
        """The comparison as Markdown."""
        from mktsales.report import comparison_markdown

        return comparison_markdown(self.data)

    def write(self, out_dir: str | PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Write ``comparison.json`` and ``comparison.md`` into a directory (see :meth:`EvalReport.write`)."""
        payloads = {
            "comparison.json": (json.dumps(self.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode(),
            "comparison.md": self.to_markdown().encode("utf-8"),
        }
        return _write_files(Path(out_dir), payloads, overwrite)


def compare_reports(
    a: EvalReport | Mapping[str, Any] | str | PathLike[str],
    b: EvalReport | Mapping[str, Any] | str | PathLike[str],
    *,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
    n_bins: int | None = None,
) -> Comparison:
    """Compare two evaluation reports metric by metric, with confidence intervals of B - A.

    When both reports hold the same rows (same ids, texts and gold labels, in any order), the
    difference of each metric is bootstrapped on paired resamples of the rows, which is what
    judging a change of rules or model on the same sample needs. Otherwise each report is
    resampled on its own and the intervals are unpaired (wider, and only as good as the two
    samples are comparable).

    Parameters
    ----------
    a, b : EvalReport, dict or path
        Reports, their ``to_dict()`` or ``report.json`` files.
    n_bootstrap : int, default=1000
        Resamples (at least 1).
    confidence_level : float, default=0.95
        Coverage of the intervals.
    seed : int, default=0
        Seed of the bootstrap.
    n_bins : int, optional
        Bins of the calibration error (default: report A's).

    Returns
    -------
    Comparison

    Raises
    ------
    ParameterError
        When a report is malformed, or the two evaluate different label sets (binary and not).
    """
    docs = []
    names = []
    for which, rep in (("a", a), ("b", b)):
        if isinstance(rep, EvalReport):
            docs.append(rep.data)
            names.append(rep.data["source"]["name"] or f"report {which}")
        elif isinstance(rep, Mapping):
            _check_report(rep, f"report {which}")
            docs.append(dict(rep))
            names.append(rep.get("source", {}).get("name") or f"report {which}")
        elif isinstance(rep, str | PathLike):
            docs.append(load_report(rep))
            names.append(str(rep))
        else:
            raise InputTypeError(f"{which} must be an EvalReport, a dict or a path, got {type(rep).__name__}")
    da, db = docs
    if da["settings"]["labels"] != db["settings"]["labels"]:
        raise ParameterError(
            f"the reports evaluate different labels ({da['settings']['labels']} and {db['settings']['labels']}): "
            "compare binary with binary and three classes with three classes"
        )
    level = _level(confidence_level)
    n_bootstrap = _int_param(n_bootstrap, "n_bootstrap", 1)
    seed = _int_param(seed, "seed", 0)
    bins = _int_param(n_bins if n_bins is not None else da["settings"].get("n_bins", 10), "n_bins", 1)
    oa, macro_a, keys_a = _report_outcome(da, names[0])
    ob, macro_b, keys_b = _report_outcome(db, names[1])
    paired = False
    if len(set(keys_a)) == len(keys_a) and sorted(keys_a) == sorted(keys_b):
        order = {key: i for i, key in enumerate(keys_b)}
        perm = np.array([order[key] for key in keys_a])
        ob = _Outcome(ob.labels, ob.gold[perm], ob.pred[perm], ob.probs[perm])
        paired = True
    elif keys_a == keys_b:  # repeated keys, same rows in the same order
        paired = True
    point_a = _point_statistics(oa, macro_a, bins)
    point_b = _point_statistics(ob, macro_b, bins)
    rng = np.random.default_rng(seed)
    Fa, Fb = _features(oa, bins), _features(ob, bins)
    if paired:
        S = _bootstrap_sums(np.hstack([Fa, Fb]), n_bootstrap, rng)
        Sa, Sb = S[:, : Fa.shape[1]], S[:, Fa.shape[1] :]
    else:
        Sa = _bootstrap_sums(Fa, n_bootstrap, rng)
        Sb = _bootstrap_sums(Fb, n_bootstrap, rng)
    boot_a = _statistics(Sa, len(oa.gold), oa.labels, macro_a, bins)
    boot_b = _statistics(Sb, len(ob.gold), ob.labels, macro_b, bins)
    metrics = []
    for key in _metric_keys(oa.labels):
        diff_samples = boot_b[key] - boot_a[key]
        va, vb = point_a[key], point_b[key]
        diff = _estimate(vb - va if math.isfinite(va) and math.isfinite(vb) else None, diff_samples, level)
        lo, hi = diff["ci_low"], diff["ci_high"]
        metrics.append(
            {
                "metric": key,
                "lower_is_better": key in ("ece", "brier"),
                "a": _estimate(va, boot_a[key], level),
                "b": _estimate(vb, boot_b[key], level),
                "difference": diff,
                "significant": bool(lo is not None and hi is not None and (lo > 0 or hi < 0)),
            }
        )
    shared = len(set(keys_a) & set(keys_b))
    data = {
        "schema": COMPARISON_SCHEMA,
        "a": {"name": names[0], "n": len(keys_a), "classifier": da.get("classifier", {}).get("model")},
        "b": {"name": names[1], "n": len(keys_b), "classifier": db.get("classifier", {}).get("model")},
        "labels": list(oa.labels),
        "paired": paired,
        "n_shared_rows": shared,
        "n_bootstrap": n_bootstrap,
        "confidence_level": level,
        "seed": seed,
        "n_bins": bins,
        "metrics": metrics,
    }
    cleaned: dict[str, Any] = _clean(data)
    return Comparison(cleaned)
