"""The evaluation harness: how well does the classifier label *your* sample, and why.

:func:`evaluate` classifies labelled texts and returns an :class:`EvalReport` with accuracy,
macro-F1, per-class figures and calibration (each with a bootstrap confidence interval), the
confusion matrix, coverage against accuracy as the confidence threshold moves, an ablation of rules
only / model only / hybrid on the same rows, a per-rule table in the manner of a labeling-function
analysis, a per-dimension view, the most confident mistakes and the rows a person should review.
:func:`cross_validate` does the same with models trained inside stratified folds, and
:func:`compare_reports` sets two reports side by side, with a paired bootstrap when they hold the
same rows.

Bootstrap
---------
Resample ``b`` draws ``rng.integers(0, n, size=n)`` with ``rng = numpy.random.default_rng(seed)``,
in order; every statistic is computed on the resample as on the sample, and the interval is the
percentile interval of the resampled values. Point figures and macro-F1 count an undefined ratio
as 0 (scikit-learn's ``zero_division=0``); a resample in which a class's precision, recall or F1 is
undefined (the class is never predicted, or absent) is left out of that class's interval instead
(``zero_division=numpy.nan``), so an absent class does not drag the interval towards 0.
Differences (hybrid minus rules, report B minus report A) use the same resamples for both sides,
so they are paired.

Point figures come from :mod:`mktsales.metrics`; the Brier score follows
:func:`sklearn.metrics.brier_score_loss` (summed over the classes with three classes; on the
marketing probability in binary mode).

Examples
--------
>>> texts = ["Senior Brand Manager", "Realtor", "Registered nurse", "SEO specialist"]
>>> report = evaluate(texts, ["marketing", "sales", "other", "marketing"], n_bootstrap=20)
>>> report.n, report.accuracy
(4, 1.0)
>>> sorted(report.to_dict()["per_class"])
['marketing', 'other', 'sales']
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mktsales.dimensions import LABELS, Dimension
from mktsales.exceptions import InputTypeError, ParameterError
from mktsales.metrics import (
    choose_confidence_threshold,
    expected_calibration_error,
    macro_f1,
    mvs_f1,
    per_class,
    reliability_bins,
)
from mktsales.prediction import Prediction

if TYPE_CHECKING:
    from mktsales.api import Classifier
    from mktsales.rules import Rule, RuleSet

__all__ = [
    "COMPARISON_SCHEMA",
    "REPORT_FILES",
    "REPORT_SCHEMA",
    "Comparison",
    "EvalReport",
    "EvalRow",
    "RowProblem",
    "compare_reports",
    "cross_validate",
    "describe_problems",
    "evaluate",
    "find_row_problems",
    "load_report",
    "map_label",
    "normalize_label_map",
]

#: Identifies the layout of ``report.json``; bumped when a key changes meaning or disappears.
REPORT_SCHEMA = "mktsales.evaluation/1"
#: Identifies the layout of a comparison of two reports.
COMPARISON_SCHEMA = "mktsales.comparison/1"
#: The files :meth:`EvalReport.write` writes (the PNG plots only when matplotlib is installed).
REPORT_FILES: tuple[str, ...] = (
    "report.json",
    "report.md",
    "report.html",
    "predictions.csv",
    "review.csv",
    "confusion_matrix.png",
    "reliability.png",
    "coverage.png",
    "dimensions.png",
)
#: A row whose two best probabilities are closer than this goes to review.csv ("low_margin"):
#: a 60/40 split or closer between two labels is a coin-flip a person should look at.
REVIEW_MARGIN = 0.2
#: How many of the most confident mistakes the report lists.
TOP_ERRORS = 20
#: Length of the lists of most conflicting and least accurate rules.
TOP_RULES = 10
#: A rule needs this many firings on marketing/sales rows to be ranked among the least accurate.
MIN_RULE_SUPPORT = 3
#: Longest text (in characters) quoted in report.json; the full text is in predictions.csv.
QUOTE_CHARS = 300
#: Dimension-score histograms: 11 bins of width 0.2 centred on -1, -0.8, ..., 0, ..., 1, so that
#: rows where a dimension is silent (score 0) sit in the middle bin.
DIMENSION_EDGES: tuple[float, ...] = tuple(round(-1.1 + 0.2 * i, 1) for i in range(12))
#: Thresholds of the coverage curve.
COVERAGE_GRID: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(101))
#: Bootstrap resamples are drawn in chunks of at most this many row indices (memory bound).
_BOOTSTRAP_CELLS = 4_000_000
#: Reasons a row cannot be evaluated, and the switch that leaves such rows out instead.
PROBLEM_REASONS: dict[str, str] = {
    "empty_text": "skip_empty",
    "empty_label": "skip_unmapped",
    "unmapped_label": "skip_unmapped",
    "not_binary": "skip_unmapped",
}
_BINARY_LABELS: tuple[str, str] = ("marketing", "sales")
_NOT_SCORED_REASONS = frozenset({"empty", "too_short", "unsupported_language"})


# -- label maps ------------------------------------------------------------------------------------
def normalize_label_map(label_map: Mapping[str, str] | None) -> dict[str, str]:
    """Validate a label map and return it with stripped keys and lower-cased values.

    Parameters
    ----------
    label_map : mapping of str to str, optional
        Your labels to ``"marketing"``, ``"sales"`` or ``"other"``; the key ``"*"`` maps every
        label not listed (it never maps an empty label).

    Returns
    -------
    dict of str to str

    Raises
    ------
    InputTypeError
        When ``label_map`` is not a mapping.
    ParameterError
        When a key is empty, a value is not one of the three labels, or two keys differ only in
        case or surrounding spaces and map to different labels.

    Examples
    --------
    >>> normalize_label_map({"Business Development": "sales", "*": "Other"})
    {'Business Development': 'sales', '*': 'other'}
    """
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise InputTypeError(
            f"label_map must be a mapping of your labels to {list(LABELS)}, got {type(label_map).__name__}"
        )
    out: dict[str, str] = {}
    folded: dict[str, tuple[str, str]] = {}
    for key, value in label_map.items():
        if not isinstance(key, str) or not key.strip():
            raise ParameterError(f"label_map keys must be non-empty strings, got {key!r}")
        if not isinstance(value, str) or value.strip().lower() not in LABELS:
            raise ParameterError(f"label_map[{key!r}] must be one of {list(LABELS)}, got {value!r}")
        k, v = key.strip(), value.strip().lower()
        previous = folded.get(k.casefold())
        if previous is not None and previous[1] != v:
            raise ParameterError(
                f"label_map maps {previous[0]!r} to {previous[1]!r} and {key!r} to {value!r}: "
                "keys are matched ignoring case and surrounding spaces"
            )
        folded[k.casefold()] = (key, v)
        out[k] = v
    return out


def map_label(raw: str, label_map: Mapping[str, str]) -> str | None:
    """Turn one of your labels into marketing / sales / other, or None when it has no mapping.

    Parameters
    ----------
    raw : str
        The label as found in your data.
    label_map : mapping of str to str
        From :func:`normalize_label_map`.

    Returns
    -------
    str or None
        An exact key first, then a key equal ignoring case, then a label already named
        marketing / sales / other, then ``label_map["*"]``; None for an empty label or a label
        nothing maps.

    Examples
    --------
    >>> m = normalize_label_map({"Advertising": "marketing", "*": "other"})
    >>> map_label("advertising", m), map_label(" Sales ", m), map_label("HR", m), map_label("", m)
    ('marketing', 'sales', 'other', None)
    """
    value = raw.strip()
    if not value:
        return None
    if value in label_map:
        return label_map[value]
    folded = value.casefold()
    for key, label in label_map.items():
        if key != "*" and key.casefold() == folded:
            return label
    if folded in LABELS:
        return folded
    return label_map.get("*")


# -- row problems ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot be evaluated as it is.

    Attributes
    ----------
    index : int
        Position of the row in the input (0-based).
    id : str
        The row's id.
    reason : str
        ``"empty_text"``, ``"empty_label"``, ``"unmapped_label"`` (nothing maps the label) or
        ``"not_binary"`` (the label maps to other in binary mode).
    value : str
        The label as found in the data.
    """

    index: int
    id: str
    reason: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"index": self.index, "id": self.id, "reason": self.reason, "value": self.value}


