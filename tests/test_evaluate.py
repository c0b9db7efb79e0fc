"""The evaluation harness: evaluate(), cross_validate(), compare_reports() and the numbers they report."""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from conftest import REPO, shared_dataset
from mktsales.bootstrap import _features, _outcome, _statistics
from mktsales.dimensions import LABELS, Dimension
from mktsales.evaluation import (
    COVERAGE_GRID,
    DIMENSION_EDGES,
    REPORT_FILES,
    REPORT_SCHEMA,
    TOP_ERRORS,
    EvalReport,
    compare_reports,
    cross_validate,
    evaluate,
    find_row_problems,
    load_report,
    map_label,
    normalize_label_map,
)
from mktsales.exceptions import InputTypeError, ParameterError

N_BOOT = 40
SEED = 7
MS = ("marketing", "sales")
#: Titles any reasonable model labels right (the shipped model is retrained while we work).
CLEAR = [
    ("Senior Brand Manager", "marketing"),
    ("SEO specialist", "marketing"),
    ("Realtor", "sales"),
    ("Inside sales representative", "sales"),
    ("Registered nurse", "other"),
    ("Civil engineer", "other"),
]


def _sk_brier(gold: list[str], probs: np.ndarray) -> float:
    """scikit-learn's multi-class Brier score; it wants the columns in sorted label order."""
    order = sorted(range(len(LABELS)), key=lambda i: LABELS[i])
    return float(brier_score_loss(gold, probs[:, order], labels=sorted(LABELS)))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ci(values: list[float]) -> tuple[float | None, float | None]:
    arr = np.array(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        return None, None
    lo, hi = np.percentile(arr, [2.5, 97.5])
    return float(lo), float(hi)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvalReport, dict[str, Any], list[dict[str, str]]]:
    """The harness on the corpus test split, written to disk and read back."""
    lines = (REPO / "data" / "corpus" / "test.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    report = evaluate(
        [r["text"] for r in records],
        [r["label"] for r in records],
        ids=[r["id"] for r in records],
        n_bootstrap=N_BOOT,
        seed=SEED,
        source="data/corpus/test.jsonl",
    )
    out = tmp_path_factory.mktemp("corpus_report")
    report.write(out)
    saved = json.loads((out / "report.json").read_text("utf-8"))
    return report, saved, _read_csv(out / "predictions.csv")


def _columns(rows: list[dict[str, str]]) -> dict[str, np.ndarray]:
    return {c: np.array([r[c] for r in rows], dtype=object) for c in rows[0]}


def test_corpus_test_split_is_measured(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]]) -> None:
    """The harness runs on the corpus test split and a reasonable model beats chance clearly."""
    report, saved, rows = corpus_run
    assert report.n == len(rows) == saved["n"] > 100
    assert report.accuracy > 0.6
    assert report.mvs_f1 > 0.75
    assert saved["schema"] == REPORT_SCHEMA


def test_headline_and_per_class_numbers_match_sklearn(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]],
) -> None:
    """Accuracy, macro-F1, per-class P/R/F1/support and the confusion matrix equal scikit-learn's."""
    _, d, rows = corpus_run
    c = _columns(rows)
    gold, pred = list(c["gold"]), list(c["predicted"])
    assert d["accuracy"]["value"] == pytest.approx(accuracy_score(gold, pred))
    assert d["macro_f1_labels"] == [label for label in LABELS if label in set(gold)]
    assert d["macro_f1"]["value"] == pytest.approx(
        f1_score(gold, pred, labels=d["macro_f1_labels"], average="macro", zero_division=0)
    )
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    for i, label in enumerate(LABELS):
        pc = d["per_class"][label]
        assert pc["precision"]["value"] == pytest.approx(p[i])
        assert pc["recall"]["value"] == pytest.approx(r[i])
        assert pc["f1"]["value"] == pytest.approx(f[i])
        assert pc["support"] == s[i] == d["class_counts"][label]
        assert pc["predicted"] == pred.count(label)
    assert d["confusion_matrix"]["labels"] == list(LABELS)
    assert d["confusion_matrix"]["matrix"] == confusion_matrix(gold, pred, labels=list(LABELS)).tolist()
    assert [r["correct"] for r in rows] == [str(g == q) for g, q in zip(gold, pred, strict=True)]


