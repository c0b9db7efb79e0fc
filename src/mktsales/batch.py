"""Label tables of postings: a pandas DataFrame in memory, or a file of any size on disk.

:func:`label_dataframe` adds the label columns to a DataFrame. :func:`label_file` streams a CSV,
TSV, JSONL or Parquet file through the classifier chunk by chunk, so memory stays bounded, and
writes every input row, in input order, with the added columns (:data:`ADDED_COLUMNS`):

``label``
    ``marketing``, ``sales`` or ``other``; empty when the row could not be labelled.
``marketing``, ``sales``, ``other``, ``confidence``
    Calibrated probabilities and the top one.
``uncertain``
    True when a person should check the label.
``reason``
    Why it is uncertain (see :data:`mktsales.prediction.REASONS`), or, for a row that could not
    be labelled, what is wrong with it (see :data:`ROW_ERRORS`).
``evidence``
    The top rule ids of each dimension, for example
    ``"objective: sal.objective.sell, sal.objective.close-deal; horizon: sal.horizon.quarterly"``.

Rows that cannot be labelled are kept, with an empty label, and listed in an errors file with
their row number; records that cannot even be split into columns are only in the errors file.
A file run writes through a run directory beside the output (``.<output name>.mktsales-run``),
one part per chunk, and renames the finished output into place at the end: a killed run never
leaves a half file under the output name, and ``resume=True`` continues from the last finished
chunk with output identical to an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from mktsales.dimensions import LABELS, Dimension
from mktsales.exceptions import InputTypeError, MktSalesError, ParameterError
from mktsales.tables import (
    BadRecord,
    ParquetWriter,
    Row,
    TableReader,
    format_of,
    open_reader,
    open_writer,
    replace_surrogates,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from mktsales.api import Classifier
    from mktsales.prediction import Prediction

__all__ = [
    "ADDED_COLUMNS",
    "ROW_ERRORS",
    "LabelSummary",
    "Progress",
    "RowProblem",
    "added_columns",
    "evidence_summary",
    "label_dataframe",
    "label_file",
    "prediction_values",
    "row_input",
]

#: Columns added to every row, in order (each prefixed by ``prefix``).
ADDED_COLUMNS: tuple[str, ...] = (
    "label",
    "marketing",
    "sales",
    "other",
    "confidence",
    "uncertain",
    "reason",
    "evidence",
)
#: Why a row or record was not labelled (the ``reason`` of the errors file and of the output).
ROW_ERRORS: tuple[str, ...] = (
    "missing_text",  # no text and no title
    "text_not_string",  # the text cell holds a number, a list...
    "title_not_string",  # the same for the title cell
    "undecodable_bytes",  # bytes that are not valid in the input encoding
    "malformed_csv",  # a CSV/TSV record that cannot be split into the header's columns (errors file only)
    "invalid_json",  # a JSONL line that is not a JSON object (errors file only)
)
#: Rule ids shown per dimension in the ``evidence`` column: enough to see why, short enough to read.
EVIDENCE_RULES_PER_DIMENSION = 3
#: Input records per chunk: the unit of writing, progress and resumption. At a few hundred
#: postings per second and core, one chunk is a few seconds of work, and two chunks of postings
#: with their predictions take a few tens of MB.
DEFAULT_CHUNK_SIZE = 1000
#: Texts per task handed to a worker process: large enough that inter-process overhead is a small
#: share (a 2,000-character posting takes a few ms), small enough to balance two workers.
DEFAULT_BATCH_SIZE = 64

_RUN_SUFFIX = ".mktsales-run"
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_TMP_SUFFIX = ".mktsales-tmp"


# -- one row ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row cannot be labelled.

    Attributes
    ----------
    code : str
        One of :data:`ROW_ERRORS`.
    detail : str
        A sentence naming the column and what it holds.
    """

    code: str
    detail: str


def _as_text(value: Any, column: str, code: str) -> str | RowProblem | None:
    if value is None:
        return None
    if isinstance(value, str):
        if _SURROGATE_RE.search(value):
            return RowProblem("undecodable_bytes", f"column {column!r} holds bytes that are not valid text")
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return RowProblem("undecodable_bytes", f"column {column!r} holds bytes that are not valid UTF-8")
    return RowProblem(code, f"column {column!r} holds a {type(value).__name__}, not a string")


def row_input(
    text: Any, title: Any = None, *, text_column: str = "text", title_column: str | None = None
) -> tuple[str, str | None] | RowProblem:
    """Return the ``(text, title)`` to classify for one row, or why it cannot be labelled.

    Missing values (None, NaN, empty or blank strings) are allowed in one of the two cells: a row
    with a title and no text is labelled from its title. Bytes are decoded as UTF-8.

    Parameters
    ----------
    text, title : object
        The cells of the row.
    text_column, title_column : str
        Column names, for the message.

    Returns
    -------
    tuple of (str, str or None), or RowProblem

    Examples
    --------
    >>> row_input("Close deals", None)
    ('Close deals', None)
    >>> row_input(None, "Realtor")
    ('', 'Realtor')
    >>> row_input(float("nan"), None, text_column="description").code
    'missing_text'
    >>> row_input(42, None).code
    'text_not_string'
    """
    t = _as_text(text, text_column, "text_not_string")
    if isinstance(t, RowProblem):
        return t
    ti = _as_text(title, title_column or "title", "title_not_string")
    if isinstance(ti, RowProblem):
        return ti
    if ti is not None and not ti.strip():
        ti = None
    if t is None or not t.strip():
        if ti is None:
            also = f" and so is {title_column!r}" if title_column else " and there is no title column"
            return RowProblem("missing_text", f"column {text_column!r} is empty{also}")
        return "", ti
    return t, ti


