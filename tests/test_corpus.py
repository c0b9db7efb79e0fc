"""The labelled corpus: size, balance, kinds, splits without leakage."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mktsales.corpus import KINDS, SPLITS, Record, load_corpus, near_duplicate_pairs


@pytest.fixture(scope="module")
def corpus(repo: Path) -> dict[str, list[Record]]:
    return load_corpus(repo / "data" / "corpus")


def _all(corpus: dict[str, list[Record]]) -> list[Record]:
    return [r for s in SPLITS for r in corpus[s]]


def test_size_and_class_balance(corpus: dict[str, list[Record]]) -> None:
    """At least 2,400 texts, at least 800 per class."""
    records = _all(corpus)
    assert len(records) >= 2400
    counts = Counter(r.label for r in records)
    for label in ("marketing", "sales", "other"):
        assert counts[label] >= 800, (label, counts[label])


def test_every_kind_in_every_class_and_split(corpus: dict[str, list[Record]]) -> None:
    """Titles, tasks and postings are present in every class of every split."""
    for split, records in corpus.items():
        cells = Counter((r.label, r.kind) for r in records)
        for label in ("marketing", "sales", "other"):
            for kind in KINDS:
                assert cells[(label, kind)] > 0, (split, label, kind)


def test_long_postings(corpus: dict[str, list[Record]]) -> None:
    """At least 400 postings of 120 words or more, some with HTML and some with bullets."""
    postings = [r for r in _all(corpus) if r.kind == "posting"]
    assert sum(len(r.text.split()) >= 120 for r in postings) >= 400
    assert sum("<li>" in r.text or "<p>" in r.text for r in postings) >= 50
    assert sum(any(b in r.text for b in "•▪·") for r in postings) >= 50


def test_hard_cases_have_notes(corpus: dict[str, list[Record]]) -> None:
    """Hard cases are present and each carries a one-line rationale."""
    noted = [r for r in _all(corpus) if r.note]
    assert len(noted) >= 150
    assert all("\n" not in r.note and len(r.note) > 10 for r in noted)
    texts = " ".join(r.text.lower() for r in noted)
    for topic in ("advertising", "telemarket", "demonstrat", "customer success", "sales operations", "agency"):
        assert topic in texts, topic


def test_ids_unique_and_no_text_repeated_across_splits(corpus: dict[str, list[Record]]) -> None:
    """Ids are unique; no text occurs in two splits."""
    records = _all(corpus)
    assert len({r.id for r in records}) == len(records)
    by_split = {s: {" ".join(r.text.lower().split()) for r in corpus[s]} for s in SPLITS}
    assert not by_split["train"] & by_split["dev"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["dev"] & by_split["test"]


def test_near_duplicates_across_splits_below_one_percent(corpus: dict[str, list[Record]]) -> None:
    """Texts with token Jaccard >= 0.8 to a text of another split are under 1% of dev and test."""
    train = corpus["train"]
    for split in ("dev", "test"):
        others = train + [r for s in SPLITS if s not in ("train", split) for r in corpus[s]]
        leaked = {a for a, _, _ in near_duplicate_pairs(corpus[split], others, threshold=0.8)}
        assert len(leaked) / len(corpus[split]) < 0.01, (split, len(leaked))


def test_split_proportions(corpus: dict[str, list[Record]]) -> None:
    """Train holds most of the data; dev and test are each 10-20%."""
    n = sum(len(v) for v in corpus.values())
    assert len(corpus["train"]) / n > 0.6
    for split in ("dev", "test"):
        assert 0.10 <= len(corpus[split]) / n <= 0.20


def test_corpus_does_not_copy_onet_task_statements(corpus: dict[str, list[Record]]) -> None:
    """No corpus task or posting has token Jaccard >= 0.7 with an O*NET task statement."""
    from conftest import shared_dataset
    from mktsales.public_data import read_onet

    onet = [Record(r.id, r.text, r.label, "task", "") for r in read_onet(shared_dataset("onet")) if r.view == "tasks"]
    mine = [r for r in _all(corpus) if r.kind != "title"]
    assert near_duplicate_pairs(mine, onet, threshold=0.7) == []