def _probs(c: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    return np.column_stack([c[f"{prefix}{label}"].astype(float) for label in LABELS])


def _mvs(gold: list[str], probs: np.ndarray) -> float:
    keep = [i for i, g in enumerate(gold) if g in MS]
    pred = ["marketing" if probs[i, 0] >= probs[i, 1] else "sales" for i in keep]
    return float(f1_score([gold[i] for i in keep], pred, labels=list(MS), average="macro", zero_division=0))


def test_mvs_f1_and_ablation_match_sklearn(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]]) -> None:
    """Marketing-vs-sales F1 and the rules / model / hybrid ablation are recomputed from predictions.csv."""
    _, d, rows = corpus_run
    c = _columns(rows)
    gold = list(c["gold"])
    macro = d["macro_f1_labels"]
    assert d["mvs_f1"]["value"] == pytest.approx(_mvs(gold, _probs(c, "p_")))
    sources = d["ablation"]["sources"]
    expected = {}
    for src, col, prefix in (
        ("hybrid", "predicted", "p_"),
        ("rules", "rules_label", "rules_p_"),
        ("model", "model_label", "model_p_"),
    ):
        pred = list(c[col])
        probs = _probs(c, prefix)
        expected[src] = {
            "accuracy": accuracy_score(gold, pred),
            "macro_f1": f1_score(gold, pred, labels=macro, average="macro", zero_division=0),
            "mvs_f1": _mvs(gold, probs),
        }
        for key, value in expected[src].items():
            assert sources[src][key]["value"] == pytest.approx(value), (src, key)
        assert sources[src]["ties"] == int(np.sum(probs[:, 0] == probs[:, 1]))
    for other in ("rules", "model"):
        for key in ("accuracy", "macro_f1", "mvs_f1"):
            diff = d["ablation"]["differences"][f"hybrid_minus_{other}"][key]["value"]
            assert diff == pytest.approx(expected["hybrid"][key] - expected[other][key])
    correct = c["correct"] == "True"
    for kind, entry in d["ablation"]["agreement"].items():
        mask = c["agreement"] == kind
        assert entry["n"] == int(mask.sum())
        assert _close(entry["accuracy"], float(correct[mask].mean()) if mask.any() else None)


def _ece(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> tuple[float, list[tuple[int, float, float]]]:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    total, bins = 0.0, []
    for b in range(n_bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(conf) * abs(correct[m].mean() - conf[m].mean())
            bins.append((int(m.sum()), float(conf[m].mean()), float(correct[m].mean())))
        else:
            bins.append((0, float("nan"), float("nan")))
    return total, bins


def test_calibration_matches_recomputation(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]]) -> None:
    """Brier score (scikit-learn), ECE and the reliability bins are recomputed from predictions.csv."""
    _, d, rows = corpus_run
    c = _columns(rows)
    probs = _probs(c, "p_")
    cal = d["calibration"]
    assert cal["brier"]["value"] == pytest.approx(_sk_brier(list(c["gold"]), probs))
    conf = c["confidence"].astype(float)
    assert np.allclose(conf, probs.max(axis=1))
    ece, bins = _ece(conf, (c["correct"] == "True").astype(float), cal["n_bins"])
    assert cal["ece"]["value"] == pytest.approx(ece)
    for got, (count, mean_conf, acc) in zip(cal["reliability"], bins, strict=True):
        assert got["count"] == count
        if count:
            assert got["confidence"] == pytest.approx(mean_conf)
            assert got["accuracy"] == pytest.approx(acc)
        else:
            assert got["confidence"] is None
            assert got["accuracy"] is None


def test_coverage_curve_and_threshold_recomputed(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]],
) -> None:
    """The coverage curve, the target threshold and the uncertain-flag figures follow from the rows."""
    _, d, rows = corpus_run
    c = _columns(rows)
    conf = c["confidence"].astype(float)
    correct = c["correct"] == "True"
    scored = c["scored"] == "True"
    for point, th in zip(d["coverage"]["points"], COVERAGE_GRID, strict=True):
        keep = scored & (conf >= th)
        assert point["threshold"] == th
        assert point["n"] == int(keep.sum())
        assert point["coverage"] == pytest.approx(keep.mean())
        assert _close(point["accuracy"], float(correct[keep].mean()) if keep.any() else None)
    target = d["coverage"]["target"]
    found = None
    for th in [round(x, 3) for x in np.arange(0.34, 1.0, 0.01)]:
        keep = scored & (conf >= th)
        if keep.any() and correct[keep].mean() >= target["target_precision"]:
            found = (th, correct[keep].mean(), keep.mean())
            break
    if found is not None:
        assert target["reached"]
        assert (target["threshold"], target["precision"], target["coverage"]) == pytest.approx(found)
    else:
        assert not target["reached"]
    uncertain = c["uncertain"] == "True"
    u = d["uncertain"]
    assert u["n_uncertain"] == int(uncertain.sum())
    assert u["coverage"] == pytest.approx(1 - uncertain.mean())
    assert _close(u["accuracy_certain"], float(correct[~uncertain].mean()))
    assert u["n_not_scored"] == int((~scored).sum())
    reasons: dict[str, int] = {}
    for reason in c["reason"]:
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
    assert u["by_reason"] == reasons


