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

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mktsales.bootstrap import (
    _auc,
    _bootstrap_sums,
    _estimate,
    _features,
    _int_param,
    _level,
    _Outcome,
    _outcome,
    _statistics,
    _width,
    brier_score,
)
from mktsales.comparison import COMPARISON_SCHEMA, Comparison, compare_reports, load_report
from mktsales.dimensions import LABELS, Dimension
from mktsales.evalreport import (
    _REVIEW_ORDER,
    PREDICTION_COLUMNS,
    REPORT_FILES,
    REPORT_SCHEMA,
    REVIEW_COLUMNS,
    REVIEW_MARGIN,
    EvalReport,
    EvalRow,
    _clean,
    review_rows,
)
from mktsales.exceptions import InputTypeError, ParameterError
from mktsales.labelmap import (
    _BINARY_LABELS,
    PROBLEM_REASONS,
    RowProblem,
    describe_problems,
    find_row_problems,
    map_label,
    normalize_label_map,
)
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
    "PREDICTION_COLUMNS",
    "PROBLEM_REASONS",
    "REPORT_FILES",
    "REPORT_SCHEMA",
    "REVIEW_COLUMNS",
    "REVIEW_MARGIN",
    "Comparison",
    "EvalReport",
    "EvalRow",
    "RowProblem",
    "brier_score",
    "compare_reports",
    "cross_validate",
    "describe_problems",
    "evaluate",
    "find_row_problems",
    "load_report",
    "map_label",
    "normalize_label_map",
    "review_rows",
]


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


# -- input -----------------------------------------------------------------------------------------
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


# -- analysis --------------------------------------------------------------------------------------
def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


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


# -- entry points ----------------------------------------------------------------------------------
def _classifier_info(clf: Classifier) -> dict[str, Any]:
    info = clf.info()
    card = info.pop("model_card", {}) or {}
    info["model_params"] = card.get("params")
    return info


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
