"""Choosing a setting on dev: the incumbent is kept unless beaten by more than one standard error."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mktsales.exceptions import ParameterError
from mktsales.metrics import macro_f1
from mktsales.selection import Candidate, macro_f1_difference_se, select

REPO = Path(__file__).resolve().parents[1]
LABELS = ("marketing", "sales", "other")


def _reference_se(gold: list[str], a: list[str], b: list[str], n_resamples: int, seed: int) -> float:
    """The same paired bootstrap, one resample at a time with the project's macro_f1."""
    rng = np.random.default_rng(seed)
    n = len(gold)
    diffs = []
    for _ in range(n_resamples):
        idx = rng.integers(0, n, size=n)
        g = [gold[i] for i in idx]
        diffs.append(macro_f1(g, [b[i] for i in idx]) - macro_f1(g, [a[i] for i in idx]))
    return float(np.std(diffs, ddof=1))


def _noisy(gold: list[str], error_rate: float, rng: random.Random) -> list[str]:
    return [rng.choice([x for x in LABELS if x != g]) if rng.random() < error_rate else g for g in gold]


labels_st = st.sampled_from(LABELS)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(labels_st, labels_st, labels_st), min_size=2, max_size=60), st.integers(0, 3))
def test_standard_error_matches_a_resample_by_resample_reference(rows: list[tuple[str, str, str]], seed: int) -> None:
    """The vectorised bootstrap equals a plain loop over the same resamples (classes absent from a
    resample's gold are left out of its macro-F1, as in mktsales.metrics.macro_f1)."""
    gold, a, b = (list(x) for x in zip(*rows, strict=True))
    got = macro_f1_difference_se(gold, a, b, n_resamples=30, seed=seed)
    assert got == pytest.approx(_reference_se(gold, a, b, 30, seed), abs=1e-12)
    # Symmetric in the two systems, and zero when they agree on every row.
    assert macro_f1_difference_se(gold, b, a, n_resamples=30, seed=seed) == pytest.approx(got, abs=1e-12)
    assert macro_f1_difference_se(gold, a, a, n_resamples=30, seed=seed) == 0.0


def test_standard_error_shrinks_with_more_rows() -> None:
    """Two systems that differ on 10% of rows: four times the rows, about half the standard error."""
    rng = random.Random(0)
    small_gold = [rng.choice(LABELS) for _ in range(400)]
    big_gold = [rng.choice(LABELS) for _ in range(1600)]
    se = []
    for gold in (small_gold, big_gold):
        a = _noisy(gold, 0.15, rng)
        b = _noisy(gold, 0.15, rng)
        se.append(macro_f1_difference_se(gold, a, b))
    assert 0.35 < se[1] / se[0] < 0.7


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ParameterError):
        macro_f1_difference_se([], [], [])
    with pytest.raises(ParameterError):
        macro_f1_difference_se(["sales"], ["sales", "other"], ["sales"])
    with pytest.raises(ParameterError):
        macro_f1_difference_se(["sales"], ["sales"], ["sales"], n_resamples=1)
    with pytest.raises(ParameterError):
        select([], ["sales"])


def _candidates(n_rows: int, error_rates: dict[int, float]) -> tuple[list[str], list[Candidate]]:
    rng = random.Random(1)
    gold = [rng.choice(LABELS) for _ in range(n_rows)]
    out = []
    for c, rate in error_rates.items():
        pred = _noisy(gold, rate, rng)
        out.append(Candidate({"C": c}, macro_f1(gold, pred), pred))
    return gold, out


def test_without_an_incumbent_the_best_is_chosen() -> None:
    gold, cands = _candidates(500, {1: 0.30, 2: 0.20, 3: 0.25})
    sel = select(cands, gold)
    assert sel.chosen.params == {"C": 2}
    assert sel.incumbent is None
    assert sel.margin is None
    assert not sel.kept_incumbent
    # An incumbent the grid no longer holds counts as none.
    assert select(cands, gold, incumbent={"C": 99}).chosen.params == {"C": 2}


def test_an_incumbent_within_one_standard_error_is_kept() -> None:
    """Two settings that differ on 30 dev rows and are two rows apart in the net: the released one
    stays."""
    rng = random.Random(2)
    gold = [rng.choice(LABELS) for _ in range(1000)]
    base = _noisy(gold, 0.15, rng)
    better = list(base)
    fixed = broken = 0
    for i, (g, p) in enumerate(zip(gold, base, strict=True)):
        if g != p and fixed < 16:
            better[i], fixed = g, fixed + 1
        elif g == p and broken < 14:
            better[i], broken = next(x for x in LABELS if x != g), broken + 1
    cands = [Candidate({"C": 1}, macro_f1(gold, base), base), Candidate({"C": 2}, macro_f1(gold, better), better)]
    sel = select(cands, gold, incumbent={"C": 1})
    assert sel.best.params == {"C": 2}
    assert sel.chosen.params == {"C": 1}
    assert sel.kept_incumbent
    assert sel.margin is not None
    assert sel.standard_error is not None
    assert 0 < sel.margin <= sel.standard_error
    summary = sel.as_dict()
    assert summary["kept_incumbent"] is True
    assert summary["incumbent"] == {"C": 1}
    json.dumps(summary)