def test_bootstrap_intervals_recomputed_naively(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]],
) -> None:
    """Every interval equals a plain loop over the documented resamples, scored with scikit-learn."""
    _, d, rows = corpus_run
    c = _columns(rows)
    gold = c["gold"]
    macro = d["macro_f1_labels"]
    n = len(gold)
    rng = np.random.default_rng(SEED)
    cols = {"hybrid": ("predicted", "p_"), "rules": ("rules_label", "rules_p_"), "model": ("model_label", "model_p_")}
    samples: dict[str, list[float]] = {}
    conf = c["confidence"].astype(float)
    correct = (c["correct"] == "True").astype(float)
    probs = _probs(c, "p_")

    def add(key: str, value: float) -> None:
        samples.setdefault(key, []).append(value)

    for _ in range(d["settings"]["n_bootstrap"]):
        idx = rng.integers(0, n, size=n)
        g = list(gold[idx])
        for src, (col, prefix) in cols.items():
            p = list(c[col][idx])
            add(f"{src}.accuracy", accuracy_score(g, p))
            add(f"{src}.macro_f1", f1_score(g, p, labels=macro, average="macro", zero_division=0))
            add(f"{src}.mvs_f1", _mvs(g, _probs(c, prefix)[idx]))
        p = list(c["predicted"][idx])
        prec, rec, f1, _ = precision_recall_fscore_support(g, p, labels=list(LABELS), zero_division=np.nan)
        for i, label in enumerate(LABELS):
            add(f"precision.{label}", prec[i])
            add(f"recall.{label}", rec[i])
            add(f"f1.{label}", f1[i])
        add("brier", _sk_brier(g, probs[idx]))
        add("ece", _ece(conf[idx], correct[idx], d["calibration"]["n_bins"])[0])

    def check(est: dict[str, Any], values: list[float]) -> None:
        lo, hi = _ci(values)
        assert _close(est["ci_low"], lo), (est, lo)
        assert _close(est["ci_high"], hi), (est, hi)

    check(d["accuracy"], samples["hybrid.accuracy"])
    check(d["macro_f1"], samples["hybrid.macro_f1"])
    check(d["mvs_f1"], samples["hybrid.mvs_f1"])
    for label in LABELS:
        for key in ("precision", "recall", "f1"):
            check(d["per_class"][label][key], samples[f"{key}.{label}"])
    check(d["calibration"]["brier"], samples["brier"])
    check(d["calibration"]["ece"], samples["ece"])
    for src in cols:
        for key in ("accuracy", "macro_f1", "mvs_f1"):
            check(d["ablation"]["sources"][src][key], samples[f"{src}.{key}"])
    for other in ("rules", "model"):
        for key in ("accuracy", "macro_f1", "mvs_f1"):
            diffs = np.array(samples[f"hybrid.{key}"]) - np.array(samples[f"{other}.{key}"])
            check(d["ablation"]["differences"][f"hybrid_minus_{other}"][key], list(diffs))
    for est in (d["accuracy"], d["macro_f1"], d["per_class"]["sales"]["f1"]):
        assert est["ci_low"] <= est["value"] <= est["ci_high"]