def _as_optional_str(value: object, name: str, i: int) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    raise InputTypeError(f"{name}[{i}] must be str (or None for a missing value), got {type(value).__name__}")


def _as_label(value: object, i: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | np.integer | np.floating):
        return str(value)
    raise InputTypeError(f"labels[{i}] must be str (or a number, or None when missing), got {type(value).__name__}")


def find_row_problems(
    texts: Sequence[str | None],
    raw_labels: Sequence[str],
    *,
    titles: Sequence[str | None] | None = None,
    ids: Sequence[str] | None = None,
    label_map: Mapping[str, str] | None = None,
    binary: bool = False,
) -> list[RowProblem]:
    """List the rows that cannot be evaluated: empty text, empty or unmapped labels.

    Parameters
    ----------
    texts : sequence of str or None
        The texts (None for a missing value).
    raw_labels : sequence of str
        Your labels (empty string for a missing value).
    titles : sequence of str or None, optional
        Separate titles; a row with an empty text but a title is not empty.
    ids : sequence of str, optional
        Row ids (default: the index).
    label_map : mapping, optional
        From :func:`normalize_label_map`.
    binary : bool, default=False
        In binary mode a label that maps to other is a problem too (``"not_binary"``).

    Returns
    -------
    list of RowProblem
        At most one problem per row, in row order.
    """
    lm = dict(label_map or {})
    out = []
    for i, (text, raw) in enumerate(zip(texts, raw_labels, strict=True)):
        rid = ids[i] if ids is not None else str(i)
        title = titles[i] if titles is not None else None
        if not (text or "").strip() and not (title or "").strip():
            out.append(RowProblem(i, rid, "empty_text", raw))
            continue
        label = map_label(raw, lm)
        if label is None:
            out.append(RowProblem(i, rid, "empty_label" if not raw.strip() else "unmapped_label", raw))
        elif binary and label not in _BINARY_LABELS:
            out.append(RowProblem(i, rid, "not_binary", raw))
    return out


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


_PROBLEM_TEXT = {
    "empty_text": "empty text",
    "empty_label": "empty label",
    "unmapped_label": "labels nothing maps to marketing/sales/other",
    "not_binary": "binary mode takes only marketing and sales rows; these labels map to other",
}


def describe_problems(
    problems: Sequence[RowProblem],
    name_row: Callable[[int], str] | None = None,
    hints: Mapping[str, str] | None = None,
    *,
    max_rows: int = 5,
) -> str:
    """Explain row problems in a few lines, with counts and the first rows of each kind.

    Parameters
    ----------
    problems : sequence of RowProblem
        From :func:`find_row_problems`.
    name_row : callable, optional
        Names a row from its index (default ``"row <index> (id <id>)"``).
    hints : mapping, optional
        What to do about each reason (default: the :func:`evaluate` parameters).
    max_rows : int, default=5
        Rows named per kind of problem.

    Returns
    -------
    str
    """
    ids = {p.index: p.id for p in problems}

    def default_name(i: int) -> str:
        return f"row {i} (id {ids[i]!r})"

    name = name_row or default_name
    hint = (
        dict(hints)
        if hints is not None
        else {r: f"pass {s}=True to leave these rows out" for r, s in PROBLEM_REASONS.items()}
    )
    lines = [f"cannot evaluate {_rows(len(problems))}:"]
    for reason in PROBLEM_REASONS:
        group = [p for p in problems if p.reason == reason]
        if not group:
            continue
        lines.append(f"  {_PROBLEM_TEXT[reason]} ({_rows(len(group))}; {hint.get(reason, '')}):")
        if reason in ("unmapped_label", "not_binary"):
            by_value: dict[str, list[RowProblem]] = {}
            for p in group:
                by_value.setdefault(p.value, []).append(p)
            for value, items in sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                shown = ", ".join(name(p.index) for p in items[:max_rows])
                more = ", ..." if len(items) > max_rows else ""
                lines.append(f"    {value!r}: {_rows(len(items))} ({shown}{more})")
        else:
            shown = ", ".join(name(p.index) for p in group[:max_rows])
            more = f", ... and {len(group) - max_rows} more" if len(group) > max_rows else ""
            lines.append(f"    {shown}{more}")
    return "\n".join(lines)


# -- input -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Input:
    n_in: int
    indices: list[int]
    texts: list[str]
    titles: list[str | None] | None
    ids: list[str]
    raw_labels: list[str]
    gold: list[str]
    skipped: tuple[RowProblem, ...]
    label_map: dict[str, str]


def _listify(values: Any, name: str) -> list[Any]:
    if isinstance(values, str | bytes | bytearray):
        raise InputTypeError(f"{name} must be an iterable (one value per row), got a single {type(values).__name__}")
    if not isinstance(values, Iterable):
        raise InputTypeError(f"{name} must be an iterable (one value per row), got {type(values).__name__}")
    return list(values)


