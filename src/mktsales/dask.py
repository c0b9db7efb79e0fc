"""Label postings on a Dask cluster: a Dask DataFrame partition by partition, or a file's chunks.

:func:`label` maps :func:`mktsales.batch.label_dataframe` over the partitions of a Dask
DataFrame. The classifier is set up once per worker process, not once per partition:

- with no ``classifier``, each worker loads the shipped model on first use and keeps it (the
  default model travels with the mktsales package, so every worker has it);
- with a ``classifier`` and a ``distributed`` client, the classifier is sent to every worker once
  (``Client.scatter(..., broadcast=True)``) and partitions refer to that copy, so a model file
  need not exist on the workers;
- with a ``classifier`` and no distributed client (the local threaded scheduler), partitions
  share the object in memory.

``mktsales label ... --scheduler ADDRESS`` uses the same mechanism for files: the command reads
the file where it runs, sends chunks of texts to the cluster and writes the results in order,
with the same errors file, resume and manifest as a local run (see :func:`mktsales.batch.label_file`).

Needs ``pip install 'mktsales[dask]'``.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from mktsales.backends import _batches, _label_pairs, _Pair, _Values
from mktsales.batch import DEFAULT_BATCH_SIZE, label_dataframe
from mktsales.exceptions import InputTypeError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from mktsales.api import Classifier

__all__ = ["label"]

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 10

_LOADS: Counter[str] = Counter()
_LOCK = threading.Lock()


class _Shipped:
    """A classifier sent to the workers; unpickled once per worker (counted, for the tests)."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def __getstate__(self) -> dict[str, Any]:
        return {"classifier": self.classifier}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.classifier = state["classifier"]
        with _LOCK:
            _LOADS["shipped"] += 1


def _worker_classifier(source: _Shipped | Classifier | None) -> Classifier:
    """The classifier a worker uses: the shipped one, the one given, or the default (loaded once)."""
    if isinstance(source, _Shipped):
        return source.classifier
    if source is not None:
        return source
    from mktsales import api

    with _LOCK:
        if not api._loaded():
            _LOADS["default"] += 1
        return api.default_classifier()


def _load_counts() -> dict[str, int]:
    """How many times this process set up a classifier, by kind (``default``, ``shipped``)."""
    return dict(_LOADS)


def _label_partition(
    pdf: pd.DataFrame,
    text_column: str,
    title_column: str | None,
    prefix: str,
    batch_size: int,
    source: _Shipped | Classifier | None,
) -> pd.DataFrame:
    clf = _worker_classifier(source) if len(pdf) else None
    return label_dataframe(
        pdf, text_column, title_column, prefix=prefix, classifier=clf, n_process=1, batch_size=batch_size
    )


def _current_client(client: Any) -> Any:
    if client is not None:
        return client
    try:
        import distributed
    except ModuleNotFoundError:  # pragma: no cover - distributed is part of the dask extra
        return None
    get: Any = distributed.default_client
    try:
        return get()
    except ValueError:  # no client: the local scheduler
        return None


def label(
    ddf: Any,
    text_column: str,
    title_column: str | None = None,
    *,
    prefix: str = "",
    classifier: Classifier | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    client: Any = None,
) -> Any:
    """Label a Dask DataFrame, partition by partition (lazy, like any Dask operation).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The postings.
    text_column : str
        Column with the text.
    title_column : str, optional
        Column with a separate job title.
    prefix : str, default=""
        Prefix of the added column names.
    classifier : Classifier, optional
        Defaults to the shipped model, loaded once by each worker.
    batch_size : int, default=64
        Texts per call inside a partition.
    client : distributed.Client, optional
        The client to send ``classifier`` through (default: the current one, if any).

    Returns
    -------
    dask.dataframe.DataFrame
        ``ddf``'s columns, then :data:`mktsales.batch.ADDED_COLUMNS`; computing it gives the same
        values as :func:`mktsales.batch.label_dataframe` on the whole data.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"text": ["Senior Brand Manager", "Realtor"]}), npartitions=2)
    >>> label(ddf, "text")["label"].compute().tolist()
    ['marketing', 'sales']
    """
    try:
        import dask.dataframe as dd
    except ModuleNotFoundError:  # pragma: no cover - depends on the installed extras
        raise ParameterError("mktsales.dask needs dask: pip install 'mktsales[dask]'") from None
    frame_type: Any = dd.DataFrame
    if not isinstance(ddf, frame_type):
        raise InputTypeError(f"ddf must be a dask DataFrame, got {type(ddf).__name__}")
    meta = label_dataframe(ddf._meta, text_column, title_column, prefix=prefix, batch_size=batch_size)
    source: _Shipped | Classifier | None = classifier
    if classifier is not None:
        from mktsales.api import Classifier

        if not isinstance(classifier, Classifier):
            raise InputTypeError(f"classifier must be a mktsales.Classifier, got {type(classifier).__name__}")
        active = _current_client(client)
        if active is not None:
            source = active.scatter(_Shipped(classifier), broadcast=True, hash=False)
    return ddf.map_partitions(
        _label_partition,
        text_column,
        title_column,
        prefix,
        batch_size,
        source,
        meta=meta,
    )


# -- the back end of `mktsales label --scheduler` -------------------------------------------------


def _label_values(pairs: list[_Pair], source: _Shipped) -> list[_Values]:
    return _label_pairs(_worker_classifier(source), pairs)


class _DaskBackend:
    """Sends batches of texts to a Dask cluster; results come back in submission order."""

    lookahead = 2

    def __init__(self, address: str, classifier: Classifier, batch_size: int) -> None:
        try:
            import distributed
        except ModuleNotFoundError:  # pragma: no cover - depends on the installed extras
            raise ParameterError("--scheduler needs dask: pip install 'mktsales[dask]'") from None
        client_type: Any = distributed.Client
        try:
            self.client: Any = client_type(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ParameterError(f"cannot connect to the Dask scheduler at {address!r}: {exc}") from None
        self.batch_size = batch_size
        self.shipped = self.client.scatter(_Shipped(classifier), broadcast=True, hash=False)

    def submit(self, pairs: list[_Pair]) -> list[Any]:
        return [
            self.client.submit(_label_values, batch, self.shipped, pure=False)
            for batch in _batches(pairs, self.batch_size)
        ]

    def collect(self, handle: list[Any]) -> list[_Values]:
        out: list[_Values] = []
        for future in handle:
            out.extend(future.result())
        return out

    def close(self) -> None:
        self.client.close()

    def abort(self) -> None:
        self.client.close()
