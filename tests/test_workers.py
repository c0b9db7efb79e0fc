"""Worker processes: predictions come back whole and in order, and the garbage collector's state is
restored whatever happens."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Iterator
from multiprocessing.pool import Pool

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _texts(n: int) -> list[str]:
    return [f"{TEXTS[i % len(TEXTS)]} ({i})" for i in range(n)]


def test_two_processes_give_the_same_predictions_with_titles_in_order() -> None:
    """Predictions unpickled from the workers equal those computed here, titles included."""
    titles = ["Sales Rep", None, "Accountant", None, "Buyer", None]
    here = [classify(t, title=ti) for t, ti in zip(TEXTS, titles, strict=True)]
    assert list(classify_many(TEXTS * 3, titles=titles * 3, n_process=2, batch_size=2)) == here * 3


@pytest.mark.parametrize(
    ("n_process", "copies", "batch_size"), [(2, 3, 4), (3, 3, 4), (3, 1, 4), (2, 1, 1), (2, 40, 1), (2, 40, 7)]
)
def test_inputs_of_any_size_keep_the_input_order(n_process: int, copies: int, batch_size: int) -> None:
    """Whatever the input's length, the batch size and the number of processes (a single batch,
    batches of one, more batches than are ever in flight), the predictions come back whole and in
    input order."""
    texts = _texts(len(TEXTS) * copies)
    here = [classify(t) for t in texts]
    assert list(classify_many(texts, n_process=n_process, batch_size=batch_size)) == here


@settings(max_examples=15, deadline=None)
@given(
    n_texts=st.integers(min_value=0, max_value=120),
    batch_size=st.integers(min_value=1, max_value=40),
    n_process=st.integers(min_value=2, max_value=3),
)
def test_any_split_gives_the_one_process_results_in_order(n_texts: int, batch_size: int, n_process: int) -> None:
    """For any input length, batch size and number of processes, the predictions equal those of
    one process, in the same order (whichever process took each batch or tail unit)."""
    texts = _texts(n_texts)
    one = list(classify_many(texts, batch_size=batch_size))
    assert list(classify_many(texts, n_process=n_process, batch_size=batch_size)) == one


def _count_here(monkeypatch: pytest.MonkeyPatch, clf: Classifier, delay: float = 0.0) -> list[int]:
    """Patch ``clf`` so that the sizes of the batches classified in this process (not in a forked
    worker, which inherits the patch) go to the returned list, each after ``delay`` seconds."""
    sizes: list[int] = []
    real_batch, parent = clf._classify_batch, os.getpid()

    def counting_batch(batch: list[tuple[str, str | None]]) -> list[object]:
        if os.getpid() == parent:
            sizes.append(len(batch))
            time.sleep(delay)
        return real_batch(batch)

    monkeypatch.setattr(clf, "_classify_batch", counting_batch)
    return sizes


def test_this_process_and_one_worker_share_the_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """With n_process=2 the pool has one worker; it takes the first batches, and this process
    classifies batches too instead of only waiting."""
    clf = default_classifier()
    started: list[int] = []
    real_pool = workers.new_pool

    def counting_pool(c: Classifier, n: int) -> Pool:
        started.append(n)
        return real_pool(c, n)

    monkeypatch.setattr(workers, "new_pool", counting_pool)
    here = _count_here(monkeypatch, clf)
    texts = _texts(400)
    out = list(clf.classify_many(texts, n_process=2, batch_size=8))
    assert started == [1]
    assert 0 < sum(here) <= len(texts) - workers._AHEAD_PER_WORKER * 8
    monkeypatch.undo()
    assert out == [classify(t) for t in texts]


_REAL_WORK_PICKLED = workers.work_pickled


def _slow_work_pickled(batch: list[tuple[str, str | None]]) -> bytes:
    time.sleep(0.2)
    return _REAL_WORK_PICKLED(batch)


def test_a_slow_worker_leaves_the_batches_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shares follow the speeds: when the worker is slow, this process classifies most of
    the input rather than waiting for it, and the order is kept. (It still waits once it holds
    _HELD_PER_AHEAD times the batches in flight, which bounds memory: with a worker that sleeps
    0.2 s a batch, it took three quarters.)"""
    clf = default_classifier()
    monkeypatch.setattr(workers, "work_pickled", _slow_work_pickled)
    here = _count_here(monkeypatch, clf)
    texts = _texts(320)
    out = list(clf.classify_many(texts, n_process=2, batch_size=8))
    assert sum(here) > 0.6 * len(texts)
    monkeypatch.undo()
    assert out == [classify(t) for t in texts]