def _collect(
    texts: Iterable[str | None],
    labels: Iterable[Any],
    *,
    titles: Iterable[str | None] | None,
    ids: Iterable[Any] | None,
    label_map: Mapping[str, str] | None,
    binary: bool,
    skip_unmapped: bool,
    skip_empty: bool,
) -> _Input:
    text_list = [_as_optional_str(t, "texts", i) for i, t in enumerate(_listify(texts, "texts"))]
    raw = [_as_label(v, i) for i, v in enumerate(_listify(labels, "labels"))]
    n = len(text_list)
    if len(raw) != n:
        raise ParameterError(f"labels must hold one label per text: got {len(raw)} labels for {n} texts")
    title_list: list[str | None] | None = None
    if titles is not None:
        title_list = [_as_optional_str(t, "titles", i) for i, t in enumerate(_listify(titles, "titles"))]
        if len(title_list) != n:
            raise ParameterError(f"titles must hold one title (or None) per text: got {len(title_list)} for {n} texts")
    if ids is None:
        id_list = [str(i) for i in range(n)]
    else:
        id_list = [
            str(i) if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            for i, v in enumerate(_listify(ids, "ids"))
        ]
        if len(id_list) != n:
            raise ParameterError(f"ids must hold one id per text: got {len(id_list)} ids for {n} texts")
    if n == 0:
        raise ParameterError("texts is empty: there is nothing to evaluate")
    lm = normalize_label_map(label_map)
    problems = find_row_problems(text_list, raw, titles=title_list, ids=id_list, label_map=lm, binary=binary)
    allowed = {"skip_unmapped": skip_unmapped, "skip_empty": skip_empty}
    blocking = [p for p in problems if not allowed[PROBLEM_REASONS[p.reason]]]
    if blocking:
        raise ParameterError(describe_problems(blocking))
    bad = {p.index for p in problems}
    keep = [i for i in range(n) if i not in bad]
    if not keep:
        raise ParameterError(f"all {n} rows were left out ({describe_problems(problems)}); nothing to evaluate")
    gold = []
    for i in keep:
        label = map_label(raw[i], lm)
        assert label is not None  # rows without a label are problems, handled above
        gold.append(label)
    return _Input(
        n_in=n,
        indices=keep,
        texts=[text_list[i] or "" for i in keep],
        titles=None if title_list is None else [title_list[i] for i in keep],
        ids=[id_list[i] for i in keep],
        raw_labels=[raw[i] for i in keep],
        gold=gold,
        skipped=tuple(problems),
        label_map=lm,
    )


@dataclass(frozen=True)
class _Settings:
    binary: bool
    target_precision: float
    n_bootstrap: int
    confidence_level: float
    seed: int
    n_bins: int

    @property
    def labels(self) -> tuple[str, ...]:
        return _BINARY_LABELS if self.binary else LABELS

    def to_dict(self) -> dict[str, Any]:
        return {
            "binary": self.binary,
            "labels": list(self.labels),
            "target_precision": self.target_precision,
            "n_bootstrap": self.n_bootstrap,
            "confidence_level": self.confidence_level,
            "seed": self.seed,
            "n_bins": self.n_bins,
            "review_margin": REVIEW_MARGIN,
        }


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


def _settings(
    binary: Any, target_precision: Any, n_bootstrap: Any, confidence_level: Any, seed: Any, n_bins: Any
) -> _Settings:
    if not isinstance(binary, bool):
        raise ParameterError(f"binary must be True or False, got {binary!r}")
    if isinstance(target_precision, bool) or not isinstance(target_precision, int | float):
        raise ParameterError(f"target_precision must be a number in (0, 1], got {target_precision!r}")
    if not 0.0 < float(target_precision) <= 1.0:
        raise ParameterError(f"target_precision must be in (0, 1], got {target_precision!r}")
    return _Settings(
        binary=binary,
        target_precision=float(target_precision),
        n_bootstrap=_int_param(n_bootstrap, "n_bootstrap", 0),
        confidence_level=_level(confidence_level),
        seed=_int_param(seed, "seed", 0),
        n_bins=_int_param(n_bins, "n_bins", 1),
    )


# -- rows ------------------------------------------------------------------------------------------
def _pole_probabilities(scores: Mapping[str, float], binary: bool) -> dict[str, float]:
    if not binary:
        return {label: float(scores[label]) for label in LABELS}
    m, s = float(scores["marketing"]), float(scores["sales"])
    if m + s <= 0.0:
        return {"marketing": 0.5, "sales": 0.5}
    return {"marketing": m / (m + s), "sales": s / (m + s)}


def _binary_label(scores: Mapping[str, float]) -> str:
    # ties (including no evidence at all) go to marketing, as in mktsales.metrics.mvs_f1
    return "marketing" if scores["marketing"] >= scores["sales"] else "sales"


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One evaluated row.

    Attributes
    ----------
    index : int
        Position in the input passed to :func:`evaluate` (0-based).
    id : str
        The row's id.
    text, title : str, str or None
        What was classified.
    raw_label, gold : str
        The label as found in the data, and after the label map.
    prediction : Prediction
        What the classifier returned.
    predicted : str
        The label evaluated: the prediction's label, or in binary mode the higher of marketing
        and sales (ties go to marketing).
    probabilities : dict of str to float
        The probabilities evaluated: the prediction's scores, or in binary mode marketing and
        sales renormalised to sum to 1.
    rules_predicted, model_predicted : str
        The same for the rules-only and model-only verdicts.
    fold : int or None
        The cross-validation fold that predicted the row (1-based), None outside cross-validation.
    """

    index: int
    id: str
    text: str
    title: str | None
    raw_label: str
    gold: str
    prediction: Prediction
    predicted: str
    probabilities: dict[str, float]
    rules_predicted: str
    model_predicted: str
    fold: int | None = None

    @property
    def correct(self) -> bool:
        """True when the evaluated label equals the gold label."""
        return self.predicted == self.gold

    @property
    def confidence(self) -> float:
        """The top evaluated probability."""
        return max(self.probabilities.values())

    @property
    def margin(self) -> float:
        """Top evaluated probability minus the second."""
        top = sorted(self.probabilities.values(), reverse=True)
        return top[0] - top[1]

    @property
    def scored(self) -> bool:
        """False when the classifier did not score the text (empty, too short, foreign, unknown words)."""
        p = self.prediction
        if p.reason in _NOT_SCORED_REASONS:
            return False
        return not (p.reason == "no_evidence" and p.scores["other"] == 1.0)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Ids of the rules that matched, each once, in text order."""
        return tuple(dict.fromkeys(e.rule_id for e in self.prediction.evidence))

    @property
    def key(self) -> str:
        """A short hash of id, title, text and gold label, to pair rows across reports."""
        blob = json.dumps([self.id, self.title, self.text, self.gold], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    @property
    def review(self) -> tuple[str, ...]:
        """Why a person should check the row: ``confident_mistake``, ``conflict``, ``low_margin``."""
        out = []
        if not self.correct and not self.prediction.uncertain:
            out.append("confident_mistake")
        if self.prediction.agreement == "conflict":
            out.append("conflict")
        if self.margin < REVIEW_MARGIN:
            out.append("low_margin")
        return tuple(out)


def _make_row(inp: _Input, k: int, p: Prediction, binary: bool, fold: int | None) -> EvalRow:
    if binary:
        predicted, rules_pred, model_pred = (
            _binary_label(p.scores),
            _binary_label(p.rules.scores),
            _binary_label(p.model.scores),
        )
    else:
        predicted, rules_pred, model_pred = p.label, p.rules.label, p.model.label
    return EvalRow(
        index=inp.indices[k],
        id=inp.ids[k],
        text=inp.texts[k],
        title=None if inp.titles is None else inp.titles[k],
        raw_label=inp.raw_labels[k],
        gold=inp.gold[k],
        prediction=p,
        predicted=predicted,
        probabilities=_pole_probabilities(p.scores, binary),
        rules_predicted=rules_pred,
        model_predicted=model_pred,
        fold=fold,
    )


#: Columns of predictions.csv, in order.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "index",
    "id",
    "fold",
    "raw_label",
    "gold",
    "predicted",
    "correct",
    "confidence",
    "margin",
    "label",
    "p_marketing",
    "p_sales",
    "p_other",
    "rules_label",
    "rules_p_marketing",
    "rules_p_sales",
    "rules_p_other",
    "model_label",
    "model_p_marketing",
    "model_p_sales",
    "model_p_other",
    "uncertain",
    "reason",
    "scored",
    "agreement",
    "review",
    "rule_ids",
    *(f"dim_{d.value}" for d in Dimension),
    "title",
    "text",
)
#: Columns of review.csv, in order.
REVIEW_COLUMNS: tuple[str, ...] = (
    "index",
    "id",
    "review",
    "gold",
    "predicted",
    "confidence",
    "margin",
    "rules_label",
    "model_label",
    "agreement",
    "uncertain",
    "reason",
    "evidence",
    "title",
    "text",
)


