"""The leakage filters of benchmarks/accuracy.py: which public titles count as seen in the corpus."""

from __future__ import annotations

from types import ModuleType

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def accuracy() -> ModuleType:
    return load_benchmark("accuracy")


def test_a_title_is_contained_when_one_corpus_title_holds_all_its_words(accuracy: ModuleType) -> None:
    index = accuracy._title_index({"shoe clerk - department store", "route salesman", "press agent"})
    assert accuracy.contained_in_corpus_title("Shoe Clerk", index)
    assert accuracy.contained_in_corpus_title("CLERK, shoe", index)
    # Words spread over two corpus titles do not count: no single title holds both.
    assert not accuracy.contained_in_corpus_title("Route Agent", index)
    assert not accuracy.contained_in_corpus_title("Shoe Salesman", index)
    assert not accuracy.contained_in_corpus_title("", index)
    assert not accuracy.contained_in_corpus_title("Glass Blower", index)


def test_the_default_index_is_built_from_the_corpus_titles(accuracy: ModuleType) -> None:
    some = sorted(accuracy.CORPUS_TITLES)[0]
    assert accuracy.contained_in_corpus_title(some)
    assert not accuracy.contained_in_corpus_title("zzqx unheard-of occupation")