def test_rule_table_recomputed(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]], clf: Any) -> None:
    """Firings, overlaps, conflicts and agreement of every rule follow from the rule ids of each row."""
    _, d, rows = corpus_run
    pole = {r.id: r.pole.value for r in clf.rules}
    stats: dict[str, dict[str, int]] = {
        rid: dict.fromkeys(("fires", "overlaps", "conflicts", "ms", "agree", "other"), 0) for rid in pole
    }
    with_evidence = with_conflict = 0
    for row in rows:
        ids = row["rule_ids"].split()
        assert len(ids) == len(set(ids))
        if not ids:
            continue
        with_evidence += 1
        poles = {pole[i] for i in ids}
        with_conflict += len(poles) > 1
        for i in ids:
            s = stats[i]
            s["fires"] += 1
            s["overlaps"] += len(ids) > 1
            s["conflicts"] += len(poles) > 1
            if row["gold"] in MS:
                s["ms"] += 1
                s["agree"] += row["gold"] == pole[i]
            else:
                s["other"] += 1
    r = d["rules"]
    assert r["n_rules"] == len(pole)
    assert (r["rows_with_evidence"], r["rows_with_conflict"]) == (with_evidence, with_conflict)
    assert r["never_fired"] == sorted(i for i, s in stats.items() if not s["fires"])
    assert r["n_fired"] == len(pole) - len(r["never_fired"])
    for t in r["table"]:
        s = stats[t["rule_id"]]
        assert t["pole"] == pole[t["rule_id"]]
        assert (t["fires"], t["overlaps"], t["conflicts"]) == (s["fires"], s["overlaps"], s["conflicts"])
        assert (t["fires_marketing_sales"], t["agree"], t["fires_other"]) == (s["ms"], s["agree"], s["other"])
        assert t["coverage"] == pytest.approx(s["fires"] / len(rows))
        assert _close(t["accuracy"], s["agree"] / s["ms"] if s["ms"] else None)
    conflicts = [stats[i]["conflicts"] for i in r["most_conflicting"]]
    assert conflicts == sorted(conflicts, reverse=True)
    assert all(v > 0 for v in conflicts)
    assert not r["most_conflicting"] or conflicts[0] == max(s["conflicts"] for s in stats.values())


def test_dimension_view_recomputed(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]]) -> None:
    """Mean scores, lean rates, lean accuracy, AUC (scikit-learn) and histograms follow from the rows."""
    _, d, rows = corpus_run
    c = _columns(rows)
    gold = c["gold"]
    assert [x["dimension"] for x in d["dimensions"]] == [dim.value for dim in Dimension]
    for x in d["dimensions"]:
        score = c[f"dim_{x['dimension']}"].astype(float)
        for label in LABELS:
            assert x["mean_score"][label] == pytest.approx(score[gold == label].mean())
            assert x["lean_rate"][label] == pytest.approx((score[gold == label] != 0).mean())
            counts = np.histogram(score[gold == label], bins=np.array(DIMENSION_EDGES))[0]
            assert x["histogram"]["counts"][label] == counts.tolist()
        ms = np.isin(gold, MS)
        assert x["auc_marketing_vs_sales"] == pytest.approx(roc_auc_score(gold[ms] == "marketing", score[ms]))
        lean = ms & (score != 0)
        assert x["n_lean_marketing_sales"] == int(lean.sum())
        right = np.where(score[lean] > 0, "marketing", "sales") == gold[lean]
        assert _close(x["lean_accuracy"], float(right.mean()) if lean.any() else None)


def test_errors_and_review_follow_from_rows(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]], tmp_path: Path
) -> None:
    """The listed mistakes are the most confident scored ones; review.csv holds every flagged row."""
    report, d, rows = corpus_run
    wrong = [r for r in rows if r["correct"] == "False"]
    assert d["errors"]["n_errors"] == len(wrong)
    assert d["errors"]["n_errors_not_scored"] == sum(r["scored"] == "False" for r in wrong)
    ranked = sorted(
        (r for r in wrong if r["scored"] == "True"), key=lambda r: (-float(r["confidence"]), int(r["index"]))
    )
    assert [e["id"] for e in d["errors"]["most_confident"]] == [r["id"] for r in ranked[:TOP_ERRORS]]
    for e in d["errors"]["most_confident"]:
        assert e["gold"] != e["predicted"]
        assert len(e["text"]) <= 300
    flagged = [r for r in rows if r["review"]]
    assert d["review"]["n"] == len(flagged)
    for reason, n in d["review"]["by_reason"].items():
        assert n == sum(reason in r["review"].split() for r in flagged)
    for r in rows:
        margin = float(r["margin"])
        assert ("low_margin" in r["review"]) == (margin < d["review"]["margin_threshold"])
        assert ("conflict" in r["review"].split()) == (r["agreement"] == "conflict")
        assert ("confident_mistake" in r["review"]) == (r["correct"] == "False" and r["uncertain"] == "False")
    report.write(tmp_path)
    review = _read_csv(tmp_path / "review.csv")
    assert sorted(r["id"] for r in review) == sorted(r["id"] for r in flagged)
    order = {"confident_mistake": 0, "conflict": 1, "low_margin": 2}
    firsts = [order[r["review"].split()[0]] for r in review]
    assert firsts == sorted(firsts)