def _prediction_record(row: EvalRow) -> dict[str, Any]:
    p = row.prediction
    rec: dict[str, Any] = {
        "index": row.index,
        "id": row.id,
        "fold": "" if row.fold is None else row.fold,
        "raw_label": row.raw_label,
        "gold": row.gold,
        "predicted": row.predicted,
        "correct": row.correct,
        "confidence": repr(row.confidence),
        "margin": repr(row.margin),
        "label": p.label,
    }
    for prefix, scores in (("p_", p.scores), ("rules_p_", p.rules.scores), ("model_p_", p.model.scores)):
        if prefix == "rules_p_":
            rec["rules_label"] = row.rules_predicted
        elif prefix == "model_p_":
            rec["model_label"] = row.model_predicted
        for label in LABELS:
            rec[f"{prefix}{label}"] = repr(float(scores[label]))
    rec.update(
        {
            "uncertain": p.uncertain,
            "reason": p.reason or "",
            "scored": row.scored,
            "agreement": p.agreement,
            "review": " ".join(row.review),
            "rule_ids": " ".join(row.rule_ids),
        }
    )
    for d in p.dimensions:
        rec[f"dim_{d.dimension}"] = repr(float(d.score))
    rec["title"] = "" if row.title is None else row.title
    rec["text"] = row.text
    return {c: rec[c] for c in PREDICTION_COLUMNS}


def _evidence_summary(p: Prediction) -> str:
    seen = dict.fromkeys(f"{e.rule_id}({e.pole}):{e.text}" for e in p.evidence)
    return "; ".join(seen)


def _review_record(row: EvalRow) -> dict[str, Any]:
    p = row.prediction
    return {
        "index": row.index,
        "id": row.id,
        "review": " ".join(row.review),
        "gold": row.gold,
        "predicted": row.predicted,
        "confidence": f"{row.confidence:.4f}",
        "margin": f"{row.margin:.4f}",
        "rules_label": row.rules_predicted,
        "model_label": row.model_predicted,
        "agreement": p.agreement,
        "uncertain": p.uncertain,
        "reason": p.reason or "",
        "evidence": _evidence_summary(p),
        "title": "" if row.title is None else row.title,
        "text": row.text,
    }


_REVIEW_ORDER = {"confident_mistake": 0, "conflict": 1, "low_margin": 2}


def review_rows(rows: Sequence[EvalRow]) -> list[EvalRow]:
    """The rows a person should check, most urgent first.

    Confident mistakes (wrong and not flagged uncertain: the gold label or the rules may be wrong)
    come first, most confident first; then rules/model conflicts; then low margins.
    """
    flagged = [r for r in rows if r.review]
    return sorted(flagged, key=lambda r: (_REVIEW_ORDER[r.review[0]], -r.confidence, r.index))


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


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


# -- analysis --------------------------------------------------------------------------------------
def _source_arrays(rows: Sequence[EvalRow], source: str, binary: bool) -> tuple[list[str], np.ndarray]:
    if source == "hybrid":
        preds = [r.predicted for r in rows]
        probs = [r.probabilities for r in rows]
    else:
        preds = [r.rules_predicted if source == "rules" else r.model_predicted for r in rows]
        verdicts = [r.prediction.rules if source == "rules" else r.prediction.model for r in rows]
        probs = [_pole_probabilities(v.scores, binary) for v in verdicts]
    labels = _BINARY_LABELS if binary else LABELS
    return preds, np.array([[p[label] for label in labels] for p in probs])


def _three_columns(probs: np.ndarray, binary: bool) -> np.ndarray:
    if not binary:
        return probs
    return np.column_stack([probs, np.zeros(len(probs))])


