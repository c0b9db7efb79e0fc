"""Accuracy of the shipped model on public data it never trained on.

Usage: python benchmarks/accuracy.py [--data ../shared/data] [--json out.json]

For every set (O*NET tasks and titles, Workable templates, EMSCAD postings, ESCO titles and
descriptions) prints n, accuracy, 3-class macro-F1 and marketing-vs-sales macro-F1 (on the
marketing and sales rows, the higher of the two scores decides) for the hybrid model, the rules
alone and the text model alone. Exits 2 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from mktsales import LABELS, Classifier, default_classifier
from mktsales.corpus import SPLITS, load_split
from mktsales.metrics import macro_f1, mvs_f1
from mktsales.public_data import LabelledText, read_emscad, read_esco, read_onet, read_workable

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]
#: Short generic titles ("Brand Manager") also occur in public title lists; figures are also given
#: without the public titles that equal a corpus title (lower-cased), and without those whose words
#: all occur in one corpus title.
CORPUS_TITLES = {
    r.text.strip().lower() for s in SPLITS for r in load_split(REPO / "data" / "corpus", s) if r.kind == "title"
}
_WORD = re.compile(r"[a-z0-9]+")


def _title_index(titles: set[str]) -> dict[str, set[int]]:
    """For each word, the corpus titles (by number) that hold it."""
    index: dict[str, set[int]] = defaultdict(set)
    for i, title in enumerate(sorted(titles)):
        for word in _WORD.findall(title):
            index[word].add(i)
    return index


_TITLE_INDEX = _title_index(CORPUS_TITLES)


def contained_in_corpus_title(title: str, index: dict[str, set[int]] = _TITLE_INDEX) -> bool:
    """True when some corpus title holds every word of ``title`` ("Shoe Clerk" is held by
    "Shoe Clerk - Department Store"): a stricter leakage filter than equality."""
    words = set(_WORD.findall(title.lower()))
    if not words:
        return False
    holders = set.intersection(*(index.get(w, set()) for w in words))
    return bool(holders)


SETS = {
    "onet": (read_onet, "onet"),
    "workable": (read_workable, "workable_jd_templates"),
    "emscad": (read_emscad, "emscad_first500"),
    "esco": (read_esco, "esco_occupations"),
}


def score_rows(rows: list[LabelledText], clf: Classifier | None = None) -> dict[str, dict[str, float]]:
    """Figures for one view of one set: hybrid, rules only, model only (the shipped model unless
    ``clf`` is given)."""
    clf = clf or default_classifier()
    preds = list(clf.classify_many([r.text for r in rows], titles=[r.title for r in rows], n_process=2, batch_size=512))
    gold = [r.label for r in rows]
    out = {}
    for source in ("hybrid", "rules", "model"):
        if source == "hybrid":
            scores = np.array([[p.scores[k] for k in LABELS] for p in preds])
            labels = [p.label for p in preds]
        else:
            verdicts = [getattr(p, source) for p in preds]
            scores = np.array([[v.scores[k] for k in LABELS] for v in verdicts])
            labels = [v.label for v in verdicts]
        present = [label for label in LABELS if label in set(gold)]
        out[source] = {
            "n": len(rows),
            "accuracy": float(np.mean(np.array(gold, dtype=object) == np.array(labels, dtype=object))),
            "macro_f1": macro_f1(gold, labels, present),
            "mvs_f1": mvs_f1(gold, scores),
        }
    out["hybrid"]["uncertain_rate"] = float(np.mean([p.uncertain for p in preds]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"public data not found at {args.data}; pass --data", file=sys.stderr)
        return 2
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    print("| set | view | n | hybrid acc | hybrid macro-F1 | hybrid mvs-F1 | rules mvs-F1 | model mvs-F1 | uncertain |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        reader, folder = SETS[name]
        started = time.perf_counter()
        rows = reader(args.data / folder)
        views: dict[str, list[LabelledText]] = defaultdict(list)
        for r in rows:
            views[r.view].append(r)
            if r.view == "titles" and r.text.strip().lower() not in CORPUS_TITLES:
                views["titles not in corpus"].append(r)
            if r.view == "titles" and not contained_in_corpus_title(r.text):
                views["titles no corpus title contains"].append(r)
        results[name] = {}
        for view, vrows in views.items():
            res = score_rows(vrows)
            results[name][view] = res
            h = res["hybrid"]
            print(
                f"| {name} | {view} | {h['n']} | {h['accuracy']:.3f} | {h['macro_f1']:.3f} | {h['mvs_f1']:.3f} | "
                f"{res['rules']['mvs_f1']:.3f} | {res['model']['mvs_f1']:.3f} | {h['uncertain_rate']:.3f} |",
                flush=True,
            )
        results[name]["seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
