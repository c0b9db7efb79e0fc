"""Accuracy of the shipped model on public data it never trained on (skips without ../shared/data).

Issue 3 sets targets the model does not reach yet on O*NET and EMSCAD; they are pinned as strict
expected failures, so the day they are met the suite says so. The floors below are the figures the
shipped model reaches (benchmarks/RESULTS.md) less a small margin: a change that loses accuracy on
real data fails here.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from conftest import shared_dataset
from mktsales import LABELS, default_classifier
from mktsales.metrics import macro_f1, mvs_f1
from mktsales.public_data import LabelledText, read_emscad, read_onet, read_workable

#: (macro-F1 over three classes, marketing-vs-sales macro-F1) the shipped model must keep.
FLOORS = {
    ("onet", "tasks"): (0.71, 0.78),
    ("onet", "titles"): (0.79, 0.82),
    ("workable", "postings"): (0.76, 0.91),
    ("emscad", "postings"): (0.76, 0.86),
}
_NOT_MET = pytest.mark.xfail(strict=True, reason="issue 3 target not reached yet (see benchmarks/RESULTS.md)")
#: The targets of issue 3: (3-class macro-F1 or None, marketing-vs-sales macro-F1).
TARGETS = [
    pytest.param("onet", "tasks", 0.85, 0.90, marks=_NOT_MET, id="onet-tasks"),
    pytest.param("onet", "titles", 0.85, 0.90, marks=_NOT_MET, id="onet-titles"),
    pytest.param("workable", "postings", None, 0.90, id="workable"),
    pytest.param("emscad", "postings", None, 0.90, marks=_NOT_MET, id="emscad"),
]
READERS = {
    "onet": (read_onet, "onet"),
    "workable": (read_workable, "workable_jd_templates"),
    "emscad": (read_emscad, "emscad_first500"),
}
_CACHE: dict[tuple[str, str], tuple[float, float]] = {}


def _figures(name: str, view: str) -> tuple[float, float]:
    if (name, view) not in _CACHE:
        reader, folder = READERS[name]
        views: dict[str, list[LabelledText]] = defaultdict(list)
        for r in reader(shared_dataset(folder)):
            views[r.view].append(r)
        clf = default_classifier()
        for v, rows in views.items():
            preds = [clf.classify(r.text, title=r.title) for r in rows]
            gold = [r.label for r in rows]
            scores = np.array([[p.scores[k] for k in LABELS] for p in preds])
            _CACHE[(name, v)] = (macro_f1(gold, [p.label for p in preds], list(LABELS)), mvs_f1(gold, scores))
    return _CACHE[(name, view)]


@pytest.mark.parametrize(("name", "view"), sorted(FLOORS))
def test_accuracy_does_not_fall_below_the_recorded_floor(name: str, view: str) -> None:
    """The shipped model keeps its measured accuracy on data it never saw."""
    three, mvs = _figures(name, view)
    floor_three, floor_mvs = FLOORS[(name, view)]
    assert three >= floor_three
    assert mvs >= floor_mvs


@pytest.mark.parametrize(("name", "view", "target_three", "target_mvs"), TARGETS)
def test_issue_targets(name: str, view: str, target_three: float | None, target_mvs: float) -> None:
    """The targets of issue 3; those not met yet are strict expected failures."""
    three, mvs = _figures(name, view)
    if target_three is not None:
        assert three >= target_three
    assert mvs >= target_mvs