def test_json_rows_and_predictions_csv_agree(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]],
) -> None:
    """report.json's per-row section is the same data as predictions.csv, every input row once."""
    report, d, rows = corpus_run
    assert len(d["rows"]) == len(rows) == d["source"]["rows_in"]
    for j, r in zip(d["rows"], rows, strict=True):
        assert (str(j["index"]), j["id"], j["gold"], j["predicted"]) == (r["index"], r["id"], r["gold"], r["predicted"])
        assert j["probabilities"] == {label: pytest.approx(float(r[f"p_{label}"])) for label in LABELS}
        assert sum(j["probabilities"].values()) == pytest.approx(1.0)
    assert [r.text for r in report.rows][:3] == [r["text"] for r in rows][:3]


def test_report_json_keys_are_stable(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]]) -> None:
    """report.json has the documented top-level keys and estimates always have value and interval."""
    report, d, _ = corpus_run
    assert list(d) == [
        "schema",
        "source",
        "classifier",
        "settings",
        "n",
        "class_counts",
        "accuracy",
        "macro_f1",
        "macro_f1_labels",
        "mvs_f1",
        "per_class",
        "confusion_matrix",
        "calibration",
        "uncertain",
        "coverage",
        "ablation",
        "rules",
        "dimensions",
        "errors",
        "review",
        "skipped",
        "rows",
    ]
    assert set(d["accuracy"]) == {"value", "ci_low", "ci_high"}
    assert set(d["per_class"]["sales"]) == {"precision", "recall", "f1", "support", "predicted"}
    assert report.to_dict() == d
    assert report.to_dict() is not report.to_dict()


def test_same_seed_gives_the_same_report() -> None:
    """The report is a function of the data, the classifier and the seed."""
    texts, labels = zip(*CLEAR, strict=True)
    a = evaluate(texts, labels, n_bootstrap=30, seed=1).to_dict()
    b = evaluate(texts, labels, n_bootstrap=30, seed=1).to_dict()
    assert a == b


def test_clear_titles_are_right() -> None:
    """Titles any reasonable model gets right give full accuracy, with intervals inside [0, 1]."""
    texts, labels = zip(*CLEAR, strict=True)
    report = evaluate(texts, labels, n_bootstrap=30)
    assert report.accuracy == 1.0
    assert 0.0 <= report.to_dict()["accuracy"]["ci_low"] <= 1.0


def test_label_map_with_star_maps_every_label() -> None:
    """Own labels are mapped, '*' takes the rest, and both raw and mapped labels are kept."""
    texts = ["Senior Brand Manager", "Account Executive", "Registered nurse", "Realtor"]
    raw = ["Advertising", "Business Development", "Nursing", "sales"]
    lm = {"Business Development": "sales", "Advertising": "marketing", "*": "other"}
    report = evaluate(texts, raw, label_map=lm, n_bootstrap=0)
    assert [r.gold for r in report.rows] == ["marketing", "sales", "other", "sales"]
    assert [r.raw_label for r in report.rows] == raw
    assert report.to_dict()["source"]["label_map"] == lm
    assert report.to_dict()["accuracy"]["ci_low"] is None  # no bootstrap, no intervals


def test_label_map_helpers() -> None:
    """Keys match ignoring case and spaces; canonical names need no map; bad maps are refused."""
    lm = normalize_label_map({" Advertising ": "Marketing"})
    assert lm == {"Advertising": "marketing"}
    assert map_label("ADVERTISING", lm) == "marketing"
    assert map_label("Other", lm) == "other"
    assert map_label("HR", lm) is None
    with pytest.raises(ParameterError, match=r"label_map\['x'\] must be one of"):
        normalize_label_map({"x": "finance"})
    with pytest.raises(ParameterError, match="ignoring case"):
        normalize_label_map({"Ads": "marketing", "ads": "sales"})
    with pytest.raises(InputTypeError, match="label_map must be a mapping"):
        normalize_label_map(["x"])


def test_unmapped_labels_are_reported_with_counts_and_rows() -> None:
    """Labels nothing maps stop the run; the message gives each label, its count and its rows."""
    texts = ["Realtor", "Nurse", "Accountant", "Teacher"]
    with pytest.raises(ParameterError) as err:
        evaluate(texts, ["sales", "HR", "Finance", "HR"], n_bootstrap=0)
    msg = str(err.value)
    assert "'HR': 2 rows (row 1 (id '1'), row 3 (id '3'))" in msg
    assert "'Finance': 1 row" in msg
    assert "skip_unmapped=True" in msg