def test_an_incumbent_clearly_beaten_is_replaced() -> None:
    gold, cands = _candidates(1000, {1: 0.40, 2: 0.10})
    sel = select(cands, gold, incumbent={"C": 1})
    assert sel.chosen.params == {"C": 2}
    assert not sel.kept_incumbent
    assert sel.margin is not None
    assert sel.standard_error is not None
    assert sel.margin > sel.standard_error


def test_ties_follow_the_tie_break() -> None:
    gold = ["sales", "other", "marketing"]
    pred = list(gold)
    cands = [Candidate({"C": c}, 1.0, pred) for c in (4, 16)]
    assert select(cands, gold, tie_break=lambda c: -c.params["C"]).chosen.params == {"C": 4}
    assert select(cands, gold, tie_break=lambda c: c.params["C"]).chosen.params == {"C": 16}
    # An incumbent that ties with the best is kept.
    sel = select(cands, gold, incumbent={"C": 16}, tie_break=lambda c: -c.params["C"])
    assert sel.chosen.params == {"C": 16}
    assert sel.kept_incumbent


def test_shipped_card_records_how_its_setting_was_chosen() -> None:
    """The model card says which setting won on dev and whether the incumbent was kept, consistently."""
    card = json.loads((REPO / "models" / "model_card.json").read_text())
    grid = card["selection"]["grid"]
    chosen = {k: card["chosen"][k] for k in grid["best"]}
    if grid["kept_incumbent"]:
        assert chosen == grid["incumbent"]
        assert grid["margin"] <= grid["standard_error"]
    else:
        assert chosen == grid["best"]
    best = max(card["grid"], key=lambda r: r["dev_macro_f1"])
    assert best["dev_macro_f1"] == pytest.approx(grid["best_dev_macro_f1"])


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every n-th record of each corpus split (600 / 200 / 100), enough to train in seconds."""
    out = tmp_path_factory.mktemp("corpus")
    for split, n in (("train", 600), ("dev", 200), ("test", 100)):
        lines = (REPO / "data" / "corpus" / f"{split}.jsonl").read_text("utf-8").splitlines()
        (out / f"{split}.jsonl").write_text("\n".join(lines[:: max(1, len(lines) // n)][:n]) + "\n", "utf-8")
    return out


def test_training_applies_the_rule_to_the_grid_and_the_title_blend(small_corpus: Path, tmp_path: Path) -> None:
    """train() with and without an incumbent: the card records the choice, and it follows the rule."""
    from mktsales.training import FIXED, train

    grid = {"C": [4.0], "rule_scale": [0.1, 1.0], "head_features": [False], "drop_function_ngrams": [False]}
    free = train(small_corpus, tmp_path / "free", grid=grid).card
    sel = free["selection"]["grid"]
    assert sel["incumbent"] is None
    assert {k: free["chosen"][k] for k in grid} == sel["best"]
    assert free["chosen"]["title_blend"] == free["selection"]["title_blend"]["best"]["title_blend"]

    # The setting that lost on dev, released with a blend that also lost, as the incumbent.
    loser = min(free["grid"], key=lambda r: r["dev_macro_f1"])["params"]
    worst_blend = min(free["title_blends"], key=lambda b: b["dev_macro_f1"])["title_blend"]
    card = train(
        small_corpus, tmp_path / "inc", grid=grid, incumbent={**FIXED, **loser, "title_blend": worst_blend}
    ).card
    sel = card["selection"]["grid"]
    assert sel["incumbent"] == loser
    assert sel["best"] == free["selection"]["grid"]["best"]
    assert sel["margin"] == pytest.approx(sel["best_dev_macro_f1"] - sel["incumbent_dev_macro_f1"])
    kept = {k: card["chosen"][k] for k in grid} == loser
    assert kept == sel["kept_incumbent"] == (sel["margin"] <= sel["standard_error"])
    blend = card["selection"]["title_blend"]
    if kept:
        # The incumbent's blend competes only when its setting was kept.
        assert blend["incumbent"] == {"title_blend": worst_blend}
        assert (card["chosen"]["title_blend"] == worst_blend) == (
            blend["incumbent"] == blend["best"] or blend["kept_incumbent"]
        )
    else:
        assert blend["incumbent"] is None
    assert "Selection rule" in (tmp_path / "inc" / "MODEL_CARD.md").read_text("utf-8")

    # An incumbent trained with other fixed parameters does not count.
    other = train(
        small_corpus, tmp_path / "other", grid=grid, incumbent={**FIXED, **loser, "stemmed": not FIXED["stemmed"]}
    )
    assert other.card["selection"]["grid"]["incumbent"] is None
    assert other.sha256 == free["sha256"]