def evidence_summary(prediction: Prediction, per_dimension: int = EVIDENCE_RULES_PER_DIMENSION) -> str:
    """Summarise the evidence: the top rule ids of each dimension, by total weight.

    Examples
    --------
    >>> from mktsales import classify
    >>> evidence_summary(classify("Close deals and hit the quarterly quota")).split("; ")[0]
    'objective: ...'
    """
    parts = []
    for dim in Dimension:
        weights: dict[str, float] = {}
        for e in prediction.evidence:
            if e.dimension == dim.value:
                weights[e.rule_id] = weights.get(e.rule_id, 0.0) + e.weight
        if weights:
            top = sorted(weights, key=lambda r: -weights[r])[:per_dimension]  # stable: ties keep text order
            parts.append(f"{dim.value}: {', '.join(top)}")
    return "; ".join(parts)


def prediction_values(prediction: Prediction) -> tuple[Any, ...]:
    """The values of :data:`ADDED_COLUMNS` for one prediction."""
    s = prediction.scores
    return (
        prediction.label,
        s["marketing"],
        s["sales"],
        s["other"],
        prediction.confidence,
        prediction.uncertain,
        prediction.reason,
        evidence_summary(prediction),
    )


def _problem_values(problem: RowProblem) -> tuple[Any, ...]:
    return (None, None, None, None, None, None, problem.code, None)


def added_columns(prefix: str = "") -> list[str]:
    """Names of the added columns with a prefix.

    Examples
    --------
    >>> added_columns("mkt_")[:2]
    ['mkt_label', 'mkt_marketing']
    """
    if not isinstance(prefix, str):
        raise InputTypeError(f"prefix must be a str, got {type(prefix).__name__}")
    return [prefix + c for c in ADDED_COLUMNS]


def _check_clash(columns: Iterable[str], prefix: str) -> None:
    clash = [c for c in added_columns(prefix) if c in set(columns)]
    if clash:
        hint = "mktsales_" if not prefix else prefix + "mktsales_"
        raise ParameterError(
            f"the input already has column(s) {clash}, which labelling adds; choose a prefix for the added "
            f"columns (--prefix / prefix=), for example prefix={hint!r}"
        )


def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_processes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0 or value < -1:
        raise ParameterError(f"n_process must be a positive int or -1 (all cores), got {value!r}")
    return multiprocessing.cpu_count() if value == -1 else value


# -- labelling back ends ------------------------------------------------------------------------

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


class _InlineBackend:
    """Labels in this process, as the chunk is submitted."""

    lookahead = 0

    def __init__(self, clf: Classifier) -> None:
        self.clf = clf

    def submit(self, pairs: list[_Pair]) -> list[_Values]:
        classify = self.clf.classify
        return [prediction_values(classify(t, title=ti)) for t, ti in pairs]

    def collect(self, handle: list[_Values]) -> list[_Values]:
        return handle

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _work_values(batch: list[_Pair]) -> list[_Values]:
    """In a worker: classify a batch with :func:`mktsales.api._work` and keep only the column values.

    Converting in the worker sends back about a tenth of the bytes of whole predictions and
    spares the parent process their unpickling (measured: 2 processes label about 13% more rows
    per second than when the parent converts).
    """
    from mktsales import api

    return [prediction_values(p) for p in api._work(batch)]


class _PoolBackend:
    """One process pool for the whole run; the classifier is set up once per worker.

    Workers are set up by :func:`mktsales.api._init_worker` (the model is shared by fork, or
    loaded once per worker) and run :func:`mktsales.api._work` on batches. Batches of a chunk are
    queued with ``apply_async`` and the next chunk is queued before the current one is collected,
    so workers never wait for the writer; at most two chunks are in flight, which bounds memory
    and keeps the chunk boundaries that writing and resuming need.
    """

    lookahead = 1

    def __init__(self, clf: Classifier, n_process: int, batch_size: int) -> None:
        from mktsales import api

        # fork shares the loaded model with the workers for free; elsewhere each worker unpickles
        # it once (or loads the default model itself), as in mktsales.api.classify_many.
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        ctx = multiprocessing.get_context(method)
        arg = None if (clf is api._DEFAULT.get("clf") and method != "fork") else clf
        self._pool = ctx.Pool(n_process, initializer=api._init_worker, initargs=(arg,))
        self.batch_size = batch_size

    def submit(self, pairs: list[_Pair]) -> list[Any]:
        return [self._pool.apply_async(_work_values, (b,)) for b in _batches(pairs, self.batch_size)]

    def collect(self, handle: list[Any]) -> list[_Values]:
        out: list[_Values] = []
        for result in handle:
            out.extend(result.get())
        return out

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def abort(self) -> None:
        self._pool.terminate()
        self._pool.join()


def _make_backend(clf: Classifier, n_process: int, batch_size: int, scheduler: str | None) -> _Backend:
    if scheduler is not None:
        from mktsales.dask import _DaskBackend

        return _DaskBackend(scheduler, clf, batch_size)
    if n_process == 1:
        return _InlineBackend(clf)
    return _PoolBackend(clf, n_process, batch_size)