def _analyse(
    rows: tuple[EvalRow, ...],
    inp: _Input,
    settings: _Settings,
    rules: Sequence[Rule],
    classifier_info: dict[str, Any],
    source: str,
) -> dict[str, Any]:
    """Compute every section of ``report.json`` from the evaluated rows."""
    labels = settings.labels
    binary = settings.binary
    level = settings.confidence_level
    n = len(rows)
    gold = [r.gold for r in rows]
    macro_labels = [label for label in labels if label in set(gold)]

    outcomes: dict[str, _Outcome] = {}
    preds: dict[str, list[str]] = {}
    for src in ("hybrid", "rules", "model"):
        p, probs = _source_arrays(rows, src, binary)
        preds[src] = p
        outcomes[src] = _outcome(labels, gold, p, probs)
    width = _width(len(labels), settings.n_bins)
    F = np.hstack([_features(outcomes[src], settings.n_bins) for src in ("hybrid", "rules", "model")])
    boot: dict[str, dict[str, np.ndarray]] = {}
    if settings.n_bootstrap:
        S = _bootstrap_sums(F, settings.n_bootstrap, np.random.default_rng(settings.seed))
        for j, src in enumerate(("hybrid", "rules", "model")):
            boot[src] = _statistics(S[:, j * width : (j + 1) * width], n, labels, macro_labels, settings.n_bins)

    def samples(src: str, key: str) -> np.ndarray | None:
        return boot[src][key] if boot else None

    hybrid = outcomes["hybrid"]
    conf = hybrid.probs.max(axis=1)
    correct = hybrid.gold == hybrid.pred
    pred_h = preds["hybrid"]

    # headline and per-class figures (point values from mktsales.metrics)
    pc = per_class(gold, pred_h, labels)
    accuracy = float(correct.mean())
    macro = macro_f1(gold, pred_h, macro_labels)
    mvs = mvs_f1(gold, _three_columns(hybrid.probs, binary))
    predicted_counts = Counter(pred_h)
    per_class_out = {
        label: {
            "precision": _estimate(pc[label]["precision"], samples("hybrid", f"precision.{label}"), level),
            "recall": _estimate(pc[label]["recall"], samples("hybrid", f"recall.{label}"), level),
            "f1": _estimate(pc[label]["f1"], samples("hybrid", f"f1.{label}"), level),
            "support": int(pc[label]["support"]),
            "predicted": int(predicted_counts.get(label, 0)),
        }
        for label in labels
    }
    k = len(labels)
    cm = np.bincount(hybrid.gold * k + hybrid.pred, minlength=k * k).reshape(k, k)

    # calibration
    ece = expected_calibration_error(conf, correct.astype(np.float64), settings.n_bins)
    calibration = {
        "ece": _estimate(ece, samples("hybrid", "ece"), level),
        "brier": _estimate(brier_score(labels, gold, hybrid.probs), samples("hybrid", "brier"), level),
        "n_bins": settings.n_bins,
        "reliability": reliability_bins(conf, correct.astype(np.float64), settings.n_bins),
    }

    ablation = _ablation_section(rows, outcomes, preds, boot, macro_labels, binary, level)
    data: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "source": {
            "name": source,
            "rows_in": inp.n_in,
            "rows_evaluated": n,
            "rows_skipped": len(inp.skipped),
            "label_map": dict(inp.label_map),
        },
        "classifier": classifier_info,
        "settings": settings.to_dict(),
        "n": n,
        "class_counts": {label: int(sum(g == label for g in gold)) for label in labels},
        "accuracy": _estimate(accuracy, samples("hybrid", "accuracy"), level),
        "macro_f1": _estimate(macro, samples("hybrid", "macro_f1"), level),
        "macro_f1_labels": macro_labels,
        "mvs_f1": _estimate(mvs, samples("hybrid", "mvs_f1"), level),
        "per_class": per_class_out,
        "confusion_matrix": {"labels": list(labels), "matrix": cm.tolist()},
        "calibration": calibration,
        "uncertain": _uncertain_section(rows, correct),
        "coverage": _coverage_section(rows, conf, correct, settings.target_precision),
        "ablation": ablation,
        "rules": _rule_analysis(rows, rules),
        "dimensions": _dimension_analysis(rows, labels),
        "errors": _error_analysis(rows),
        "review": _review_summary(rows),
        "skipped": {
            "n": len(inp.skipped),
            "by_reason": dict(Counter(p.reason for p in inp.skipped)),
            "rows": [p.to_dict() for p in inp.skipped],
        },
        "rows": [
            {
                "index": r.index,
                "id": r.id,
                "key": r.key,
                "gold": r.gold,
                "predicted": r.predicted,
                "probabilities": dict(r.probabilities),
                "fold": r.fold,
            }
            for r in rows
        ],
    }
    cleaned: dict[str, Any] = _clean(data)
    return cleaned


def _uncertain_section(rows: Sequence[EvalRow], correct: np.ndarray) -> dict[str, Any]:
    """The classifier's own ``uncertain`` flag: how often, why, and how accurate either side is."""
    uncertain = np.array([r.prediction.uncertain for r in rows])
    reasons = Counter(r.prediction.reason for r in rows if r.prediction.reason)
    return {
        "n_uncertain": int(uncertain.sum()),
        "rate": float(uncertain.mean()),
        "coverage": float(1.0 - uncertain.mean()),
        "accuracy_certain": _mean(correct[~uncertain]),
        "accuracy_uncertain": _mean(correct[uncertain]),
        "by_reason": {reason: reasons[reason] for reason in sorted(reasons)},
        "n_not_scored": sum(not r.scored for r in rows),
    }


def _coverage_section(
    rows: Sequence[EvalRow], conf: np.ndarray, correct: np.ndarray, target_precision: float
) -> dict[str, Any]:
    """Coverage and accuracy as a confidence threshold moves, and the threshold for a precision."""
    scored = np.array([r.scored for r in rows])
    curve_conf = np.where(scored, conf, -1.0)  # rows the classifier could not score are never kept
    points = []
    for th in COVERAGE_GRID:
        keep = curve_conf >= th
        points.append(
            {"threshold": th, "coverage": float(keep.mean()), "accuracy": _mean(correct[keep]), "n": int(keep.sum())}
        )
    th, prec, cov = choose_confidence_threshold(curve_conf, correct.astype(np.float64), target_precision)
    return {
        "points": points,
        "target": {
            "target_precision": target_precision,
            "threshold": th,
            "precision": prec,
            "coverage": cov,
            "reached": bool(prec >= target_precision and cov > 0.0),
        },
    }


def _ablation_section(
    rows: Sequence[EvalRow],
    outcomes: Mapping[str, _Outcome],
    preds: Mapping[str, list[str]],
    boot: Mapping[str, Mapping[str, np.ndarray]],
    macro_labels: Sequence[str],
    binary: bool,
    level: float,
) -> dict[str, Any]:
    """The same rows through rules only, model only and the hybrid, with paired differences."""
    gold = [r.gold for r in rows]

    def samples(src: str, key: str) -> np.ndarray | None:
        return boot[src][key] if boot else None

    sources: dict[str, Any] = {}
    for src in ("hybrid", "rules", "model"):
        o = outcomes[src]
        sources[src] = {
            "accuracy": _estimate(float((o.gold == o.pred).mean()), samples(src, "accuracy"), level),
            "macro_f1": _estimate(macro_f1(gold, preds[src], macro_labels), samples(src, "macro_f1"), level),
            "mvs_f1": _estimate(mvs_f1(gold, _three_columns(o.probs, binary)), samples(src, "mvs_f1"), level),
            "ties": int(np.sum(o.probs[:, 0] == o.probs[:, 1])),
        }
    differences: dict[str, Any] = {}
    for other in ("rules", "model"):
        diff = {}
        for key in ("accuracy", "macro_f1", "mvs_f1"):
            a, b = sources["hybrid"][key]["value"], sources[other][key]["value"]
            value = None if a is None or b is None else a - b
            s = boot["hybrid"][key] - boot[other][key] if boot else None
            diff[key] = _estimate(value, s, level)
        differences[f"hybrid_minus_{other}"] = diff
    correct = outcomes["hybrid"].gold == outcomes["hybrid"].pred
    kinds = np.array([r.prediction.agreement for r in rows])
    agreement = {}
    for kind in ("agree", "differ", "conflict", "rules_silent"):
        mask = kinds == kind
        agreement[kind] = {"n": int(mask.sum()), "accuracy": _mean(correct[mask])}
    return {"sources": sources, "differences": differences, "agreement": agreement}


