"""Worker processes: predictions come back whole and in order, and the garbage collector's state is
restored whatever happens."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from multiprocessing.pool import Pool

import pandas as pd
import pytest

from mktsales import classify, classify_many, label_dataframe, workers
from mktsales.api import Classifier, default_classifier

TEXTS = [
    "Prospect new accounts by phone and close deals before quarter end.",
    "Own the brand platform, the five-year positioning and the media plan.",
    "Reconcile supplier invoices and run the month-end close.",
    "Realtor",
    "",
    "Responsable marketing digital: SEO, réseaux sociaux et contenus.",
]


@pytest.fixture(autouse=True)
def _nothing_frozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_two_processes_give_the_same_predictions_with_titles_in_order() -> None:
    """Predictions unpickled from the workers equal those computed here, titles included."""
    titles = ["Sales Rep", None, "Accountant", None, "Buyer", None]
    here = [classify(t, title=ti) for t, ti in zip(TEXTS, titles, strict=True)]
    assert list(classify_many(TEXTS * 3, titles=titles * 3, n_process=2, batch_size=2)) == here * 3


@pytest.mark.parametrize(("n_process", "copies"), [(2, 3), (3, 3), (3, 1)])
def test_rounds_of_any_size_keep_the_input_order(n_process: int, copies: int) -> None:
    """Batches go in rounds of n_process (this process takes one, the workers the rest); a last
    round shorter than n_process, or a single batch, still comes back whole and in order."""
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * copies)]
    here = [classify(t) for t in texts]
    assert list(classify_many(texts, n_process=n_process, batch_size=4)) == here


def test_the_calling_process_classifies_one_batch_of_each_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """With n_process=2 the pool has one worker and this process classifies every other batch."""
    sizes: list[int] = []
    started: list[int] = []
    clf = default_classifier()
    real_batch, real_pool = clf._classify_batch, workers.new_pool

    def counting_batch(batch: list[tuple[str, str | None]]) -> list[object]:
        sizes.append(len(batch))
        return real_batch(batch)

    def counting_pool(c: Classifier, n: int) -> Pool:
        started.append(n)
        return real_pool(c, n)

    monkeypatch.setattr(clf, "_classify_batch", counting_batch)
    monkeypatch.setattr(workers, "new_pool", counting_pool)
    # Forked workers inherit the patched method too, but their calls happen in their own process
    # and never reach this list.
    out = list(clf.classify_many(TEXTS * 2, n_process=2, batch_size=2))
    assert len(out) == len(TEXTS) * 2
    assert started == [1]
    assert sizes == [2, 2, 2]  # batches 1, 3 and 5 of 6


@pytest.mark.parametrize(
    ("n_texts", "n_process", "parent_sizes"),
    [
        (5, 2, [3]),  # batches 4 + 1: a short round, cut 3 + 2
        (9, 2, [4, 1]),  # 4 + 4, then a round of one batch of 1: this process takes it
        (14, 2, [4, 3]),  # 4 + 4, then 4 + 2 cut 3 + 3
        (16, 2, [4, 4]),  # full rounds only: nothing is cut
        (10, 3, [4]),  # 4 + 4 + 2 cut 4 + 3 + 3
        (13, 3, [4, 1]),  # 4 + 4 + 4, then a round of one batch of 1
    ],
)
def test_the_last_round_is_cut_evenly_between_the_processes(
    monkeypatch: pytest.MonkeyPatch, n_texts: int, n_process: int, parent_sizes: list[int]
) -> None:
    """The tail of the input is shared: the last round's texts are cut into n_process parts of
    equal size (within one), this process taking the first, and the order is kept."""
    sizes: list[int] = []
    clf = default_classifier()
    real_batch = clf._classify_batch

    def counting_batch(batch: list[tuple[str, str | None]]) -> list[object]:
        sizes.append(len(batch))
        return real_batch(batch)

    monkeypatch.setattr(clf, "_classify_batch", counting_batch)
    texts = [f"{TEXTS[i % len(TEXTS)]} ({i})" for i in range(n_texts)]
    out = list(clf.classify_many(texts, n_process=n_process, batch_size=4))
    assert sizes == parent_sizes
    monkeypatch.undo()
    assert out == [classify(t) for t in texts]


def test_input_is_read_as_results_are_consumed() -> None:
    """The pool holds at most two rounds of input: while the consumer pauses, the workers do not
    run ahead through the iterable and pile up results."""
    read = 0

    def texts() -> Iterator[str]:
        nonlocal read
        for i in range(10_000):
            read += 1
            yield f"Close deals in the north territory ({i})."

    stream = classify_many(texts(), n_process=2, batch_size=8)
    try:
        next(stream)
        time.sleep(0.5)  # time for workers to run ahead, if they could
        assert read <= 4 * 8
    finally:
        stream.close()


@pytest.mark.parametrize("n_process", [1, 2])
def test_heap_is_frozen_while_the_pool_lives_and_thawed_after(n_process: int) -> None:
    """The caller's heap is frozen while texts are classified (in this process too), and unfrozen
    when the generator ends."""
    seen = []
    for _ in classify_many(TEXTS, n_process=n_process, batch_size=2):
        seen.append(gc.get_freeze_count())
    assert min(seen) > 0
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


@pytest.mark.parametrize("n_process", [1, 2])
def test_heap_is_thawed_when_the_caller_stops_early(n_process: int) -> None:
    """Closing the generator half-way (a break, an exception in the caller) thaws the heap too."""
    stream = classify_many(TEXTS * 4, n_process=n_process, batch_size=2)
    next(stream)
    assert gc.get_freeze_count() > 0
    stream.close()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_callers_own_freeze_is_left_alone(n_process: int) -> None:
    """When the caller froze objects before, they stay frozen after the call."""
    gc.freeze()
    before = gc.get_freeze_count()
    assert before > 0
    list(classify_many(TEXTS, n_process=n_process, batch_size=2))
    assert gc.get_freeze_count() >= before


def test_nested_freezes_thaw_with_the_last() -> None:
    """Two pools at once (threads, or label_dataframe inside a run): the heap thaws once both close."""
    workers.freeze_heap()
    workers.freeze_heap()
    workers.thaw_heap()
    assert gc.get_freeze_count() > 0
    workers.thaw_heap()
    assert gc.get_freeze_count() == 0


def _failing_batch(batch: list[tuple[str, str | None]]) -> list[object]:
    raise RuntimeError("worker failed")


def test_label_dataframe_pool_thaws_the_heap_also_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The labelling pool back end thaws the heap when it closes, and when a worker's batch fails."""
    df = pd.DataFrame({"description": TEXTS})
    out = label_dataframe(df, text_column="description", n_process=2)
    assert list(out["label"][:3]) == ["sales", "marketing", "other"]
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr("mktsales.backends._work_values", _failing_batch)
    with pytest.raises(RuntimeError, match="worker failed"):
        label_dataframe(df, text_column="description", n_process=2)
    assert gc.get_freeze_count() == 0
