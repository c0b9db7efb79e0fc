"""The sampling of benchmarks/learning_curve.py: stratified, seeded and nested shares of train."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO, load_benchmark
from mktsales.corpus import Record, load_corpus


@pytest.fixture(scope="module")
def curve() -> ModuleType:
    # The script imports its sibling benchmarks/accuracy.py, as it does when run from there.
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(REPO / "benchmarks"))
        return load_benchmark("learning_curve")


@pytest.fixture(scope="module")
def train(repo: Path) -> list[Record]:
    return load_corpus(repo / "data" / "corpus")["train"]


def _strata(records: list[Record]) -> Counter[tuple[str, str]]:
    return Counter((r.label, r.kind) for r in records)


def test_a_share_keeps_every_stratum_in_proportion(curve: ModuleType, train: list[Record]) -> None:
    full = _strata(train)
    share = curve.stratified_share(train, 0.25, seed=1)
    got = _strata(share)
    assert set(got) == set(full)
    for key, n in full.items():
        assert got[key] == -(-n // 4)  # ceil(n / 4)
    assert len({r.id for r in share}) == len(share)


def test_smaller_shares_are_nested_in_larger_ones_and_seeds_differ(curve: ModuleType, train: list[Record]) -> None:
    small = {r.id for r in curve.stratified_share(train, 0.125, seed=0)}
    large = {r.id for r in curve.stratified_share(train, 0.5, seed=0)}
    assert small < large
    assert small == {r.id for r in curve.stratified_share(train, 0.125, seed=0)}
    assert small != {r.id for r in curve.stratified_share(train, 0.125, seed=1)}
    assert {r.id for r in curve.stratified_share(train, 1.0, seed=2)} == {r.id for r in train}