def _rule_analysis(rows: Sequence[EvalRow], rules: Sequence[Rule]) -> dict[str, Any]:
    info: dict[str, dict[str, Any]] = {
        r.id: {"dimension": r.dimension.value, "pole": r.pole.value, "weight": float(r.weight)} for r in rules
    }
    for row in rows:  # rules the classifier matched but that are not in ``rules``
        for e in row.prediction.evidence:
            info.setdefault(e.rule_id, {"dimension": e.dimension, "pole": e.pole, "weight": float(e.weight)})
    stats = {rid: Counter[str]() for rid in info}
    rows_with_evidence = rows_with_conflict = 0
    for row in rows:
        ids = row.rule_ids
        if not ids:
            continue
        rows_with_evidence += 1
        poles = {info[rid]["pole"] for rid in ids}
        if len(poles) > 1:
            rows_with_conflict += 1
        for rid in ids:
            c = stats[rid]
            c["fires"] += 1
            if len(ids) > 1:
                c["overlaps"] += 1
            if len(poles) > 1:
                c["conflicts"] += 1
            if row.gold in _BINARY_LABELS:
                c["fires_marketing_sales"] += 1
                if row.gold == info[rid]["pole"]:
                    c["agree"] += 1
            else:
                c["fires_other"] += 1
    n = len(rows)
    table = []
    for rid, meta in info.items():
        c = stats[rid]
        fires, ms = c["fires"], c["fires_marketing_sales"]
        table.append(
            {
                "rule_id": rid,
                **meta,
                "fires": fires,
                "coverage": fires / n,
                "overlaps": c["overlaps"],
                "conflicts": c["conflicts"],
                "conflict_rate": c["conflicts"] / fires if fires else None,
                "fires_marketing_sales": ms,
                "agree": c["agree"],
                "accuracy": c["agree"] / ms if ms else None,
                "fires_other": c["fires_other"],
            }
        )
    table.sort(key=lambda t: (-t["fires"], t["rule_id"]))
    conflicting = sorted((t for t in table if t["conflicts"]), key=lambda t: (-t["conflicts"], t["rule_id"]))
    supported = [t for t in table if t["fires_marketing_sales"] >= MIN_RULE_SUPPORT]
    least = sorted(supported, key=lambda t: (t["accuracy"], -t["fires_marketing_sales"], t["rule_id"]))
    never = sorted(t["rule_id"] for t in table if not t["fires"])
    return {
        "n_rules": len(table),
        "n_fired": len(table) - len(never),
        "rows_with_evidence": rows_with_evidence,
        "rows_with_conflict": rows_with_conflict,
        "min_support": MIN_RULE_SUPPORT,
        "never_fired": never,
        "most_conflicting": [t["rule_id"] for t in conflicting[:TOP_RULES]],
        "least_accurate": [t["rule_id"] for t in least[:TOP_RULES]],
        "table": table,
    }


def _dimension_analysis(rows: Sequence[EvalRow], labels: Sequence[str]) -> list[dict[str, Any]]:
    gold = np.array([r.gold for r in rows], dtype=object)
    edges = np.array(DIMENSION_EDGES)
    out = []
    for j, dim in enumerate(Dimension):
        scores = np.array([r.prediction.dimensions[j].score for r in rows], dtype=np.float64)
        leans = scores != 0.0
        ms = (gold == "marketing") | (gold == "sales")
        lean_ms = ms & leans
        lean_right = np.where(scores > 0, "marketing", "sales") == gold
        out.append(
            {
                "dimension": dim.value,
                "mean_score": {label: _mean(scores[gold == label]) for label in labels},
                "lean_rate": {label: _mean(leans[gold == label].astype(np.float64)) for label in labels},
                "n_lean_marketing_sales": int(lean_ms.sum()),
                "lean_accuracy": _mean(lean_right[lean_ms].astype(np.float64)),
                "auc_marketing_vs_sales": _auc(scores[gold == "marketing"], scores[gold == "sales"]),
                "histogram": {
                    "edges": list(DIMENSION_EDGES),
                    "counts": {label: np.histogram(scores[gold == label], bins=edges)[0].tolist() for label in labels},
                },
            }
        )
    return out


def _error_analysis(rows: Sequence[EvalRow]) -> dict[str, Any]:
    # rows the classifier could not score carry placeholder probabilities: they are counted, not ranked
    mistakes = [r for r in rows if not r.correct]
    ranked = sorted((r for r in mistakes if r.scored), key=lambda r: (-r.confidence, r.index))
    listed = []
    for r in ranked[:TOP_ERRORS]:
        p = r.prediction
        evidence = []
        seen = set()
        for e in p.evidence:
            if (e.rule_id, e.text) in seen:
                continue
            seen.add((e.rule_id, e.text))
            evidence.append(
                {"rule_id": e.rule_id, "dimension": e.dimension, "pole": e.pole, "text": e.text, "field": e.field}
            )
        listed.append(
            {
                "index": r.index,
                "id": r.id,
                "gold": r.gold,
                "predicted": r.predicted,
                "confidence": r.confidence,
                "rules": r.rules_predicted,
                "model": r.model_predicted,
                "agreement": p.agreement,
                "uncertain": p.uncertain,
                "evidence": evidence[:10],
                "title": r.title,
                "text": _quote(r.text),
            }
        )
    return {
        "n_errors": len(mistakes),
        "n_errors_not_scored": len(mistakes) - len(ranked),
        "most_confident": listed,
    }


def _review_summary(rows: Sequence[EvalRow]) -> dict[str, Any]:
    flagged = review_rows(rows)
    counts = Counter(reason for r in flagged for reason in r.review)
    return {
        "n": len(flagged),
        "margin_threshold": REVIEW_MARGIN,
        "by_reason": {reason: counts.get(reason, 0) for reason in _REVIEW_ORDER},
    }


def _clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


