"""How much of the O*NET gap is the labels: O*NET's occupation labels against a blind re-annotation.

Usage: python benchmarks/onet_audit.py [--data ../shared/data] [--json out.json]

O*NET labels every task and title by its occupation (a sales manager's "Prepare budgets" is sales).
The project labels a text by the job function it describes (``data/LABELLING_GUIDE.md``).
``benchmarks/onet_guide_labels.tsv`` holds the project's own labels for every O*NET row, given from
the text alone by annotators who followed the guide and saw neither the occupation nor O*NET's label
(ids and labels only; the texts are read from ../shared/data at run time). See the file's section in
``benchmarks/RESULTS.md``.

Prints, for tasks and titles:

1. how often the guide's label equals O*NET's (accuracy, Cohen's kappa, per O*NET class), and the
   share of rows the annotators marked ambiguous;
2. the guide labels scored as if they were a classifier against O*NET's labels: the figure a
   perfect text-level labeller following the guide would reach on the issue's metrics;
3. the shipped model against O*NET's labels, against the guide's labels, and against O*NET's labels
   on the rows where both agree and the annotator found the text clear.

Nothing here trains or selects anything: the model is the shipped one. Exits 2 with a message when
the data folder is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

from mktsales import LABELS, default_classifier
from mktsales.metrics import macro_f1, mvs_f1
from mktsales.public_data import read_onet

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ANNOTATIONS = Path(__file__).resolve().parent / "onet_guide_labels.tsv"
CLARITY = ("clear", "ambiguous")


def read_annotations(path: Path = ANNOTATIONS) -> dict[str, tuple[str, str, str]]:
    """The re-annotation: ``{id: (view, guide_label, clarity)}``.

    Raises
    ------
    ValueError
        On a repeated id, an unknown view, label or clarity value.
    """
    out: dict[str, tuple[str, str, str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh, delimiter="\t"), start=2):
            key, view, label, clarity = row["id"], row["view"], row["guide_label"], row["clarity"]
            if key in out:
                raise ValueError(f"{path.name}:{n}: id {key!r} repeated")
            if view not in ("tasks", "titles") or label not in LABELS or clarity not in CLARITY:
                raise ValueError(f"{path.name}:{n}: bad row {row!r}")
            out[key] = (view, label, clarity)
    return out


def one_hot(labels: list[str]) -> np.ndarray:
    """Scores that put all mass on each row's label, in :data:`mktsales.LABELS` order."""
    return np.array([[1.0 if label == k else 0.0 for k in LABELS] for label in labels])


def agreement(reference: list[str], guide: list[str]) -> dict[str, float]:
    """Accuracy, Cohen's kappa and per-class agreement of ``guide`` with ``reference``."""
    ref, gd = np.array(reference, dtype=object), np.array(guide, dtype=object)
    out = {"n": float(len(ref)), "accuracy": float(np.mean(ref == gd)), "kappa": float(cohen_kappa_score(ref, gd))}
    for label in LABELS:
        rows = ref == label
        if rows.any():
            out[f"agree_{label}"] = float(np.mean(gd[rows] == label))
    return out


def scores_against(gold: list[str], labels: list[str], scores: np.ndarray) -> dict[str, float]:
    """3-class macro-F1 and marketing-vs-sales macro-F1 of predictions against ``gold``, and the
    number of marketing and sales rows the latter is taken on (``mvs_n``)."""
    present = [label for label in LABELS if label in set(gold)]
    return {
        "n": float(len(gold)),
        "macro_f1": macro_f1(gold, labels, present),
        "mvs_f1": mvs_f1(gold, scores),
        "mvs_n": float(sum(g != "other" for g in gold)),
    }


def guide_scores(onet: list[str], guide: list[str]) -> dict[str, float]:
    """The guide labels scored as predictions of O*NET's.

    A guide label of ``other`` on an O*NET marketing or sales row takes no side between the two, so
    the marketing-vs-sales figure is taken on the rows the guide calls marketing or sales (their
    number is ``mvs_n``).
    """
    out = scores_against(onet, guide, one_hot(guide))
    sided = [i for i, g in enumerate(guide) if g != "other"]
    out["mvs_f1"] = mvs_f1([onet[i] for i in sided], one_hot([guide[i] for i in sided]))
    out["mvs_n"] = float(sum(onet[i] != "other" for i in sided))
    return out


def audit(data: Path, annotations: dict[str, tuple[str, str, str]]) -> dict[str, dict[str, dict[str, float]]]:
    """All figures, by view."""
    rows = read_onet(data / "onet")
    missing = [r.id for r in rows if r.id not in annotations]
    if missing:
        raise ValueError(f"{len(missing)} O*NET rows have no annotation, e.g. {missing[:3]}")
    clf = default_classifier()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for view in ("tasks", "titles"):
        vrows = [r for r in rows if r.view == view]
        onet = [r.label for r in vrows]
        guide = [annotations[r.id][1] for r in vrows]
        clear = np.array([annotations[r.id][2] == "clear" for r in vrows])
        preds = list(clf.classify_many([r.text for r in vrows], n_process=2, batch_size=512))
        labels = [p.label for p in preds]
        scores = np.array([[p.scores[k] for k in LABELS] for p in preds])
        agree = np.array(onet, dtype=object) == np.array(guide, dtype=object)
        pick = np.flatnonzero(agree & clear)
        clear_rows = np.flatnonzero(clear)
        results[view] = {
            "agreement": {**agreement(onet, guide), "ambiguous": float(np.mean(~clear))},
            "agreement_clear": agreement([onet[i] for i in clear_rows], [guide[i] for i in clear_rows]),
            "guide_as_classifier": guide_scores(onet, guide),
            "model_vs_onet": scores_against(onet, labels, scores),
            "model_vs_guide": scores_against(guide, labels, scores),
            "model_vs_onet_where_both_agree_and_clear": scores_against(
                [onet[i] for i in pick], [labels[i] for i in pick], scores[pick]
            ),
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    if not (args.data / "onet").is_dir():
        print(f"O*NET data not found at {args.data / 'onet'}; pass --data", file=sys.stderr)
        return 2
    results = audit(args.data, read_annotations())
    header = "| view | n | guide = O*NET | kappa | marketing rows | sales rows | other rows | ambiguous "
    print(header + "| kappa (clear rows) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for view, res in results.items():
        a, c = res["agreement"], res["agreement_clear"]
        print(
            f"| {view} | {a['n']:.0f} | {a['accuracy']:.3f} | {a['kappa']:.3f} | {a['agree_marketing']:.3f} | "
            f"{a['agree_sales']:.3f} | {a['agree_other']:.3f} | {a['ambiguous']:.3f} | {c['kappa']:.3f} |"
        )
    print()
    print("| view | scored | against | n | 3-class macro-F1 | mvs-F1 (rows) |")
    print("|---|---|---|---|---|---|")
    names = {
        "guide_as_classifier": ("guide labels", "O*NET labels"),
        "model_vs_onet": ("shipped model", "O*NET labels"),
        "model_vs_guide": ("shipped model", "guide labels"),
        "model_vs_onet_where_both_agree_and_clear": ("shipped model", "O*NET labels, rows both agree on (clear)"),
    }
    for view, res in results.items():
        for key, (what, against) in names.items():
            s = res[key]
            mvs = f"{s['mvs_f1']:.3f} ({s['mvs_n']:.0f})"
            print(f"| {view} | {what} | {against} | {s['n']:.0f} | {s['macro_f1']:.3f} | {mvs} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
