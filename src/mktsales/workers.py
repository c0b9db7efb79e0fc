"""Worker processes: classify batches in a process pool and bring the predictions back.

Used by :meth:`mktsales.Classifier.classify_many` with ``n_process > 1`` (where the calling
process classifies a share of the batches too, see :func:`predictions_in_order`) and by the
``label`` command's pool back end. Each worker holds one classifier for its whole life: on Linux
the pool forks, so the parent's loaded model is shared at no cost; elsewhere each worker loads (or
unpickles) it once.

Three things keep the parent's overhead small, and with it the gain of a second process large (the
parent runs on the same cores as the workers):

- workers send a batch back as one pickled ``bytes`` object, and the parent unpickles it in its own
  thread with the cyclic garbage collector paused (:func:`collector_paused`), instead of in the
  pool's result thread while the collector scans every new object;
- the parent's heap is frozen (:func:`gc.freeze`) while the pool lives, as the Python
  documentation recommends before forking: a full collection then skips the objects that existed
  before (the imported libraries and the model, more than 100,000 of them), which cost 40-60 ms a
  collection and, once forked, a copy-on-write page fault for every page it touched (measured).
  The heap is unfrozen when the pool closes; objects that became cyclic garbage meanwhile are
  collected then;
- on Linux the pool's pipes are widened (:func:`new_pool`), so that a batch goes to a worker, and
  its predictions come back, in one write, without waiting for the pool's threads in the parent.
"""

from __future__ import annotations

import collections
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


#: Pipe capacity asked for on Linux (the system's usual maximum for a user, 1 MiB). With the
#: default 64 KiB, a batch of 64 postings (about 140 KB) and its predictions (40-80 KB) each
#: took several writes, and between two writes the pool's threads in this process waited for
#: the interpreter lock that the classifying thread holds for up to 5 ms: the worker stood idle
#: meanwhile (the two cores idle 0.20 against 0.08 core-seconds a run of 3,000 postings, measured).
_PIPE_BYTES = 1 << 20


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
    pool = ctx.Pool(n_process, initializer=init_worker, initargs=(arg,))
    _widen_pipes(pool)
    return pool


def _widen_pipes(pool: Pool) -> None:
    """Ask for :data:`_PIPE_BYTES` of capacity on the pool's task and result pipes, where the
    system allows it (Linux); elsewhere, or when refused, they keep their size.

    The pipes are private attributes of :class:`multiprocessing.pool.Pool` (``_inqueue`` and
    ``_outqueue``); if a Python version names them otherwise, nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return
    import fcntl

    for queue in (getattr(pool, "_inqueue", None), getattr(pool, "_outqueue", None)):
        end = getattr(queue, "_writer", None)
        # Refused when the user's pipes hold too much already: the default size works, slower.
        with contextlib.suppress(AttributeError, OSError):
            fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]


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


#: Batches in flight for each worker (sent, not yet collected). With two, a worker ran dry while
#: this process finished a batch of its own before noticing a result had come back (gaps of up
#: to 40 ms between a worker's batches, measured); with three, its gaps fell to about 1 ms.
_AHEAD_PER_WORKER = 3
#: Batches this process may hold, its own and the workers', for each batch in flight, waiting for
#: an earlier batch to come back. It bounds the results held when a worker is slow.
_HELD_PER_AHEAD = 4
#: Largest unit into which the end of the input is cut, so that the processes finish together:
#: 16 texts of posting length take about 13 ms.
_TAIL_UNIT = 16


def predictions_in_order(clf: Classifier, batches: Iterator[list[_Pair]], n_process: int) -> Iterator[Prediction]:
    """Classify batches in ``n_process`` processes, this one included; yield the predictions in
    input order.

    The workers are kept supplied: each has :data:`_AHEAD_PER_WORKER` batches in flight, and this
    process classifies the next batch itself instead of waiting for a worker's result. Who takes
    which batch follows each process's speed, not a fixed share: in a run of 3,000 postings
    with fixed rounds (this process one batch, the worker the next), each waited for the other in
    turn, and the two cores were idle 0.41 core-seconds against 0.08 this way (measured; the
    speed-up over one process went from 1.50x to 1.75x in the same rounds).

    The input is read a few batches ahead (:data:`_AHEAD_PER_WORKER` per worker, plus two),
    and at most :data:`_HELD_PER_AHEAD` times the batches in flight wait for an earlier one, so
    memory stays bounded whatever the caller's pace (with ``Pool.imap``, a paused consumer let the
    workers run through the whole input and their results pile up in this process: 46 of 47
    batches after four seconds, measured). Once the input runs out, what is left is cut
    into units of at most :data:`_TAIL_UNIT` texts, shared the same way, so that no process sits
    idle while another classifies the tail.
    """
    n_workers = n_process - 1
    with heap_frozen(), new_pool(clf, n_workers) as pool:
        yield from _InOrder(clf, pool, batches, n_workers).predictions()


class _InOrder:
    """The scheduling of :func:`predictions_in_order`: a queue of units in input order, each either
    classified here (a list of predictions) or sent to the pool (a pending result)."""

    def __init__(self, clf: Classifier, pool: Pool, batches: Iterator[list[_Pair]], n_workers: int) -> None:
        self.clf, self.pool, self.batches = clf, pool, batches
        self.ahead = _AHEAD_PER_WORKER * n_workers
        self.held = _HELD_PER_AHEAD * self.ahead
        self.n_process = n_workers + 1
        self.unread: collections.deque[list[_Pair]] = collections.deque()  # read, not given out
        self.done_reading = False
        self.queue: collections.deque[list[Prediction] | AsyncResult[bytes]] = collections.deque()
        self.in_flight = 0

    def predictions(self) -> Iterator[Prediction]:
        while True:
            while self.queue and (isinstance(self.queue[0], list) or self.queue[0].ready()):
                yield from self._first()
            self._read()
            while self.unread and self.in_flight < self.ahead:
                self.queue.append(self.pool.apply_async(work_pickled, (self.unread.popleft(),)))
                self.in_flight += 1
            if self.unread and len(self.queue) < self.held:
                self.queue.append(self.clf._classify_batch(self.unread.popleft()))
            elif self.queue:
                yield from self._first()  # waits for it when it is a worker's
            else:
                return

    def _first(self) -> Iterator[Prediction]:
        """The predictions of the first unit in the queue, taken off it."""
        unit = self.queue.popleft()
        if isinstance(unit, list):
            yield from unit
            return
        self.in_flight -= 1
        blob = unit.get()
        with collector_paused():
            predictions: list[Prediction] = pickle.loads(blob)
        yield from predictions

    def _read(self) -> None:
        """Read batches until :attr:`ahead` plus two wait; at the end of the input, cut the ones
        left into small units (see :func:`tail_units`)."""
        while not self.done_reading and len(self.unread) < self.ahead + 2:
            batch = next(self.batches, None)
            if batch is None:
                self.done_reading = True
                left = tail_units(list(itertools.chain.from_iterable(self.unread)), self.n_process)
                self.unread = collections.deque(left)
            else:
                self.unread.append(batch)


def tail_units(items: list[_Pair], n_process: int) -> list[list[_Pair]]:
    """The last ``items`` of the input, in order, cut into units small enough to be shared by
    ``n_process`` processes: at most :data:`_TAIL_UNIT` items each, and at least about four units
    for each process when there are few items."""
    if not items:
        return []
    size = max(1, min(_TAIL_UNIT, -(-len(items) // (4 * n_process))))
    return [items[i : i + size] for i in range(0, len(items), size)]
