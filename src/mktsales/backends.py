"""Labelling back ends: where the rows of a table are classified.

A back end takes lists of ``(text, title)`` pairs and gives back the values of the added columns
(:func:`mktsales.columns.prediction_values`) for each, in order: in this process
(:class:`_InlineBackend`), in one process pool for the whole run (:class:`_PoolBackend`) or on a
Dask cluster (:class:`mktsales.dask._DaskBackend`); :func:`_make_backend` chooses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from mktsales import workers
from mktsales.columns import prediction_values

if TYPE_CHECKING:
    from mktsales.api import Classifier

__all__: list[str] = []


_Pair = tuple[str, str | None]
_Values = tuple[Any, ...]


class _Backend(Protocol):
    lookahead: int

    def submit(self, pairs: list[_Pair]) -> Any: ...

    def collect(self, handle: Any) -> list[_Values]: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def _batches(pairs: list[_Pair], size: int) -> Iterator[list[_Pair]]:
    for i in range(0, len(pairs), size):
        yield pairs[i : i + size]


def _label_pairs(clf: Classifier, pairs: list[_Pair]) -> list[_Values]:
    """Classify ``(text, title)`` pairs in this process (batch by batch, through
    ``classify_many``) and keep the values of the added columns."""
    texts, titles = [t for t, _ in pairs], [ti for _, ti in pairs]
    return [prediction_values(p) for p in clf.classify_many(texts, titles=titles)]


class _InlineBackend:
    """Labels in this process, as the chunk is submitted."""

    lookahead = 0

    def __init__(self, clf: Classifier) -> None:
        self.clf = clf

    def submit(self, pairs: list[_Pair]) -> list[_Values]:
        return _label_pairs(self.clf, pairs)

    def collect(self, handle: list[_Values]) -> list[_Values]:
        return handle

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _work_values(batch: list[_Pair]) -> list[_Values]:
    """In a worker: classify a batch with :func:`mktsales.workers.work` and keep only the column values.

    Converting in the worker sends back about a tenth of the bytes of whole predictions and
    spares the parent process their unpickling (measured: 2 processes label about 13% more rows
    per second than when the parent converts).
    """
    return [prediction_values(p) for p in workers.work(batch)]


class _PoolBackend:
    """One process pool for the whole run; the classifier is set up once per worker.

    Workers come from :func:`mktsales.workers.new_pool` (the model is shared by fork, or
    loaded once per worker) and run :func:`mktsales.workers.work` on batches; the parent's heap
    is frozen while the pool lives (see :mod:`mktsales.workers`). Batches of a chunk are
    queued with ``apply_async`` and the next chunk is queued before the current one is collected,
    so workers never wait for the writer; at most two chunks are in flight, which bounds memory
    and keeps the chunk boundaries that writing and resuming need.
    """

    lookahead = 1

    def __init__(self, clf: Classifier, n_process: int, batch_size: int) -> None:
        workers.freeze_heap()
        try:
            self._pool = workers.new_pool(clf, n_process)
        except BaseException:
            workers.thaw_heap()
            raise
        self._frozen = True
        self.batch_size = batch_size

    def submit(self, pairs: list[_Pair]) -> list[Any]:
        return [self._pool.apply_async(_work_values, (b,)) for b in _batches(pairs, self.batch_size)]

    def collect(self, handle: list[Any]) -> list[_Values]:
        out: list[_Values] = []
        for result in handle:
            out.extend(result.get())
        return out

    def close(self) -> None:
        self._end(self._pool.close)

    def abort(self) -> None:
        self._end(self._pool.terminate)

    def _end(self, stop: Callable[[], None]) -> None:
        """Stop the pool (``close`` lets queued batches finish, ``terminate`` does not), wait for
        its workers, and thaw the heap once, even when both close and abort run."""
        try:
            stop()
            self._pool.join()
        finally:
            if self._frozen:
                self._frozen = False
                workers.thaw_heap()


def _make_backend(clf: Classifier, n_process: int, batch_size: int, scheduler: str | None) -> _Backend:
    if scheduler is not None:
        from mktsales.dask import _DaskBackend

        return _DaskBackend(scheduler, clf, batch_size)
    if n_process == 1:
        return _InlineBackend(clf)
    return _PoolBackend(clf, n_process, batch_size)