def test_skip_unmapped_leaves_rows_out_and_lists_them() -> None:
    """With skip_unmapped the rows are left out and listed; no row is lost."""
    texts = ["Realtor", "Nurse", "Senior Brand Manager", ""]
    report = evaluate(
        texts,
        ["sales", "HR", "marketing", ""],
        ids=["a", "b", "c", "d"],
        skip_unmapped=True,
        skip_empty=True,
        n_bootstrap=0,
    )
    assert [r.id for r in report.rows] == ["a", "c"]
    d = report.to_dict()
    assert d["skipped"]["rows"] == [
        {"index": 1, "id": "b", "reason": "unmapped_label", "value": "HR"},
        {"index": 3, "id": "d", "reason": "empty_text", "value": ""},
    ]
    assert d["skipped"]["by_reason"] == {"unmapped_label": 1, "empty_text": 1}
    assert d["source"]["rows_in"] == d["n"] + d["skipped"]["n"] == 4


def test_empty_text_is_an_error_unless_skipped() -> None:
    """Rows with empty text are named in the error, or left out and listed with skip_empty."""
    with pytest.raises(ParameterError, match=r"empty text \(1 row; pass skip_empty=True"):
        evaluate(["Realtor", "   "], ["sales", "sales"], n_bootstrap=0)
    report = evaluate(
        ["Realtor", None, "SEO specialist"], ["sales", "sales", "marketing"], skip_empty=True, n_bootstrap=0
    )
    assert report.n == 2
    assert [(p.index, p.reason) for p in report.skipped] == [(1, "empty_text")]


def test_row_problems_one_per_row() -> None:
    """find_row_problems reports at most one problem per row, empty text first."""
    problems = find_row_problems(["", "x", "y", "z"], ["HR", "", "HR", "other"], binary=True)
    assert [(p.index, p.reason) for p in problems] == [
        (0, "empty_text"),
        (1, "empty_label"),
        (2, "unmapped_label"),
        (3, "not_binary"),
    ]


def test_binary_mode(tmp_path: Path) -> None:
    """Binary mode evaluates marketing vs sales on renormalised probabilities; other rows are refused."""
    texts = ["Senior Brand Manager", "SEO specialist", "Realtor", "Inside sales representative", "Brand ambassador"]
    labels = ["marketing", "marketing", "sales", "sales", "sales"]
    report = evaluate(texts, labels, binary=True, n_bootstrap=20)
    d = report.to_dict()
    assert report.labels == MS
    assert d["confusion_matrix"]["labels"] == list(MS)
    assert set(d["per_class"]) == set(MS)
    for r in report.rows:
        assert set(r.probabilities) == set(MS)
        assert sum(r.probabilities.values()) == pytest.approx(1.0)
        assert r.predicted in MS
    report.write(tmp_path)
    rows = _read_csv(tmp_path / "predictions.csv")
    gold = [r["gold"] for r in rows]
    pm = np.array([float(r["p_marketing"]) for r in rows])
    ps = np.array([float(r["p_sales"]) for r in rows])
    p_bin = np.where(pm + ps > 0, pm / np.where(pm + ps > 0, pm + ps, 1), 0.5)
    assert [r["predicted"] for r in rows] == ["marketing" if m >= s else "sales" for m, s in zip(pm, ps, strict=True)]
    assert d["calibration"]["brier"]["value"] == pytest.approx(brier_score_loss(gold, p_bin, pos_label="marketing"))
    assert d["accuracy"]["value"] == pytest.approx(accuracy_score(gold, [r["predicted"] for r in rows]))
    with pytest.raises(ParameterError, match="binary mode takes only marketing and sales rows"):
        evaluate(["Registered nurse", "Realtor"], ["other", "sales"], binary=True, n_bootstrap=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"texts": "Realtor", "labels": ["sales"]}, InputTypeError, "got a single str"),
        ({"texts": ["Realtor"], "labels": ["sales", "sales"]}, ParameterError, "2 labels for 1 texts"),
        ({"texts": [], "labels": []}, ParameterError, "nothing to evaluate"),
        ({"texts": [b"Realtor"], "labels": ["sales"]}, InputTypeError, r"texts\[0\] must be str"),
        ({"texts": ["Realtor"], "labels": [["sales"]]}, InputTypeError, r"labels\[0\] must be str"),
        ({"texts": ["Realtor"], "labels": ["sales"], "titles": ["a", "b"]}, ParameterError, "one title"),
        ({"texts": ["Realtor"], "labels": ["sales"], "target_precision": 0}, ParameterError, "target_precision"),
        ({"texts": ["Realtor"], "labels": ["sales"], "n_bootstrap": -1}, ParameterError, "n_bootstrap"),
        ({"texts": ["Realtor"], "labels": ["sales"], "confidence_level": 1.0}, ParameterError, "confidence_level"),
        ({"texts": ["Realtor"], "labels": ["sales"], "classifier": "default"}, InputTypeError, "classifier must be"),
    ],
)
def test_bad_input_gives_clear_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    """Wrong types, lengths and settings raise mktsales errors naming the parameter and value."""
    with pytest.raises(error, match=match):
        evaluate(**kwargs)