def _resolve_classifier(classifier: Classifier | None) -> Classifier:
    from mktsales.api import _resolve

    return _resolve(classifier)


# -- DataFrames ---------------------------------------------------------------------------------


def _pandas() -> Any:
    try:
        import pandas
    except ModuleNotFoundError:  # pragma: no cover - depends on the installed extras
        raise ParameterError("label_dataframe needs pandas: pip install 'mktsales[pandas]'") from None
    return pandas


#: pandas dtypes of the added columns: nullable, so a row that was not labelled has missing values.
_DTYPES = ("string", "float64", "float64", "float64", "float64", "boolean", "string", "string")


def _column_values(df: pd.DataFrame, column: str) -> list[Any]:
    series = df[column]
    missing = series.isna().tolist()
    return [None if m else v for v, m in zip(series.tolist(), missing, strict=True)]


def label_dataframe(
    df: pd.DataFrame,
    text_column: str,
    title_column: str | None = None,
    *,
    prefix: str = "",
    classifier: Classifier | None = None,
    n_process: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> pd.DataFrame:
    """Label every row of a DataFrame; return a new DataFrame with the added columns.

    Parameters
    ----------
    df : pandas.DataFrame
        The postings; not modified.
    text_column : str
        Column with the text (description, task...).
    title_column : str, optional
        Column with a separate job title (weighted apart from the body).
    prefix : str, default=""
        Prefix of the added column names (needed when ``df`` already has a ``label`` column...).
    classifier : Classifier, optional
        Defaults to the shipped model and rules.
    n_process : int, default=1
        Worker processes; -1 uses every core.
    batch_size : int, default=64
        Texts per task handed to a worker.

    Returns
    -------
    pandas.DataFrame
        ``df``'s columns and index, then :data:`ADDED_COLUMNS` (``string``, ``float64`` and
        ``boolean`` dtypes). A row that cannot be labelled (see :func:`row_input`) has a missing
        label and probabilities, and its problem code in ``reason``.

    Raises
    ------
    InputTypeError
        When ``df`` is not a DataFrame.
    ParameterError
        When a column is missing or duplicated, or an added column would overwrite one of ``df``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"title": ["Senior Brand Manager", "Realtor", None],
    ...                    "text": ["", "", ""]})
    >>> out = label_dataframe(df, "text", title_column="title")
    >>> out["label"].tolist()
    ['marketing', 'sales', <NA>]
    >>> out["reason"].iloc[2]
    'missing_text'
    """
    pandas = _pandas()
    if not isinstance(df, pandas.DataFrame):
        raise InputTypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    batch_size = _check_positive("batch_size", batch_size)
    n_process = _check_processes(n_process)
    for name, col in (("text_column", text_column), ("title_column", title_column)):
        if col is None:
            continue
        if col not in df.columns:
            raise ParameterError(f"{name} {col!r} is not a column of the DataFrame; columns: {list(df.columns)}")
        if int((df.columns == col).sum()) > 1:
            raise ParameterError(f"{name} {col!r} names more than one column of the DataFrame")
    _check_clash((str(c) for c in df.columns), prefix)
    texts = _column_values(df, text_column)
    titles = _column_values(df, title_column) if title_column is not None else [None] * len(texts)
    plan: list[int | RowProblem] = []
    pairs: list[_Pair] = []
    for t, ti in zip(texts, titles, strict=True):
        got = row_input(t, ti, text_column=text_column, title_column=title_column)
        if isinstance(got, RowProblem):
            plan.append(got)
        else:
            plan.append(len(pairs))
            pairs.append(got)
    values: list[_Values] = []
    if pairs:
        backend = _make_backend(_resolve_classifier(classifier), min(n_process, len(pairs)), batch_size, None)
        try:
            values = backend.collect(backend.submit(pairs))
        except BaseException:
            backend.abort()
            raise
        backend.close()
    rows = [values[p] if isinstance(p, int) else _problem_values(p) for p in plan]
    out: pd.DataFrame = df.copy(deep=False)
    for j, (name, dtype) in enumerate(zip(added_columns(prefix), _DTYPES, strict=True)):
        cells: list[Any] = [r[j] for r in rows]
        if dtype == "float64":
            cells = [math.nan if v is None else v for v in cells]
        out[name] = pandas.Series(pandas.array(cells, dtype=dtype), index=df.index)
    return out


# -- files --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a file run stands; passed to the ``progress`` callback after every chunk.

    Attributes
    ----------
    records : int
        Input records done, including those of an earlier, resumed session.
    session_records : int
        Records done by this session.
    seconds : float
        Time this session has run.
    fraction : float or None
        Share of the input read (bytes or rows), None when unknown (standard input).
    start_fraction : float
        ``fraction`` when this session started (non-zero after a resume).
    """

    records: int
    session_records: int
    seconds: float
    fraction: float | None
    start_fraction: float = 0.0


@dataclass(frozen=True)
class LabelSummary:
    """What a file run did.

    Attributes
    ----------
    records : int
        Input records (rows plus records that could not be parsed).
    rows : int
        Rows written to the output.
    labels : dict of str to int
        Rows per label.
    uncertain : int
        Labelled rows flagged uncertain.
    unlabelled : int
        Rows written without a label (listed in the errors file).
    bad_records : int
        Records that could not be parsed (only in the errors file).
    seconds : float
        Time this session took.
    session_records : int
        Records this session processed (fewer than ``records`` after a resume).
    output, errors_file, manifest : str or None
        Where things were written (``errors_file`` is None when there were no errors).
    """

    records: int
    rows: int
    labels: dict[str, int]
    uncertain: int
    unlabelled: int
    bad_records: int
    seconds: float
    session_records: int
    output: str
    errors_file: str | None = None
    manifest: str | None = None

    @property
    def labelled(self) -> int:
        """Rows with a label."""
        return self.rows - self.unlabelled

    @property
    def errors(self) -> int:
        """Rows without a label plus records not parsed."""
        return self.unlabelled + self.bad_records

    @property
    def uncertain_rate(self) -> float:
        """Share of labelled rows flagged uncertain (0.0 when none was labelled)."""
        return self.uncertain / self.labelled if self.labelled else 0.0

    @property
    def rows_per_second(self) -> float:
        """Records this session processed per second."""
        return self.session_records / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "records": self.records,
            "rows": self.rows,
            "labelled": self.labelled,
            "labels": {k: self.labels.get(k, 0) for k in LABELS},
            "uncertain": self.uncertain,
            "uncertain_rate": self.uncertain_rate,
            "unlabelled": self.unlabelled,
            "bad_records": self.bad_records,
            "errors": self.errors,
            "seconds": self.seconds,
            "session_records": self.session_records,
            "rows_per_second": self.rows_per_second,
            "output": self.output,
            "errors_file": self.errors_file,
            "manifest": self.manifest,
        }


@dataclass
class _Stats:
    records: int = 0
    rows: int = 0
    unlabelled: int = 0
    bad_records: int = 0
    uncertain: int = 0
    labels: Counter[str] = field(default_factory=Counter)

    def add(self, other: _Stats) -> None:
        self.records += other.records
        self.rows += other.rows
        self.unlabelled += other.unlabelled
        self.bad_records += other.bad_records
        self.uncertain += other.uncertain
        self.labels.update(other.labels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "rows": self.rows,
            "unlabelled": self.unlabelled,
            "bad_records": self.bad_records,
            "uncertain": self.uncertain,
            "labels": dict(self.labels),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _Stats:
        return cls(
            int(d["records"]),
            int(d["rows"]),
            int(d["unlabelled"]),
            int(d["bad_records"]),
            int(d["uncertain"]),
            Counter({str(k): int(v) for k, v in d["labels"].items()}),
        )


@dataclass
class _Chunk:
    index: int
    records: list[Row | BadRecord]
    plan: list[int | RowProblem | None]  # per record: index into pairs, a problem, or None (bad record)
    pairs: list[_Pair]


class _Spec:
    """The columns and options of a run, shared by the chunk functions."""

    def __init__(
        self,
        text_column: str,
        title_column: str | None,
        id_column: str | None,
        prefix: str,
        dynamic_columns: bool,
    ) -> None:
        self.text_column = text_column
        self.title_column = title_column
        self.id_column = id_column
        self.prefix = prefix
        self.added = added_columns(prefix)
        self.dynamic_columns = dynamic_columns


def _plan_chunk(index: int, records: list[Row | BadRecord], spec: _Spec) -> _Chunk:
    plan: list[int | RowProblem | None] = []
    pairs: list[_Pair] = []
    for rec in records:
        if isinstance(rec, BadRecord):
            plan.append(None)
            continue
        values = rec.values
        if spec.dynamic_columns:
            _check_clash(values.keys(), spec.prefix)
        if rec.undecodable:
            cols = ", ".join(repr(c) for c in rec.undecodable)
            plan.append(RowProblem("undecodable_bytes", f"column(s) {cols} hold bytes that are not valid text"))
            continue
        title = values.get(spec.title_column) if spec.title_column is not None else None
        got = row_input(
            values.get(spec.text_column), title, text_column=spec.text_column, title_column=spec.title_column
        )
        if isinstance(got, RowProblem):
            plan.append(got)
        else:
            plan.append(len(pairs))
            pairs.append(got)
    return _Chunk(index, records, plan, pairs)


def _chunks(records: Iterator[Row | BadRecord], size: int, start: int, spec: _Spec) -> Iterator[_Chunk]:
    index = start
    buf: list[Row | BadRecord] = []
    for rec in records:
        buf.append(rec)
        if len(buf) == size:
            yield _plan_chunk(index, buf, spec)
            index += 1
            buf = []
    if buf:
        yield _plan_chunk(index, buf, spec)


def _label_stream(backend: _Backend, chunks: Iterator[_Chunk]) -> Iterator[tuple[_Chunk, list[_Values]]]:
    pending: deque[tuple[_Chunk, Any]] = deque()
    for chunk in chunks:
        pending.append((chunk, backend.submit(chunk.pairs)))
        while len(pending) > backend.lookahead:
            done, handle = pending.popleft()
            yield done, backend.collect(handle)
    while pending:
        done, handle = pending.popleft()
        yield done, backend.collect(handle)


def _error_entry(number: int, line: int | None, ident: Any, reason: str, detail: str, raw: str | None) -> str:
    entry = {"row": number, "line": line, "id": replace_surrogates(ident), "reason": reason, "detail": detail}
    if raw is not None:
        entry["raw"] = raw
    return json.dumps(entry, ensure_ascii=False, default=str) + "\n"


def _assemble(chunk: _Chunk, values: list[_Values], spec: _Spec) -> tuple[list[dict[str, Any]], list[str], _Stats]:
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    stats = _Stats(records=len(chunk.records))
    added = spec.added
    for rec, step in zip(chunk.records, chunk.plan, strict=True):
        if isinstance(rec, BadRecord):
            stats.bad_records += 1
            errors.append(_error_entry(rec.number, rec.line, None, rec.reason, rec.detail, rec.raw))
            continue
        row = dict(rec.values) if not rec.undecodable else replace_surrogates(rec.values)
        if isinstance(step, int):
            vals = values[step]
            stats.labels[vals[0]] += 1
            stats.uncertain += bool(vals[5])
        else:
            assert isinstance(step, RowProblem)
            vals = _problem_values(step)
            stats.unlabelled += 1
            ident = rec.values.get(spec.id_column) if spec.id_column is not None else None
            errors.append(_error_entry(rec.number, rec.line, ident, step.code, step.detail, rec.raw))
        row.update(zip(added, vals, strict=True))
        rows.append(row)
    stats.rows = len(rows)
    return rows, errors, stats


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _OutputFiles:
    """The run directory and the parts of a file run."""

    def __init__(self, output: Path, fmt: str) -> None:
        self.output = output
        self.fmt = fmt
        self.run_dir = output.with_name(f".{output.name}{_RUN_SUFFIX}")
        self.tmp = output.with_name(f".{output.name}{_TMP_SUFFIX}")
        self.state = self.run_dir / "run.json"

    def part(self, i: int) -> Path:
        return self.run_dir / f"{i:08d}.part"

    def errors(self, i: int) -> Path:
        return self.run_dir / f"{i:08d}.errors.jsonl"

    def done(self, i: int) -> Path:
        return self.run_dir / f"{i:08d}.done.json"

    def completed(self) -> tuple[int, _Stats]:
        """Number of chunks finished in a row from the first, and their added statistics."""
        total = _Stats()
        i = 0
        while self.done(i).is_file() and self.part(i).is_file():
            total.add(_Stats.from_dict(json.loads(self.done(i).read_text("utf-8"))))
            i += 1
        for leftover in self.run_dir.iterdir():  # anything of a chunk that did not finish
            stem = leftover.name.split(".")[0]
            if leftover.name != "run.json" and (not stem.isdigit() or int(stem) >= i):
                leftover.unlink()
        return i, total


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _spool_stdin(stdin: IO[bytes]) -> Path:
    fd, name = tempfile.mkstemp(prefix="mktsales-stdin-", suffix=".jsonl")
    with os.fdopen(fd, "wb") as fh:
        shutil.copyfileobj(stdin, fh, 1 << 20)
    return Path(name)


def _arrow_output_schema(reader: TableReader, prefix: str) -> pa.Schema:
    import pyarrow as pa

    base = reader.arrow_schema()
    types = (pa.string(), pa.float64(), pa.float64(), pa.float64(), pa.float64(), pa.bool_(), pa.string(), pa.string())
    return pa.schema(list(base) + [pa.field(n, t) for n, t in zip(added_columns(prefix), types, strict=True)])


def label_file(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    text_column: str,
    title_column: str | None = None,
    id_column: str | None = None,
    prefix: str = "",
    input_format: str | None = None,
    output_format: str | None = None,
    errors: str | os.PathLike[str] | IO[str] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    classifier: Classifier | None = None,
    n_process: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    resume: bool = False,
    force: bool = False,
    escape_formulas: bool = True,
    encoding: str = "utf-8",
    scheduler: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    command: str | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
) -> LabelSummary:
    """Label every row of a CSV, TSV, JSONL or Parquet file, streaming, and write the result.

    Parameters
    ----------
    input : str or path-like
        The postings; ``"-"`` reads JSONL from ``stdin``. Never overwritten.
    output : str or path-like
        Where to write; ``"-"`` writes JSONL to ``stdout``. Formats follow the names (see
        :data:`mktsales.tables.FORMATS`) unless ``input_format``/``output_format`` are given.
    text_column : str
        Column with the posting text.
    title_column, id_column : str, optional
        Column with a separate title; column identifying rows in the errors file.
    prefix : str, default=""
        Prefix of the added column names.
    input_format, output_format : str, optional
        Override the formats.
    errors : path or text stream, optional
        Where rows that could not be labelled are listed, one JSON object per line (``row``,
        ``line``, ``id``, ``reason``, ``detail`` and, for records not parsed or with undecodable
        bytes, ``raw``). Default: ``<output>.errors.jsonl``, written only when there are errors.
        Required when ``output`` is ``"-"``.
    manifest : path, optional
        Run manifest (JSON). Default: ``<output>.manifest.json``; none for ``"-"`` unless given.
    classifier : Classifier, optional
        Defaults to the shipped model and rules.
    n_process : int, default=1
        Worker processes (one pool for the whole run); -1 uses every core.
    batch_size : int, default=64
        Texts per task handed to a worker.
    chunk_size : int, default=1000
        Records per chunk: the unit of writing, progress and resumption.
    resume : bool, default=False
        Continue an interrupted run of the same input, output and options from its last finished
        chunk (starts afresh when there is none).
    force : bool, default=False
        Overwrite an existing output, errors file and manifest, and discard an interrupted run.
    escape_formulas : bool, default=True
        CSV/TSV output: prefix cells that a spreadsheet would run as formulas with ``'``.
    encoding : str, default="utf-8"
        Encoding of CSV, TSV and JSONL input (output is always UTF-8).
    scheduler : str, optional
        Address of a Dask scheduler: label on that cluster instead of local processes.
    progress : callable, optional
        Called with a :class:`Progress` after every chunk.
    command : str, optional
        Command line recorded in the manifest.
    stdin, stdout : streams, optional
        What ``"-"`` reads and writes (default: the process's own).

    Returns
    -------
    LabelSummary

    Raises
    ------
    ParameterError
        Bad options or input: unknown format or column, an added column that clashes with an
        input column, an existing output without ``force``, an interrupted run without ``resume``
        or ``force``, a ``resume`` whose input or options differ from the interrupted run's.
    """
    started = time.monotonic()
    in_name, out_name = os.fspath(input), os.fspath(output)
    in_fmt = format_of(in_name, input_format)
    out_fmt = format_of(out_name, output_format)
    batch_size = _check_positive("batch_size", batch_size)
    chunk_size = _check_positive("chunk_size", chunk_size)
    n_process = _check_processes(n_process)
    for name, col in (("text_column", text_column), ("title_column", title_column), ("id_column", id_column)):
        if col is not None and not isinstance(col, str):
            raise InputTypeError(f"{name} must be a str, got {type(col).__name__}")
    added_columns(prefix)
    if in_name == "-" and in_fmt == "parquet":
        raise ParameterError("input '-' (standard input) must be JSONL, CSV or TSV, not Parquet")
    if out_name == "-" and out_fmt != "jsonl":
        raise ParameterError(f"output '-' (standard output) is written as JSONL, got output_format={out_fmt!r}")
    if in_name != "-" and not Path(in_name).is_file():
        raise ParameterError(f"input file not found: {in_name!r}")
    to_stdout = out_name == "-"
    if resume and (in_name == "-" or to_stdout):
        raise ParameterError("resume needs a file for input and output, not standard input or output ('-')")
    if to_stdout and errors is None:
        raise ParameterError("with output '-', give errors= a file or a stream for the rows that cannot be labelled")

    files: _OutputFiles | None = None
    out_path = Path(out_name)
    errors_path: Path | None = None
    manifest_path: Path | None = Path(manifest) if manifest is not None else None
    if not to_stdout:
        if out_path.is_dir():
            raise ParameterError(f"output {out_name!r} is a directory; give a file name")
        if not out_path.parent.is_dir():
            raise ParameterError(f"output directory does not exist: {str(out_path.parent)!r}")
        files = _OutputFiles(out_path, out_fmt)
        if manifest_path is None:
            manifest_path = out_path.with_name(out_path.name + ".manifest.json")
    if errors is None:
        errors_path = out_path.with_name(out_path.name + ".errors.jsonl")
    elif isinstance(errors, str | os.PathLike):
        errors_path = Path(errors)
    targets = [(n, p) for n, p in (("output", None if to_stdout else out_path), ("errors", errors_path)) if p]
    if manifest_path is not None:
        targets.append(("manifest", manifest_path))
    if in_name != "-":
        for what, p in targets:
            if _same_file(Path(in_name), p):
                raise ParameterError(f"the {what} file {str(p)!r} is the input file: refusing to overwrite the input")
    if len({str(p.resolve()) for _, p in targets}) < len(targets):
        raise ParameterError("output, errors and manifest must be three different files")
    if not force:
        for what, p in targets:
            if p.exists():
                raise ParameterError(
                    f"{what} file {str(p)!r} already exists: pass --force (force=True) to overwrite it"
                )
    if files is not None and files.run_dir.exists() and not resume:
        if not force:
            raise ParameterError(
                f"an interrupted run of {out_name!r} was found in {str(files.run_dir)!r}: pass --resume "
                "(resume=True) to continue it, or --force (force=True) to start again"
            )
        shutil.rmtree(files.run_dir)

    clf = _resolve_classifier(classifier)
    spooled: Path | None = None
    source: str | Path = in_name
    in_stream = stdin if stdin is not None else (sys.stdin.buffer if in_name == "-" else None)
    if in_name == "-" and in_fmt == "jsonl" and out_fmt != "jsonl":
        assert in_stream is not None
        spooled = _spool_stdin(in_stream)  # columnar output needs the columns first: scan a copy
        source = spooled
    reader: TableReader | None = None
    run: _Run | None = None
    errors_stream: IO[str] | None = None
    own_errors_stream = False
    try:
        reader = open_reader(
            source,
            in_fmt,
            encoding=encoding,
            scan_columns=in_fmt == "jsonl" and out_fmt != "jsonl",
            batch_size=chunk_size,
            stdin=in_stream,
        )
        columns = reader.columns
        if columns is not None:
            for name, col in (("text_column", text_column), ("title_column", title_column), ("id_column", id_column)):
                if col is not None and col not in columns:
                    raise ParameterError(f"{name} {col!r} is not a column of {in_name!r}; columns: {columns}")
            _check_clash(columns, prefix)
        spec = _Spec(text_column, title_column, id_column, prefix, dynamic_columns=columns is None)
        settings = {
            "input": str(Path(in_name).resolve()) if in_name != "-" else "-",
            "input_sha256": _sha256_of(Path(in_name)) if in_name != "-" else None,
            "input_format": in_fmt,
            "output_format": out_fmt,
            "text_column": text_column,
            "title_column": title_column,
            "id_column": id_column,
            "prefix": prefix,
            "escape_formulas": escape_formulas,
            "encoding": encoding,
            "classifier": _classifier_identity(clf),
        }
        run = _Run(
            files=files,
            fmt=out_fmt,
            spec=spec,
            out_columns=None if columns is None else [*columns, *spec.added],
            schema=_arrow_output_schema(reader, prefix) if out_fmt == "parquet" else None,
            escape_formulas=escape_formulas,
            settings=settings,
            chunk_size=chunk_size,
        )
        if to_stdout:
            if errors_path is not None:
                errors_stream = errors_path.open("w", encoding="utf-8")
                own_errors_stream = True
            else:
                assert errors is not None
                assert not isinstance(errors, str | os.PathLike)
                errors_stream = errors
            stats, session = run.stream(
                reader,
                _make_backend(clf, n_process, batch_size, scheduler),
                stdout if stdout is not None else sys.stdout,
                errors_stream,
                progress=progress,
                started=started,
            )
        else:
            stats, session = run.to_parts(
                reader, _make_backend(clf, n_process, batch_size, scheduler), resume, progress=progress, started=started
            )
    except MktSalesError:
        if run is not None and run.created and files is not None and files.run_dir.exists():
            shutil.rmtree(files.run_dir)  # the same input and options would fail the same way
        raise
    finally:
        if reader is not None:
            reader.close()
        if spooled is not None:
            spooled.unlink()
        if own_errors_stream and errors_stream is not None:
            errors_stream.close()
    out_sha: str | None = None
    errors_written: str | None = None
    if files is not None:
        stream = None if errors is None or isinstance(errors, str | os.PathLike) else errors
        errors_written, out_sha = run.finish(errors_path, stream, stats)
    elif errors_path is not None:
        if stats.unlabelled + stats.bad_records:
            errors_written = str(errors_path)
        else:
            errors_path.unlink()
    summary = LabelSummary(
        records=stats.records,
        rows=stats.rows,
        labels={k: stats.labels.get(k, 0) for k in LABELS},
        uncertain=stats.uncertain,
        unlabelled=stats.unlabelled,
        bad_records=stats.bad_records,
        seconds=time.monotonic() - started,
        session_records=session,
        output=out_name,
        errors_file=errors_written,
        manifest=str(manifest_path) if manifest_path is not None else None,
    )
    if manifest_path is not None:
        doc = {
            **clf.info(),
            "command": command,
            "input": {"path": settings["input"], "format": in_fmt, "sha256": settings["input_sha256"]},
            "output": {"path": out_name, "format": out_fmt, "sha256": out_sha},
            "errors_file": errors_written,
            "options": {
                "text_column": text_column,
                "title_column": title_column,
                "id_column": id_column,
                "prefix": prefix,
                "escape_formulas": escape_formulas,
                "encoding": encoding,
                "chunk_size": run.chunk_size,
                "batch_size": batch_size,
                "n_process": n_process,
                "scheduler": scheduler,
            },
            "added_columns": spec.added,
            "started_at": run.started_at,
            "resumed_at": run.resumed_at,
            "finished_at": _now(),
            "summary": summary.to_dict(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
        _write_atomic(manifest_path, json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    if files is not None and files.run_dir.exists():
        shutil.rmtree(files.run_dir)
    return summary


def _classifier_identity(clf: Classifier) -> dict[str, Any]:
    info = clf.info()
    return {
        "mktsales_version": info["mktsales_version"],
        "model_sha256": info["model_sha256"],
        "rules_checksum": info["rules_checksum"],
        "thresholds": info["thresholds"],
    }


class _Run:
    """One file run: parts in the run directory then joined, or rows straight to a stream."""

    def __init__(
        self,
        *,
        files: _OutputFiles | None,
        fmt: str,
        spec: _Spec,
        out_columns: list[str] | None,
        schema: pa.Schema | None,
        escape_formulas: bool,
        settings: dict[str, Any],
        chunk_size: int,
    ) -> None:
        self.files = files
        self.fmt = fmt
        self.spec = spec
        self.out_columns = out_columns
        self.schema = schema
        self.escape_formulas = escape_formulas
        self.settings = settings
        self.chunk_size = chunk_size
        self.started_at = _now()
        self.resumed_at: list[str] = []
        self.created = False

    def _open_state(self, resume: bool) -> tuple[int, _Stats]:
        files = self.files
        assert files is not None
        if resume and files.state.is_file():
            saved = json.loads(files.state.read_text("utf-8"))
            diff = sorted(k for k in self.settings if saved["settings"].get(k) != self.settings[k])
            if diff:
                details = "; ".join(f"{k}: was {saved['settings'].get(k)!r}, now {self.settings[k]!r}" for k in diff)
                raise ParameterError(
                    f"cannot resume the run in {str(files.run_dir)!r}: it was started with a different input or "
                    f"options ({details}); run with the same ones, or pass --force (force=True) to start again"
                )
            self.chunk_size = int(saved["chunk_size"])
            self.started_at = saved["started_at"]
            self.resumed_at = [*saved.get("resumed_at", []), _now()]
            done, stats = files.completed()
            saved["resumed_at"] = self.resumed_at
            _write_atomic(files.state, json.dumps(saved, indent=2))
            return done, stats
        if files.run_dir.exists():
            shutil.rmtree(files.run_dir)
        files.run_dir.mkdir()
        self.created = True
        state = {"settings": self.settings, "chunk_size": self.chunk_size, "started_at": self.started_at}
        _write_atomic(files.state, json.dumps(state, indent=2))
        return 0, _Stats()

    def _loop(
        self,
        reader: TableReader,
        backend: _Backend,
        done: int,
        stats: _Stats,
        sink: Callable[[int, list[dict[str, Any]], list[str], _Stats], None],
        progress: Callable[[Progress], None] | None,
        started: float,
    ) -> tuple[_Stats, int]:
        skip = done * self.chunk_size
        session = 0
        start_fraction: float | None = None
        try:
            chunks = _chunks(reader.records(skip=skip), self.chunk_size, done, self.spec)
            for chunk, values in _label_stream(backend, chunks):
                if start_fraction is None:
                    start_fraction = (reader.fraction_done() or 0.0) if skip else 0.0
                rows, errs, chunk_stats = _assemble(chunk, values, self.spec)
                sink(chunk.index, rows, errs, chunk_stats)
                stats.add(chunk_stats)
                session += chunk_stats.records
                if progress is not None:
                    progress(
                        Progress(
                            records=stats.records,
                            session_records=session,
                            seconds=time.monotonic() - started,
                            fraction=reader.fraction_done(),
                            start_fraction=start_fraction,
                        )
                    )
        except BaseException:
            backend.abort()
            raise
        backend.close()
        return stats, session

    def stream(
        self,
        reader: TableReader,
        backend: _Backend,
        out: IO[str],
        errors_out: IO[str],
        *,
        progress: Callable[[Progress], None] | None,
        started: float,
    ) -> tuple[_Stats, int]:
        """Write rows to ``out`` and errors to ``errors_out`` as chunks finish."""
        writer = open_writer(out, self.fmt, columns=self.out_columns, escape_formulas=self.escape_formulas)

        def sink(index: int, rows: list[dict[str, Any]], errs: list[str], stats: _Stats) -> None:
            writer.write(rows)
            out.flush()
            if errs:
                errors_out.write("".join(errs))
                errors_out.flush()

        result = self._loop(reader, backend, 0, _Stats(), sink, progress, started)
        writer.close()
        out.flush()
        return result

    def to_parts(
        self,
        reader: TableReader,
        backend: _Backend,
        resume: bool,
        *,
        progress: Callable[[Progress], None] | None,
        started: float,
    ) -> tuple[_Stats, int]:
        """Write one part per chunk into the run directory (continuing an interrupted run)."""
        try:
            done, stats = self._open_state(resume)
        except BaseException:
            backend.abort()
            raise
        return self._loop(reader, backend, done, stats, self._write_part, progress, started)

    def _write_part(self, index: int, rows: list[dict[str, Any]], errs: list[str], stats: _Stats) -> None:
        files = self.files
        assert files is not None
        part = files.part(index)
        tmp = part.with_name(part.name + ".tmp")
        if self.fmt == "parquet":
            assert self.schema is not None
            w = open_writer(tmp, "parquet", schema=self.schema)
            w.write(rows)
            w.close()
        else:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                w = open_writer(
                    fh, self.fmt, columns=self.out_columns, escape_formulas=self.escape_formulas, header=False
                )
                w.write(rows)
                w.close()
        os.replace(tmp, part)
        if errs:
            err = files.errors(index)
            err_tmp = err.with_name(err.name + ".tmp")
            err_tmp.write_text("".join(errs), encoding="utf-8")
            os.replace(err_tmp, err)
        _write_atomic(files.done(index), json.dumps(stats.to_dict()))

    def finish(self, errors_path: Path | None, errors_stream: IO[str] | None, stats: _Stats) -> tuple[str | None, str]:
        """Join the parts into the output and the errors file; return the errors path and the output sha256."""
        files = self.files
        assert files is not None
        n = 0
        while files.done(n).is_file():
            n += 1
        h = hashlib.sha256()
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            assert self.schema is not None
            w = ParquetWriter(files.tmp, self.schema)
            for i in range(n):
                w.write_table(pq.read_table(files.part(i)))
            w.close()
            with files.tmp.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        else:
            with files.tmp.open("wb") as out:
                if self.fmt in ("csv", "tsv"):
                    buf = io.StringIO()
                    open_writer(buf, self.fmt, columns=self.out_columns, escape_formulas=self.escape_formulas).close()
                    head = buf.getvalue().encode("utf-8")
                    out.write(head)
                    h.update(head)
                for i in range(n):
                    with files.part(i).open("rb") as part:
                        for block in iter(lambda: part.read(1 << 20), b""):
                            out.write(block)
                            h.update(block)
                out.flush()
                os.fsync(out.fileno())
        os.replace(files.tmp, files.output)
        written: str | None = None
        if errors_path is not None:
            if stats.unlabelled + stats.bad_records:
                tmp = errors_path.with_name(f".{errors_path.name}{_TMP_SUFFIX}")
                with tmp.open("wb") as out:
                    for i in range(n):
                        if files.errors(i).is_file():
                            with files.errors(i).open("rb") as src:
                                shutil.copyfileobj(src, out, 1 << 20)
                os.replace(tmp, errors_path)
                written = str(errors_path)
            elif errors_path.exists():
                errors_path.unlink()  # a stale errors file of an earlier run (only with force)
        elif errors_stream is not None:
            for i in range(n):
                if files.errors(i).is_file():
                    errors_stream.write(files.errors(i).read_text("utf-8"))
            errors_stream.flush()
        return written, h.hexdigest()