def test_a_slow_caller_leaves_the_batches_to_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """When this process is the slow one, the worker classifies most of the input."""
    clf = default_classifier()
    here = _count_here(monkeypatch, clf, delay=0.05)
    texts = _texts(320)
    out = list(clf.classify_many(texts, n_process=2, batch_size=8))
    assert sum(here) < 0.4 * len(texts)
    monkeypatch.undo()
    assert out == [classify(t) for t in texts]


@pytest.mark.parametrize(("n_items", "n_process"), [(0, 2), (1, 2), (5, 2), (31, 2), (200, 2), (1000, 3), (7, 3)])
def test_the_end_of_the_input_is_cut_into_small_units(n_items: int, n_process: int) -> None:
    """The tail is cut, in order, into units of at most _TAIL_UNIT items, about four a process
    when it is short, so that the processes finish together."""
    items = [(f"text {i}", None) for i in range(n_items)]
    units = workers.tail_units(items, n_process)
    assert [x for u in units for x in u] == items
    assert all(0 < len(u) <= workers._TAIL_UNIT for u in units)
    assert len(units) >= min(n_items, 4 * n_process)


def test_the_last_batches_are_shared_in_small_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 64 are classified whole until the input runs out; then this process takes units
    of at most _TAIL_UNIT texts."""
    clf = default_classifier()
    here = _count_here(monkeypatch, clf)
    texts = _texts(64 * 12 + 5)
    out = list(clf.classify_many(texts, n_process=2, batch_size=64))
    assert here[0] == 64
    assert 0 < here[-1] <= workers._TAIL_UNIT
    monkeypatch.undo()
    assert out == [classify(t) for t in texts]


def test_input_is_read_as_results_are_consumed() -> None:
    """While the consumer pauses, the workers do not run through the iterable and pile up results:
    at most the batches waiting to be given out and those held are read ahead."""
    read = 0

    def texts() -> Iterator[str]:
        nonlocal read
        for i in range(10_000):
            read += 1
            yield f"Close deals in the north territory ({i})."

    ahead = workers._AHEAD_PER_WORKER
    limit = (ahead + 2 + workers._HELD_PER_AHEAD * ahead) * 8
    stream = classify_many(texts(), n_process=2, batch_size=8)
    try:
        next(stream)
        time.sleep(0.5)  # time for workers to run ahead, if they could
        assert read <= limit
    finally:
        stream.close()


def _failing_work(batch: list[tuple[str, str | None]]) -> bytes:
    raise RuntimeError("worker failed")


def test_a_workers_error_reaches_the_caller_and_the_heap_thaws(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in a worker is raised in the caller, and the heap is thawed after it."""
    monkeypatch.setattr(workers, "work_pickled", _failing_work)
    with pytest.raises(RuntimeError, match="worker failed"):
        list(classify_many(_texts(50), n_process=2, batch_size=8))
    assert gc.get_freeze_count() == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are set on Linux only")
def test_the_pools_pipes_are_widened() -> None:
    """On Linux the pool's task and result pipes hold _PIPE_BYTES, so a worker's batch of
    postings or of predictions goes in one write."""
    import fcntl

    with open("/proc/sys/fs/pipe-max-size") as fh:
        if int(fh.read()) < workers._PIPE_BYTES:
            pytest.skip("this system caps pipes below _PIPE_BYTES")
    pool = workers.new_pool(default_classifier(), 1)
    try:
        for queue in (pool._inqueue, pool._outqueue):  # type: ignore[attr-defined]
            assert fcntl.fcntl(queue._writer.fileno(), fcntl.F_GETPIPE_SZ) == workers._PIPE_BYTES
    finally:
        pool.terminate()
        pool.join()


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
