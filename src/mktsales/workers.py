"""Worker processes: classify batches in a process pool and bring the predictions back.

Used by :meth:`mktsales.Classifier.classify_many` with ``n_process > 1`` and by the ``label``
command's pool back end. Each worker holds one classifier for its whole life: on Linux the pool
forks, so the parent's loaded model is shared at no cost; elsewhere each worker loads (or
unpickles) it once.

Two things keep the parent's share small, and with it the gain of a second process large (the
parent runs on the same cores as the workers):

- workers send a batch back as one pickled ``bytes`` object, and the parent unpickles it in its own
  thread with the cyclic garbage collector paused (:func:`collector_paused`), instead of in the
  pool's result thread while the collector scans every new object;
- the parent's heap is frozen (:func:`gc.freeze`) while the pool lives, as the Python
  documentation recommends before forking: a full collection then skips the objects that existed
  before (the imported libraries and the model, more than 100,000 of them), which cost 40-60 ms a
  collection and, once forked, a copy-on-write page fault for every page it touched (measured).
  The heap is unfrozen when the pool closes; objects that became cyclic garbage meanwhile are
  collected then.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import pickle
import sys
import threading
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mktsales.api import Classifier
    from mktsales.prediction import Prediction

__all__: list[str] = []

_Pair = tuple[str, str | None]

_PAUSE_LOCK = threading.Lock()
_PAUSES = [0, False]  # batches being scored in this process; whether the first one disabled gc


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector while scoring a batch, then restore it.

    Only the outermost of concurrent batches (threads) switches it, and only when it was enabled,
    so a caller who disabled it keeps it disabled; collections put off run once it is enabled
    again. Reference counting still frees everything that is not in a cycle.
    """
    with _PAUSE_LOCK:
        if _PAUSES[0] == 0:
            _PAUSES[1] = gc.isenabled()
            gc.disable()
        _PAUSES[0] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES[0] -= 1
            if _PAUSES[0] == 0 and _PAUSES[1]:
                gc.enable()


_FREEZE_LOCK = threading.Lock()
_FREEZES = [0, False]  # pools alive in this process; whether the first one froze the heap


def freeze_heap() -> None:
    """Move every object alive now out of reach of the cyclic collector, before starting a pool.

    The first of concurrent pools freezes, and only when nothing is frozen yet: a caller's own
    :func:`gc.freeze` is left as it is. Pair every call with :func:`thaw_heap`.
    """
    with _FREEZE_LOCK:
        if _FREEZES[0] == 0:
            _FREEZES[1] = gc.get_freeze_count() == 0
            if _FREEZES[1]:
                gc.freeze()
        _FREEZES[0] += 1


def thaw_heap() -> None:
    """Undo :func:`freeze_heap` once the last pool is closed."""
    with _FREEZE_LOCK:
        _FREEZES[0] -= 1
        if _FREEZES[0] == 0 and _FREEZES[1]:
            gc.unfreeze()


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """:func:`freeze_heap` on entry, :func:`thaw_heap` on exit."""
    freeze_heap()
    try:
        yield
    finally:
        thaw_heap()


def pool_context() -> tuple[BaseContext, bool]:
    """The multiprocessing context to use, and whether it forks (Linux) rather than spawns."""
    forks = sys.platform.startswith("linux")
    return multiprocessing.get_context("fork" if forks else "spawn"), forks


def worker_argument(clf: Classifier, forks: bool) -> Classifier | None:
    """What to hand :func:`init_worker`: the classifier itself, or None when a spawned worker can
    load the default model itself (cheaper than unpickling it from the parent)."""
    from mktsales import api

    return None if (clf is api._DEFAULT.get("clf") and not forks) else clf


_WORKER: Classifier | None = None


def init_worker(clf: Classifier | None) -> None:
    """Pool initializer: keep the classifier (the default one when None) for the worker's life."""
    global _WORKER
    if clf is None:
        from mktsales.api import default_classifier

        clf = default_classifier()
    _WORKER = clf


def work(batch: list[_Pair]) -> list[Prediction]:
    """In a worker: classify one batch of ``(text, title)`` pairs."""
    assert _WORKER is not None
    return _WORKER._classify_batch(batch)


def work_pickled(batch: list[_Pair]) -> bytes:
    """In a worker: classify one batch and pickle the predictions for the parent to unpickle."""
    return pickle.dumps(work(batch), protocol=pickle.HIGHEST_PROTOCOL)


def predictions_in_order(clf: Classifier, batches: Iterator[list[_Pair]], n_process: int) -> Iterator[Prediction]:
    """Classify batches in ``n_process`` worker processes; yield the predictions in input order."""
    ctx, forks = pool_context()
    with heap_frozen(), ctx.Pool(n_process, initializer=init_worker, initargs=(worker_argument(clf, forks),)) as pool:
        for blob in pool.imap(work_pickled, batches, chunksize=1):
            with collector_paused():
                predictions: list[Prediction] = pickle.loads(blob)
            yield from predictions
