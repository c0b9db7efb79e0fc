"""Worker processes: classify batches in a process pool and bring the predictions back.

Used by :meth:`mktsales.Classifier.classify_many` with ``n_process > 1`` (where the calling
process classifies a share of the batches too, see :func:`predictions_in_order`) and by the
``label`` command's pool back end. Each worker holds one classifier for its whole life: on Linux
the pool forks, so the parent's loaded model is shared at no cost; elsewhere each worker loads (or
unpickles) it once.

Two things keep the parent's overhead small, and with it the gain of a second process large (the
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
import itertools
import multiprocessing
import pickle
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mktsales.api import Classifier
    from mktsales.prediction import Prediction

__all__: list[str] = []

_Pair = tuple[str, str | None]


class _OutermostSwitch:
    """A process-wide setting of the garbage collector, switched by the outermost of nested or
    concurrent users (threads, a pool inside a run): the first to enter switches it, when
    ``allowed()`` says the caller's own state permits, and the last to leave switches it back."""

    def __init__(self, allowed: Callable[[], bool], on: Callable[[], None], off: Callable[[], None]) -> None:
        self._allowed, self._on, self._off = allowed, on, off
        self._lock = threading.Lock()
        self._depth = 0
        self._switched = False

    def enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._switched = self._allowed()
                if self._switched:
                    self._on()
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._switched:
                self._off()

    def __enter__(self) -> None:
        self.enter()

    def __exit__(self, *exc: object) -> None:
        self.leave()


# A caller who disabled the collector keeps it disabled.
_PAUSE = _OutermostSwitch(gc.isenabled, gc.disable, gc.enable)
# A caller's own gc.freeze() is left as it is.
_FREEZE = _OutermostSwitch(lambda: gc.get_freeze_count() == 0, gc.freeze, gc.unfreeze)


def collector_paused() -> contextlib.AbstractContextManager[None]:
    """Disable the cyclic garbage collector while scoring a batch, then restore it.

    Only the outermost of concurrent batches (threads) switches it, and only when it was enabled,
    so a caller who disabled it keeps it disabled; collections put off run once it is enabled
    again. Reference counting still frees everything that is not in a cycle.
    """
    return _PAUSE


def freeze_heap() -> None:
    """Move every object alive now out of reach of the cyclic collector, before starting a pool.

    The first of concurrent pools freezes, and only when nothing is frozen yet: a caller's own
    :func:`gc.freeze` is left as it is. Pair every call with :func:`thaw_heap`.
    """
    _FREEZE.enter()


def thaw_heap() -> None:
    """Undo :func:`freeze_heap` once the last pool is closed."""
    _FREEZE.leave()


def heap_frozen() -> contextlib.AbstractContextManager[None]:
    """:func:`freeze_heap` on entry, :func:`thaw_heap` on exit."""
    return _FREEZE


def new_pool(clf: Classifier, n_process: int) -> Pool:
    """A pool of ``n_process`` workers that each hold ``clf`` for their life (see :func:`work`).

    On Linux the pool forks and the workers share the parent's loaded model; elsewhere it spawns,
    and a worker loads the default model itself (cheaper than unpickling it from the parent) or
    unpickles ``clf`` once.
    """
    from mktsales import api

    forks = sys.platform.startswith("linux")
    ctx = multiprocessing.get_context("fork" if forks else "spawn")
    arg = None if (clf is api._DEFAULT.get("clf") and not forks) else clf
    return ctx.Pool(n_process, initializer=init_worker, initargs=(arg,))


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
    """Classify batches in ``n_process`` processes, this one included; yield the predictions in
    input order.

    The batches go in rounds of ``n_process``: this process classifies the first batch of each
    round itself and ``n_process - 1`` workers classify the others. A round's batches are handed to
    the workers before this process gives out the previous round's predictions, so the workers are
    not left waiting while the caller consumes, and the work in flight is bounded whatever the
    caller's pace: at most two rounds of input are read ahead and at most two rounds of results
    wait. (With ``Pool.imap`` and ``n_process`` workers, a paused consumer let the workers run
    through the whole input and their results pile up in this process: 46 of 47 batches after
    four seconds, measured.) The speed is that of the imap design (paired runs of both on 3,000
    postings: 0.99x), with one process fewer.

    The last round (the one with fewer batches than processes, or a short last batch) is cut into
    ``n_process`` parts of equal size, so that no process sits idle while another classifies the
    tail: with 3,000 texts in batches of 64, the last round was one batch of 56 that this process
    classified alone.
    """
    with heap_frozen(), new_pool(clf, n_process - 1) as pool:
        previous: tuple[list[Prediction], list[AsyncResult[bytes]]] | None = None
        while rnd := list(itertools.islice(batches, n_process)):
            if len(rnd) < n_process or len(rnd[-1]) < len(rnd[0]):
                rnd = _even_split(rnd, n_process)
            sent = [pool.apply_async(work_pickled, (batch,)) for batch in rnd[1:]]
            if previous is not None:
                yield from _round_predictions(*previous)
            previous = (clf._classify_batch(rnd[0]), sent)
        if previous is not None:
            yield from _round_predictions(*previous)


def _even_split(batches: list[list[_Pair]], parts: int) -> list[list[_Pair]]:
    """The items of ``batches``, in order, cut into at most ``parts`` lists whose sizes differ by
    at most one (the longer ones first)."""
    items = list(itertools.chain.from_iterable(batches))
    size, extra = divmod(len(items), parts)
    out = []
    start = 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append(items[start:end])
        start = end
    return out


def _round_predictions(own: list[Prediction], sent: list[AsyncResult[bytes]]) -> Iterator[Prediction]:
    """The predictions of one round: this process's batch, then each worker's, unpickled with the
    collector paused."""
    yield from own
    for result in sent:
        blob = result.get()
        with collector_paused():
            predictions: list[Prediction] = pickle.loads(blob)
        yield from predictions