def test_write_never_replaces_files_unless_asked(tmp_path: Path) -> None:
    """write() refuses to replace an earlier report, and leaves other files alone when it does."""
    texts, labels = zip(*CLEAR, strict=True)
    report = evaluate(texts, labels, n_bootstrap=10)
    written = report.write(tmp_path)
    assert sorted(p.name for p in written) == sorted(REPORT_FILES)
    (tmp_path / "notes.txt").write_text("mine")
    before = (tmp_path / "report.json").read_bytes()
    with pytest.raises(ParameterError, match=r"already holds report\.json"):
        report.write(tmp_path)
    assert (tmp_path / "report.json").read_bytes() == before
    report.write(tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ParameterError, match="must be a directory"):
        report.write(tmp_path / "notes.txt")


def test_cross_validation_pools_out_of_fold_predictions(small_training_set: tuple[list[str], list[str]]) -> None:
    """Every row is predicted once, by a model of the fold that held it out; folds are stratified."""
    X, y = small_training_set
    log: list[str] = []
    report = cross_validate(X, y, k=3, params={"calibrate": False}, n_bootstrap=20, log=log.append)
    assert report.n == len(X)
    assert sorted(r.index for r in report.rows) == list(range(len(X)))
    info = report.to_dict()["classifier"]
    assert info["cross_validation"]["folds"] == 3
    assert sum(info["cross_validation"]["fold_sizes"]) == len(X)
    assert info["model_params"]["calibrate"] is False
    assert "C" in info["model_params"]
    assert len(log) == 3
    for f in (1, 2, 3):
        fold_labels = [r.gold for r in report.rows if r.fold == f]
        assert {label: fold_labels.count(label) for label in LABELS} == pytest.approx(
            {label: y.count(label) / 3 for label in LABELS}, abs=1
        )
    assert report.accuracy > 0.5
    assert [r["fold"] for r in report.to_dict()["rows"]] == [r.fold for r in report.rows]


def test_cross_validation_needs_k_rows_per_label() -> None:
    """k folds need at least k rows of every label."""
    with pytest.raises(ParameterError, match="'other' has 2"):
        cross_validate(["a b", "c d", "e f", "g h", "i j", "k l"], ["sales"] * 4 + ["other"] * 2, k=3)
    with pytest.raises(ParameterError, match="k must be an int >= 2"):
        cross_validate(["a"], ["sales"], k=1)


def _flip(d: dict[str, Any], every: int) -> dict[str, Any]:
    out = copy.deepcopy(d)
    for i, row in enumerate(out["rows"]):
        if i % every == 0:
            row["predicted"] = row["gold"]
            row["probabilities"] = {label: float(label == row["gold"]) for label in row["probabilities"]}
    out["source"]["name"] = "flipped"
    return out


def test_compare_paired_bootstrap_recomputed(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]],
) -> None:
    """Same rows: the difference B - A is bootstrapped on paired resamples (recomputed with scikit-learn)."""
    _, a, _ = corpus_run
    b = _flip(a, 5)
    b["rows"] = list(reversed(b["rows"]))  # order does not matter, keys pair the rows
    cmp = compare_reports(a, b, n_bootstrap=30, seed=3).to_dict()
    assert cmp["paired"]
    assert cmp["n_shared_rows"] == a["n"]
    by_key = {r["key"]: r for r in b["rows"]}
    gold = np.array([r["gold"] for r in a["rows"]], dtype=object)
    pa = np.array([r["predicted"] for r in a["rows"]], dtype=object)
    pb = np.array([by_key[r["key"]]["predicted"] for r in a["rows"]], dtype=object)
    acc = next(m for m in cmp["metrics"] if m["metric"] == "accuracy")
    assert acc["difference"]["value"] == pytest.approx(accuracy_score(gold, pb) - accuracy_score(gold, pa))
    assert acc["difference"]["value"] > 0
    assert acc["significant"]
    rng = np.random.default_rng(3)
    diffs = []
    for _ in range(30):
        idx = rng.integers(0, len(gold), size=len(gold))
        diffs.append(accuracy_score(gold[idx], pb[idx]) - accuracy_score(gold[idx], pa[idx]))
    lo, hi = _ci(diffs)
    assert (acc["difference"]["ci_low"], acc["difference"]["ci_high"]) == pytest.approx((lo, hi))
    macro = next(m for m in cmp["metrics"] if m["metric"] == "macro_f1")
    assert macro["a"]["value"] == pytest.approx(a["macro_f1"]["value"])


