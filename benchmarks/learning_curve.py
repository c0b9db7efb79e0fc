"""How accuracy grows with the training corpus: a learning curve.

Usage: python benchmarks/learning_curve.py [--data ../shared/data] [--fractions 0.125 0.25 0.5 1]
       [--seeds 3] [--json out.json]

Trains the shipped model's chosen parameters (``models/model_card.json``, "chosen") on stratified
random shares of the train split: every label-and-kind stratum is sampled in the same share, and
for one seed a smaller share is part of every larger one. Each model is calibrated as
``mktsales train`` calibrates and uses the shipped thresholds. It is scored on dev and on the public
sets (O*NET tasks and titles, Workable templates, EMSCAD postings). The parameters are fixed, so
nothing is chosen on any of these figures; the question is only whether more text of the kind the
corpus holds still moves them. Exits 2 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np

from accuracy import DEFAULT_DATA, REPO, SETS, score_rows
from mktsales import LABELS, Classifier
from mktsales.corpus import Record, load_corpus
from mktsales.metrics import classification_summary
from mktsales.public_data import LabelledText
from mktsales.training import FIXED

#: The public views the curve is drawn on (set, view).
VIEWS = (("onet", "tasks"), ("onet", "titles"), ("workable", "postings"), ("emscad", "postings"))


def stratified_share(records: list[Record], fraction: float, seed: int) -> list[Record]:
    """The first ``ceil(fraction * n)`` records of each label-and-kind stratum, in a seeded shuffle.

    For one seed the share of a smaller fraction is contained in that of a larger one.
    """
    strata: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        strata[(r.label, r.kind)].append(r)
    rng = random.Random(seed)
    out: list[Record] = []
    for key in sorted(strata):
        rows = list(strata[key])
        rng.shuffle(rows)
        out += rows[: math.ceil(fraction * len(rows))]
    return out


def fit(records: list[Record], chosen: dict[str, object], thresholds: dict[str, float], seed: int) -> Classifier:
    """A classifier with the chosen parameters fitted on ``records``, as ``mktsales train`` fits it."""
    from mktsales.model import MktSalesClassifier
    from mktsales.scoring import Scorer

    params = {k: v for k, v in chosen.items() if k not in FIXED and k != "title_blend"}
    est = MktSalesClassifier(calibrate=True, random_state=seed, **FIXED, **params)
    est.fit([r.text for r in records], [r.label for r in records])
    state = est.to_state()
    state["params"]["title_blend"] = chosen["title_blend"]
    state["thresholds"] = dict(thresholds)
    return Classifier(Scorer(state, rules=est.scorer_.rules))


def dev_figures(clf: Classifier, dev: list[Record]) -> tuple[float, float]:
    """Dev 3-class macro-F1 and marketing-vs-sales macro-F1, as the model card counts them."""
    preds = list(clf.classify_many([r.text for r in dev]))
    scores = np.array([[p.scores[k] for k in LABELS] for p in preds])
    summary = classification_summary([r.label for r in dev], [p.label for p in preds], scores)
    return float(summary["macro_f1"]), float(summary["mvs_f1"])


def _mean(runs: list[dict[str, Any]], key: str, metric: str | None = None) -> float:
    """Mean over seeds of a run's figure (``run[key]``, or ``run[key][metric]``)."""
    return mean(float(r[key][metric] if metric else r[key]) for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1.0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per fraction below 1 (default 3)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"public data not found at {args.data}; pass --data", file=sys.stderr)
        return 2
    card = json.loads((REPO / "models" / "model_card.json").read_text("utf-8"))
    chosen, thresholds = card["chosen"], card["thresholds"]
    corpus = load_corpus(REPO / "data" / "corpus")
    views: dict[tuple[str, str], list[LabelledText]] = defaultdict(list)
    for name in sorted({name for name, _ in VIEWS}):
        reader, folder = SETS[name]
        for r in reader(args.data / folder):
            if (name, r.view) in VIEWS:
                views[(name, r.view)].append(r)
    print(f"parameters {chosen}; train {len(corpus['train'])} rows, dev {len(corpus['dev'])}")
    header = " | ".join(f"{n} {v} mvs / 3-class" for n, v in VIEWS)
    print(f"| share of train | rows | seeds | dev 3-class / mvs | {header} |")
    print("|---" * (4 + len(VIEWS)) + "|")
    results = []
    for fraction in sorted(args.fractions):
        seeds = [0] if fraction >= 1 else list(range(args.seeds))
        runs = []
        for seed in seeds:
            started = time.perf_counter()
            train = stratified_share(corpus["train"], fraction, seed)
            clf = fit(train, chosen, thresholds, seed)
            run: dict[str, Any] = {"seed": seed, "rows": len(train)}
            run["dev_macro_f1"], run["dev_mvs_f1"] = dev_figures(clf, corpus["dev"])
            for key, rows in views.items():
                hybrid = score_rows(rows, clf)["hybrid"]
                run[f"{key[0]} {key[1]}"] = {"mvs_f1": hybrid["mvs_f1"], "macro_f1": hybrid["macro_f1"]}
            run["seconds"] = round(time.perf_counter() - started, 1)
            runs.append(run)
        results.append({"fraction": fraction, "runs": runs})
        cells = " | ".join(
            f"{_mean(runs, f'{n} {v}', 'mvs_f1'):.3f} / {_mean(runs, f'{n} {v}', 'macro_f1'):.3f}" for n, v in VIEWS
        )
        print(
            f"| {fraction:g} | {runs[0]['rows']} | {len(runs)} | "
            f"{_mean(runs, 'dev_macro_f1'):.3f} / {_mean(runs, 'dev_mvs_f1'):.3f} | {cells} |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"chosen": chosen, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
