"""A file run in chunks: the run directory, its parts and resume state, and joining the parts.

:func:`mktsales.batch.label_file` reads records in chunks (:func:`_chunks`), labels them through a
back end (:func:`_label_stream`) and assembles the output rows and errors of each chunk
(:func:`_assemble`). A :class:`_Run` writes them straight to a stream, or one part per chunk into
a run directory beside the output (:class:`_OutputFiles`), whose ``run.json`` lets an interrupted
run resume from its last finished chunk, and joins the parts into the output at the end.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mktsales.backends import _Backend, _Pair, _Values
from mktsales.columns import RowProblem, _check_clash, _problem_values, added_columns, row_input
from mktsales.exceptions import ParameterError
from mktsales.progress import Progress
from mktsales.tables import (
    BadRecord,
    ParquetWriter,
    Row,
    TableReader,
    open_writer,
    replace_surrogates,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__: list[str] = []


_RUN_SUFFIX = ".mktsales-run"
_TMP_SUFFIX = ".mktsales-tmp"


# -- chunks ------------------------------------------------------------------------------------


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


# -- the run directory -------------------------------------------------------------------------


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
