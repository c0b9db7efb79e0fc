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
import json
import math
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mktsales.backends import _make_backend, _Pair, _Values
from mktsales.columns import (
    ADDED_COLUMNS,
    EVIDENCE_RULES_PER_DIMENSION,
    ROW_ERRORS,
    RowProblem,
    _check_clash,
    _problem_values,
    added_columns,
    evidence_summary,
    prediction_values,
    row_input,
)
from mktsales.dimensions import LABELS
from mktsales.exceptions import InputTypeError, MktSalesError, ParameterError
from mktsales.progress import Progress
from mktsales.runs import _now, _OutputFiles, _Run, _Spec, _write_atomic
from mktsales.tables import TableReader, format_of, open_reader

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from mktsales.api import Classifier

__all__ = [
    "ADDED_COLUMNS",
    "EVIDENCE_RULES_PER_DIMENSION",
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


#: Input records per chunk: the unit of writing, progress and resumption. At a few hundred
#: postings per second and core, one chunk is a few seconds of work, and two chunks of postings
#: with their predictions take a few tens of MB.
DEFAULT_CHUNK_SIZE = 1000
#: Texts per task handed to a worker process: large enough that inter-process overhead is a small
#: share (a 2,000-character posting takes a few ms), small enough to balance two workers.
DEFAULT_BATCH_SIZE = 64


# -- checks ------------------------------------------------------------------------------------


def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_processes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0 or value < -1:
        raise ParameterError(f"n_process must be a positive int or -1 (all cores), got {value!r}")
    return multiprocessing.cpu_count() if value == -1 else value


def _resolve_classifier(classifier: Classifier | None) -> Classifier:
    from mktsales.api import _resolve

    return _resolve(classifier)


# -- DataFrames --------------------------------------------------------------------------------


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


# -- files -------------------------------------------------------------------------------------


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


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


#: Run settings that the manifest also reports as options (same values, one source).
_SHARED_OPTIONS = ("text_column", "title_column", "id_column", "prefix", "escape_formulas", "encoding")


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
                **{key: settings[key] for key in _SHARED_OPTIONS},
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