def test_compare_unpaired_when_rows_differ(corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]]) -> None:
    """Different rows: each report is resampled on its own and the comparison says so."""
    _, a, _ = corpus_run
    b = copy.deepcopy(a)
    b["rows"] = b["rows"][: len(b["rows"]) // 2]
    cmp = compare_reports(a, b, n_bootstrap=20)
    assert not cmp.paired
    assert cmp.to_dict()["n_shared_rows"] == len(b["rows"])
    assert "unpaired" in cmp.summary()


def test_compare_refuses_what_it_cannot_compare(
    corpus_run: tuple[EvalReport, dict[str, Any], list[dict[str, str]]], tmp_path: Path
) -> None:
    """Reports of different label sets, non-reports and broken JSON give clear errors."""
    report, a, _ = corpus_run
    b = copy.deepcopy(a)
    b["settings"]["labels"] = list(MS)
    with pytest.raises(ParameterError, match="different labels"):
        compare_reports(report, b)
    bad = tmp_path / "x.json"
    bad.write_text('{"schema": "something else"}')
    with pytest.raises(ParameterError, match="is not a mktsales evaluation report"):
        load_report(bad)
    bad.write_text("{not json")
    with pytest.raises(ParameterError, match="not valid JSON"):
        compare_reports(bad, report)
    with pytest.raises(ParameterError, match="n_bootstrap"):
        compare_reports(report, report, n_bootstrap=0)
    broken = copy.deepcopy(a)
    del broken["rows"][3]["gold"]
    with pytest.raises(ParameterError, match="malformed per-row predictions"):
        compare_reports(report, broken)


@pytest.mark.parametrize("view", ["tasks", "titles"])
def test_onet_views_are_measured(view: str) -> None:
    """The harness runs on O*NET tasks and titles; a reasonable model beats chance on both."""
    from mktsales.public_data import read_onet

    rows = [r for r in read_onet(shared_dataset("onet")) if r.view == view]
    report = evaluate([r.text for r in rows], [r.label for r in rows], ids=[r.id for r in rows], n_bootstrap=20)
    d = report.to_dict()
    assert report.n == len(rows)
    assert not report.skipped
    assert report.accuracy > 0.5
    assert report.mvs_f1 > 0.6
    gold = [r.gold for r in report.rows]
    assert d["macro_f1"]["value"] == pytest.approx(
        f1_score(
            gold, [r.predicted for r in report.rows], labels=d["macro_f1_labels"], average="macro", zero_division=0
        )
    )
    assert d["rules"]["n_fired"] > 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(LABELS),
            st.sampled_from(LABELS),
            st.floats(0.01, 1.0),
            st.floats(0.01, 1.0),
            st.floats(0.01, 1.0),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_statistics_engine_matches_sklearn(rows: list[tuple[str, str, float, float, float]]) -> None:
    """The sum-based statistics equal scikit-learn on any labels and probabilities."""
    gold = [r[0] for r in rows]
    pred = [r[1] for r in rows]
    raw = np.array([r[2:] for r in rows])
    probs = raw / raw.sum(axis=1, keepdims=True)
    o = _outcome(LABELS, gold, pred, probs)
    macro = [label for label in LABELS if label in gold]
    stats = {
        k: float(v[0])
        for k, v in _statistics(_features(o, 10).sum(axis=0)[None, :], len(rows), LABELS, macro, 10).items()
    }
    assert stats["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert stats["macro_f1"] == pytest.approx(f1_score(gold, pred, labels=macro, average="macro", zero_division=0))
    p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=np.nan)
    for i, label in enumerate(LABELS):
        for key, ref in (("precision", p[i]), ("recall", r[i]), ("f1", f[i])):
            got = stats[f"{key}.{label}"]
            assert (math.isnan(got) and math.isnan(ref)) or got == pytest.approx(ref)
    assert stats["brier"] == pytest.approx(_sk_brier(gold, probs))