# -- the report ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate` or :func:`cross_validate`.

    Attributes
    ----------
    rows : tuple of EvalRow
        Every evaluated row, in input order.
    skipped : tuple of RowProblem
        Rows left out (only with ``skip_unmapped`` or ``skip_empty``).
    data : dict
        Everything :meth:`to_dict` returns (use :meth:`to_dict`: it gives a copy).
    """

    rows: tuple[EvalRow, ...]
    skipped: tuple[RowProblem, ...]
    data: dict[str, Any] = field(repr=False, compare=False)

    @property
    def n(self) -> int:
        """Rows evaluated."""
        return len(self.rows)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels evaluated: the three labels, or marketing and sales in binary mode."""
        return tuple(self.data["settings"]["labels"])

    def _value(self, *keys: str) -> float:
        node: Any = self.data
        for k in keys:
            node = node[k]
        value = node["value"]
        return float("nan") if value is None else float(value)

    @property
    def accuracy(self) -> float:
        """Share of rows whose label equals the gold label."""
        return self._value("accuracy")

    @property
    def macro_f1(self) -> float:
        """Unweighted mean F1 over the gold labels present."""
        return self._value("macro_f1")

    @property
    def mvs_f1(self) -> float:
        """Marketing-vs-sales macro-F1 on the marketing and sales rows (see :mod:`mktsales.metrics`)."""
        return self._value("mvs_f1")

    @property
    def ece(self) -> float:
        """Expected calibration error of the top label."""
        return self._value("calibration", "ece")

    @property
    def brier(self) -> float:
        """Brier score."""
        return self._value("calibration", "brier")

    def to_dict(self) -> dict[str, Any]:
        """Return ``report.json`` as a dict (a copy; its keys are stable, see :data:`REPORT_SCHEMA`)."""
        out: dict[str, Any] = copy.deepcopy(self.data)
        return out

    def summary(self) -> str:
        """The terminal summary table."""
        from mktsales.report import format_summary

        return format_summary(self.data)

    def to_markdown(self) -> str:
        """The report as Markdown (images referred to by their file names)."""
        from mktsales.report import to_markdown

        return to_markdown(self.data)

    def to_html(self) -> str:
        """The report as one self-contained HTML page (plots embedded as data URIs)."""
        from mktsales.report import render_plots, to_html

        return to_html(self.data, render_plots(self.data))

    def review_rows(self) -> list[EvalRow]:
        """Rows a person should check, most urgent first (what ``review.csv`` holds)."""
        return review_rows(self.rows)

    def write(self, out_dir: str | PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Write the report files into a directory.

        Parameters
        ----------
        out_dir : str or path-like
            Created when missing.
        overwrite : bool, default=False
            Replace report files already there; otherwise they are left untouched and the call
            fails. Other files in the directory are never touched.

        Returns
        -------
        list of Path
            The files written: ``report.json``, ``report.md``, ``report.html``,
            ``predictions.csv``, ``review.csv`` and (with matplotlib) the PNG plots.

        Raises
        ------
        ParameterError
            When ``out_dir`` is a file, or holds report files and ``overwrite`` is False.
        """
        from mktsales.report import render_plots, to_html, to_markdown

        out = Path(out_dir)
        _check_out_dir(out, REPORT_FILES, overwrite)
        images = render_plots(self.data)
        files: dict[str, bytes] = {
            "report.json": (json.dumps(self.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode(),
            "report.md": to_markdown(self.data, images=list(images)).encode("utf-8"),
            "report.html": to_html(self.data, images).encode("utf-8"),
            "predictions.csv": _csv_bytes(PREDICTION_COLUMNS, [_prediction_record(r) for r in self.rows]),
            "review.csv": _csv_bytes(REVIEW_COLUMNS, [_review_record(r) for r in self.review_rows()]),
            **images,
        }
        return _write_files(out, files, overwrite)


def _check_out_dir(out: Path, names: Iterable[str], overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ParameterError(f"out_dir must be a directory, got the file {out}")
    existing = [name for name in names if (out / name).exists()]
    if existing and not overwrite:
        raise ParameterError(
            f"out_dir {out} already holds {', '.join(existing)}; pass overwrite=True (CLI: --force) "
            "to replace them, or choose another directory"
        )


def _write_files(out: Path, files: Mapping[str, bytes], overwrite: bool) -> list[Path]:
    _check_out_dir(out, files, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    return [_write_atomic(out / name, payload) for name, payload in files.items()]


def _csv_bytes(columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow(rec)
    return buf.getvalue().encode("utf-8")


def _write_atomic(path: Path, payload: bytes) -> Path:
    """Write to a temporary name beside ``path`` and rename, so a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _classifier_info(clf: Classifier) -> dict[str, Any]:
    info = clf.info()
    card = info.pop("model_card", {}) or {}
    info["model_params"] = card.get("params")
    return info


# -- entry points ----------------------------------------------------------------------------------
def evaluate(
    texts: Iterable[str | None],
    labels: Iterable[str],
    *,
    classifier: Classifier | None = None,
    titles: Iterable[str | None] | None = None,
    ids: Iterable[Any] | None = None,
    label_map: Mapping[str, str] | None = None,
    binary: bool = False,
    skip_unmapped: bool = False,
    skip_empty: bool = False,
    target_precision: float = 0.95,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
    n_bins: int = 10,
    n_process: int = 1,
    batch_size: int = 256,
    source: str = "",
) -> EvalReport:
    """Classify labelled texts and measure how well the labels agree, with evidence.

    Parameters
    ----------
    texts : iterable of str
        The texts (None or NaN marks a missing text).
    labels : iterable of str
        Gold labels: marketing / sales / other, or your own labels with ``label_map``.
    classifier : Classifier, optional
        Defaults to the shipped model and rules.
    titles : iterable of str or None, optional
        A separate job title per text.
    ids : iterable, optional
        Row ids for the report (default: the index).
    label_map : mapping of str to str, optional
        Your labels to marketing / sales / other; ``"*"`` maps any other label (see
        :func:`map_label`).
    binary : bool, default=False
        Marketing-vs-sales only: the rows must be marketing or sales, and the label evaluated is
        whichever of the two the classifier scores higher.
    skip_unmapped : bool, default=False
        Leave out rows whose label is empty or maps to nothing (or to other in binary mode),
        listing them in the report, instead of failing.
    skip_empty : bool, default=False
        Leave out rows with an empty text (and no title), listing them, instead of failing.
    target_precision : float, default=0.95
        The report gives the confidence threshold whose kept rows reach this precision.
    n_bootstrap : int, default=1000
        Bootstrap resamples for the confidence intervals (0: no intervals).
    confidence_level : float, default=0.95
        Coverage of the intervals.
    seed : int, default=0
        Seed of the bootstrap.
    n_bins : int, default=10
        Bins of the reliability diagram and of the expected calibration error.
    n_process, batch_size : int
        Passed to :meth:`Classifier.classify_many`.
    source : str, default=""
        A name for the data in the report (the CLI passes the file name).

    Returns
    -------
    EvalReport

    Raises
    ------
    InputTypeError
        When a text, title or label has the wrong type.
    ParameterError
        When the lengths differ, there are no rows, a setting is out of range, or rows have empty
        text or unmapped labels (the message names them) and are not to be skipped.
    """
    from mktsales.api import _resolve

    settings = _settings(binary, target_precision, n_bootstrap, confidence_level, seed, n_bins)
    inp = _collect(
        texts,
        labels,
        titles=titles,
        ids=ids,
        label_map=label_map,
        binary=binary,
        skip_unmapped=skip_unmapped,
        skip_empty=skip_empty,
    )
    clf = _resolve(classifier)
    preds = list(clf.classify_many(inp.texts, titles=inp.titles, n_process=n_process, batch_size=batch_size))
    rows = tuple(_make_row(inp, k, p, binary, None) for k, p in enumerate(preds))
    data = _analyse(rows, inp, settings, list(clf.rules), _classifier_info(clf), source)
    return EvalReport(rows=rows, skipped=inp.skipped, data=data)


def cross_validate(
    texts: Iterable[str | None],
    labels: Iterable[str],
    *,
    k: int = 5,
    titles: Iterable[str | None] | None = None,
    ids: Iterable[Any] | None = None,
    label_map: Mapping[str, str] | None = None,
    binary: bool = False,
    skip_unmapped: bool = False,
    skip_empty: bool = False,
    params: Mapping[str, Any] | None = None,
    rules: RuleSet | None = None,
    thresholds: Mapping[str, float] | None = None,
    target_precision: float = 0.95,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
    n_bins: int = 10,
    source: str = "",
    log: Callable[[str], None] | None = None,
) -> EvalReport:
    """Train and test inside ``k`` stratified folds and report on the pooled out-of-fold predictions.

    Each fold fits :class:`mktsales.model.MktSalesClassifier` on the other folds with the
    hyper-parameters the shipped model was trained with (``default_model_card()["chosen"]``,
    updated by ``params``) and classifies its own rows as :func:`evaluate` does. Models learn
    from the texts; titles, when given, are used when classifying, as with the shipped model.

    Parameters
    ----------
    texts, labels, titles, ids, label_map, binary, skip_unmapped, skip_empty
        As in :func:`evaluate`.
    k : int, default=5
        Folds; every label needs at least ``k`` rows.
    params : mapping, optional
        Hyper-parameters of :class:`~mktsales.model.MktSalesClassifier` that replace the shipped
        model's.
    rules : RuleSet, optional
        Rules of the models (default: the shipped rules).
    thresholds : mapping, optional
        Decision thresholds of the fold classifiers (default: the shipped model's).
    target_precision, n_bootstrap, confidence_level, seed, n_bins, source
        As in :func:`evaluate`; ``seed`` also seeds the folds and the models.
    log : callable, optional
        Called with one progress line per fold.

    Returns
    -------
    EvalReport
        Its ``rows`` carry the fold that predicted them.
    """
    from sklearn.model_selection import StratifiedKFold

    from mktsales.api import DEFAULT_THRESHOLDS, Classifier
    from mktsales.model import MktSalesClassifier
    from mktsales.persistence import default_model_card
    from mktsales.rules import RuleSet, load_rules

    settings = _settings(binary, target_precision, n_bootstrap, confidence_level, seed, n_bins)
    k = _int_param(k, "k", 2)
    if rules is not None and not isinstance(rules, RuleSet):
        raise InputTypeError(f"rules must be a RuleSet, got {type(rules).__name__}")
    inp = _collect(
        texts,
        labels,
        titles=titles,
        ids=ids,
        label_map=label_map,
        binary=binary,
        skip_unmapped=skip_unmapped,
        skip_empty=skip_empty,
    )
    counts = Counter(inp.gold)
    if len(counts) < 2:
        raise ParameterError(f"cross-validation needs at least two labels, got only {sorted(counts)}")
    smallest = min(counts.items(), key=lambda kv: kv[1])
    if smallest[1] < k:
        raise ParameterError(f"k={k} folds need at least {k} rows of every label; {smallest[0]!r} has {smallest[1]}")
    try:
        card = default_model_card()
    except (OSError, ValueError):  # a copy without its model card: the estimator's own defaults
        card = {}
    hyper = dict(card.get("chosen") or {})
    known = set(MktSalesClassifier().get_params())
    unknown = sorted(set(params or {}) - known)
    if unknown:
        raise ParameterError(f"params has unknown key(s) {unknown}; MktSalesClassifier takes {sorted(known)}")
    hyper.update(params or {})
    hyper.setdefault("random_state", seed)
    th = {key: float(v) for key, v in (card.get("thresholds") or {}).items() if key in DEFAULT_THRESHOLDS}
    th.update(thresholds or {})
    ruleset = rules if rules is not None else load_rules()
    say = log or (lambda _msg: None)
    gold = np.array(inp.gold, dtype=object)
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    preds: list[Prediction | None] = [None] * len(gold)
    fold_of = [0] * len(gold)
    sizes = []
    for f, (train, test) in enumerate(folds.split(np.zeros(len(gold)), gold), start=1):
        est = MktSalesClassifier(rules=ruleset, **hyper).fit([inp.texts[i] for i in train], gold[train])
        clf = Classifier(est.scorer_, thresholds=th, name=f"cv-fold-{f}")
        test_titles = None if inp.titles is None else [inp.titles[i] for i in test]
        for i, p in zip(test, clf.classify_many([inp.texts[i] for i in test], titles=test_titles), strict=True):
            preds[i] = p
            fold_of[i] = f
        sizes.append(len(test))
        say(f"fold {f}/{k}: trained on {len(train)} rows, tested on {len(test)}")
    rows = tuple(_make_row(inp, i, p, binary, fold_of[i]) for i, p in enumerate(preds) if p is not None)
    from mktsales import __version__

    info = {
        "mktsales_version": __version__,
        "model": f"cross-validation ({k} folds)",
        "model_sha256": None,
        "rules": ruleset.name,
        "rules_count": len(ruleset),
        "rules_checksum": ruleset.checksum,
        "thresholds": {**DEFAULT_THRESHOLDS, **th},
        "model_params": hyper,
        "cross_validation": {"folds": k, "seed": seed, "fold_sizes": sizes},
    }
    data = _analyse(rows, inp, settings, list(ruleset), info, source)
    return EvalReport(rows=rows, skipped=inp.skipped, data=data)


# -- comparing reports -----------------------------------------------------------------------------
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
