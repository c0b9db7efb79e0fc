"""Streaming readers and writers of tables: CSV, TSV, JSONL and Parquet.

The batch labeller (:mod:`mktsales.batch`) reads postings a record at a time and writes them back
with added columns, so memory stays bounded whatever the size of the file. This module knows the
formats and nothing about labelling.

Reading
    A reader yields, in input order, a :class:`Row` for every record it could split into columns
    and a :class:`BadRecord` for every record it could not (a CSV line with the wrong number of
    fields, a JSONL line that is not a JSON object). Rows and bad records share one numbering
    (``number``, 1-based, the header not counted), and text formats also give the physical
    ``line`` where the record starts. Bytes that are not valid in the chosen encoding are kept as
    lone surrogates (``surrogateescape``); :attr:`Row.undecodable` names the columns that hold
    some, and :func:`raw_text` shows the record's bytes with ``\\xNN`` escapes.

Writing
    CSV and TSV cells that a spreadsheet would run as a formula (text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return, unless it is a plain number such as ``-3.5``) are
    prefixed with a single quote, as OWASP recommends against CSV injection; pass
    ``escape_formulas=False`` to write cells unchanged. Lone surrogates are written as U+FFFD.
    JSONL has no NaN: a float NaN is written as ``null``.

Parquet support needs ``pyarrow`` (``pip install mktsales[parquet]``); nothing else here needs
more than the standard library.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import decimal
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mktsales.exceptions import InputTypeError, ParameterError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "FORMATS",
    "BadRecord",
    "Row",
    "TableReader",
    "TableWriter",
    "check_encoding",
    "escape_formula",
    "format_of",
    "open_reader",
    "open_writer",
    "raw_text",
    "replace_surrogates",
]

#: Supported formats and the file name endings that select them.
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "jsonl": (".jsonl", ".ndjson"),
    "parquet": (".parquet", ".pq"),
}
#: Largest CSV field read, in characters. Python's default (131,072) is below some real HTML
#: postings; 16 MB is far above any posting and still stops a stray quote from swallowing a whole
#: file into one field. A longer field makes its record a bad record.
CSV_FIELD_LIMIT = 16 * 1024 * 1024

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_of(path: str, override: str | None = None) -> str:
    """Return the format of a file from its name (``-`` is JSONL), or the override.

    Parameters
    ----------
    path : str
        File name, or ``"-"`` for standard input or output.
    override : str, optional
        One of :data:`FORMATS`; wins over the name.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        When the override or the name's ending is not a supported format.

    Examples
    --------
    >>> format_of("postings.TSV"), format_of("-"), format_of("x.txt", "csv")
    ('tsv', 'jsonl', 'csv')
    """
    if override is not None:
        if override not in FORMATS:
            raise ParameterError(f"format must be one of {sorted(FORMATS)}, got {override!r}")
        return override
    if path == "-":
        return "jsonl"
    name = path.lower()
    for fmt, endings in FORMATS.items():
        if name.endswith(endings):
            return fmt
    known = ", ".join(e for endings in FORMATS.values() for e in endings)
    raise ParameterError(
        f"cannot tell the format of {path!r} from its name (known endings: {known}); "
        "name the file accordingly or give the format explicitly"
    )


def check_encoding(encoding: str) -> str:
    """Return the canonical name of a text encoding that readers can split into lines.

    Raises
    ------
    ParameterError
        When the encoding is unknown, or does not write a line feed as the single byte ``\\n``
        (UTF-16 and UTF-32: convert such files to UTF-8 first).
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ParameterError(f"encoding {encoding!r} is not a known text encoding") from None
    if "\n".encode(name) != b"\n" or "a".encode(name) != b"a":
        raise ParameterError(f"encoding {encoding!r} is not ASCII-compatible; convert the file to UTF-8 first")
    return name


def escape_formula(cell: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with a single quote.

    Examples
    --------
    >>> escape_formula("=HYPERLINK(1)"), escape_formula("-3.5"), escape_formula("Sales")
    ("'=HYPERLINK(1)", '-3.5', 'Sales')
    """
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER_RE.fullmatch(cell):
        return "'" + cell
    return cell


def replace_surrogates(value: Any) -> Any:
    """Return ``value`` with lone surrogates (undecodable bytes) replaced by U+FFFD, recursively."""
    if isinstance(value, str):
        return _SURROGATE_RE.sub("\ufffd", value) if _SURROGATE_RE.search(value) else value
    if isinstance(value, list):
        return [replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    return value


def _has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE_RE.search(value) is not None
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogates(k) or _has_surrogates(v) for k, v in value.items())
    return False


def raw_text(text: str) -> str:
    """Show text read with ``surrogateescape`` as valid text: undecodable bytes become ``\\xNN``.

    Examples
    --------
    >>> raw_text(b"caf\\xe9".decode("utf-8", "surrogateescape"))
    'caf\\\\xe9'
    """
    if not _SURROGATE_RE.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# -- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """A record split into columns.

    Attributes
    ----------
    number : int
        1-based position among the records of the input (header not counted, bad records counted).
    line : int or None
        Line of the file where the record starts (None for Parquet).
    values : dict
        Column name to value; strings for CSV and TSV, JSON values for JSONL, Python values for
        Parquet.
    undecodable : tuple of str
        Columns whose cells hold bytes that are not valid in the input encoding.
    raw : str or None
        The record as read, with undecodable bytes escaped (only kept when ``undecodable``).
    """

    number: int
    line: int | None
    values: dict[str, Any]
    undecodable: tuple[str, ...] = ()
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be split into columns.

    Attributes
    ----------
    number : int
        1-based position among the records of the input.
    line : int or None
        Line of the file where the record starts.
    reason : str
        ``"malformed_csv"`` or ``"invalid_json"``.
    detail : str
        What is wrong with it.
    raw : str
        The record as read (undecodable bytes escaped).
    """

    number: int
    line: int | None
    reason: str
    detail: str
    raw: str


Record = Row | BadRecord


class TableReader:
    """Base class of the readers; see :func:`open_reader`.

    Attributes
    ----------
    columns : list of str or None
        Column names in order, known before the first record (None for JSONL read without a scan:
        then every record has its own keys).
    """

    columns: list[str] | None = None

    def records(self, skip: int = 0) -> Iterator[Record]:
        """Yield every record in input order, after the first ``skip`` records."""
        raise NotImplementedError

    def fraction_done(self) -> float | None:
        """How much of the input has been read, in [0, 1], or None when unknown."""
        return None

    def arrow_schema(self) -> pa.Schema:
        """Arrow types of the input columns (for Parquet output)."""
        import pyarrow as pa

        return pa.schema([(c, pa.string()) for c in self.columns or []])

    def close(self) -> None:
        """Release the file."""


def _check_columns(columns: Sequence[str], source: str) -> list[str]:
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise ParameterError(f"{source}: column name {c!r} appears twice in the header; rename one of them")
        seen.add(c)
    return list(columns)


class _Lines:
    """Binary lines of a file, decoded one at a time, counting bytes and lines read."""

    def __init__(self, fh: IO[bytes], encoding: str, size: int | None) -> None:
        self.fh = fh
        self.encoding = encoding
        self.size = size
        self.bytes_read = 0
        self.lines_read = 0
        self.held: list[str] = []
        self._first = True

    def __iter__(self) -> Iterator[str]:
        decode = codecs.getdecoder(self.encoding)
        for raw in self.fh:
            self.bytes_read += len(raw)
            self.lines_read += 1
            if self._first:
                self._first = False
                if raw.startswith(codecs.BOM_UTF8) and self.encoding in ("utf-8", "utf-8-sig"):
                    raw = raw[len(codecs.BOM_UTF8) :]
            line = decode(raw, "surrogateescape")[0]
            self.held.append(line)
            yield line


def _open_binary(path: str | Path, stdin: IO[bytes] | None) -> tuple[IO[bytes], int | None]:
    if str(path) == "-":
        if stdin is None:
            raise ParameterError("input '-' needs a standard input stream")
        return stdin, None
    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"input {str(path)!r} is a directory, not a file")
    fh = p.open("rb")
    return fh, p.stat().st_size


class CsvReader(TableReader):
    """CSV or TSV with a header line, read with the standard :mod:`csv` module."""

    def __init__(
        self, path: str | Path, *, delimiter: str = ",", encoding: str = "utf-8", stdin: IO[bytes] | None = None
    ) -> None:
        self.path = str(path)
        self.delimiter = delimiter
        self.encoding = check_encoding(encoding)
        self._fh, self._size = _open_binary(path, stdin)
        self._lines = _Lines(self._fh, self.encoding, self._size)
        if csv.field_size_limit() < CSV_FIELD_LIMIT:
            csv.field_size_limit(CSV_FIELD_LIMIT)
        self._reader = csv.reader(self._lines, delimiter=delimiter, strict=False)
        try:
            header = next(self._reader)
        except StopIteration:
            self.close()
            raise ParameterError(f"input {self.path!r} is empty: a header line is needed") from None
        except csv.Error as exc:
            self.close()
            raise ParameterError(f"input {self.path!r}: cannot read the header line: {exc}") from None
        if _has_surrogates(header):
            self.close()
            raise ParameterError(
                f"input {self.path!r}: the header line has bytes that are not valid {self.encoding}; "
                "give the file's encoding with --encoding"
            )
        try:
            self.columns = _check_columns(header, self.path)
        except ParameterError:
            self.close()
            raise
        self._lines.held.clear()

    def records(self, skip: int = 0) -> Iterator[Record]:
        """Yield every record after the first ``skip``; see :class:`TableReader`."""
        n_cols = len(self.columns or [])
        columns = self.columns or []
        number = 0
        lines = self._lines
        reader = self._reader
        while True:
            start_line = lines.lines_read + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                if number > skip:
                    yield BadRecord(number, start_line, "malformed_csv", str(exc), raw_text("".join(lines.held)))
                lines.held.clear()
                continue
            if not fields:  # a blank line holds no record
                lines.held.clear()
                continue
            number += 1
            if number <= skip:
                lines.held.clear()
                continue
            if len(fields) != n_cols:
                raw = raw_text("".join(lines.held))
                lines.held.clear()
                yield BadRecord(
                    number,
                    start_line,
                    "malformed_csv",
                    f"expected {n_cols} fields, found {len(fields)}",
                    raw,
                )
                continue
            values = dict(zip(columns, fields, strict=True))
            undecodable: tuple[str, ...] = ()
            raw_record: str | None = None
            if any(_SURROGATE_RE.search(f) for f in fields):
                undecodable = tuple(c for c, f in values.items() if _SURROGATE_RE.search(f))
                raw_record = raw_text("".join(lines.held))
            lines.held.clear()
            yield Row(number, start_line, values, undecodable, raw_record)

    def fraction_done(self) -> float | None:
        """Share of the file's bytes read so far (None when reading standard input)."""
        if not self._size:
            return None
        return min(1.0, self._lines.bytes_read / self._size)

    def close(self) -> None:
        """Close the file (not standard input)."""
        if self.path != "-":
            self._fh.close()


class JsonlReader(TableReader):
    """One JSON object per line.

    With ``scan=True`` the file is read once up front to collect the columns (keys in order of
    first appearance) and their types, which CSV, TSV and Parquet output need; JSONL output does
    not, and can stream from standard input.
    """

    def __init__(
        self, path: str | Path, *, encoding: str = "utf-8", scan: bool = False, stdin: IO[bytes] | None = None
    ) -> None:
        self.path = str(path)
        self.encoding = check_encoding(encoding)
        self._stdin = stdin
        self._size: int | None = None
        self._lines: _Lines | None = None
        self._fh: IO[bytes] | None = None
        self._kinds: dict[str, set[str]] = {}
        if scan:
            if self.path == "-":
                raise ParameterError("cannot scan standard input for columns; write JSONL or read from a file")
            self._scan()

    def _scan(self) -> None:
        columns: dict[str, None] = {}
        kinds = self._kinds
        for rec in self._iterate(0):
            if isinstance(rec, Row):
                for k, v in rec.values.items():
                    key = replace_surrogates(k)  # as the row will be written
                    columns.setdefault(key, None)
                    kinds.setdefault(key, set()).add(_kind(v))
        self.columns = list(columns)

    def _iterate(self, skip: int) -> Iterator[Record]:
        fh, self._size = _open_binary(self.path, self._stdin)
        self._fh = fh
        lines = _Lines(fh, self.encoding, self._size)
        self._lines = lines
        number = 0
        try:
            for line in lines:
                lines.held.clear()
                if not line.strip():
                    continue
                number += 1
                if number <= skip:
                    continue
                where = lines.lines_read
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    yield BadRecord(number, where, "invalid_json", str(exc), raw_text(line.rstrip("\r\n")))
                    continue
                if not isinstance(obj, dict):
                    yield BadRecord(
                        number,
                        where,
                        "invalid_json",
                        f"expected a JSON object, found {type(obj).__name__}",
                        raw_text(line.rstrip("\r\n")),
                    )
                    continue
                if _has_surrogates(obj):
                    bad = tuple(k for k, v in obj.items() if _has_surrogates(k) or _has_surrogates(v))
                    yield Row(number, where, obj, bad, raw_text(line.rstrip("\r\n")))
                else:
                    yield Row(number, where, obj)
        finally:
            if self.path != "-":
                fh.close()

    def records(self, skip: int = 0) -> Iterator[Record]:
        """Yield every record after the first ``skip``; see :class:`TableReader`."""
        return self._iterate(skip)

    def fraction_done(self) -> float | None:
        """Share of the file's bytes read so far (None when reading standard input)."""
        if not self._size or self._lines is None:
            return None
        return min(1.0, self._lines.bytes_read / self._size)

    def arrow_schema(self) -> pa.Schema:
        """Types found by the scan: int64, float64, bool or string (other values as JSON text)."""
        import pyarrow as pa

        fields = []
        for c in self.columns or []:
            kinds = self._kinds.get(c, set()) - {"null"}
            if kinds == {"int"}:
                t = pa.int64()
            elif kinds and kinds <= {"int", "float"}:
                t = pa.float64()
            elif kinds == {"bool"}:
                t = pa.bool_()
            else:
                t = pa.string()
            fields.append((c, t))
        return pa.schema(fields)

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None and self.path != "-":
            self._fh.close()


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int" if -(2**63) <= v < 2**63 else "other"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    return "other"


class ParquetReader(TableReader):
    """A Parquet file, read one batch at a time (memory is bounded by the row group size)."""

    def __init__(self, path: str | Path, *, batch_size: int = 1000) -> None:
        try:
            import pyarrow.parquet as pq
        except ModuleNotFoundError:  # pragma: no cover - depends on the installed extras
            raise ParameterError("Parquet needs pyarrow: pip install 'mktsales[parquet]'") from None
        self.path = str(path)
        if self.path == "-":
            raise ParameterError("standard input is read as JSONL; Parquet needs a file")
        try:
            self._file = pq.ParquetFile(self.path)
        except OSError as exc:
            if not Path(self.path).exists():
                raise
            raise ParameterError(f"input {self.path!r} is not a readable Parquet file: {exc}") from None
        self._schema = self._file.schema_arrow
        self.columns = _check_columns(self._schema.names, self.path)
        self.batch_size = batch_size
        self._done = 0
        self._total = self._file.metadata.num_rows

    def records(self, skip: int = 0) -> Iterator[Record]:
        """Yield every row after the first ``skip`` (whole row groups are skipped unread)."""
        meta = self._file.metadata
        first_group = 0
        start = 0
        while first_group < meta.num_row_groups and start + meta.row_group(first_group).num_rows <= skip:
            start += meta.row_group(first_group).num_rows
            first_group += 1
        groups = list(range(first_group, meta.num_row_groups))
        number = start
        self._done = start
        if not groups:
            return
        for batch in self._file.iter_batches(batch_size=self.batch_size, row_groups=groups, use_threads=False):
            for values in batch.to_pylist():
                number += 1
                self._done = number
                if number <= skip:
                    continue
                yield Row(number, None, values)

    def fraction_done(self) -> float | None:
        """Share of the rows read so far."""
        return self._done / self._total if self._total else None

    def arrow_schema(self) -> pa.Schema:
        """The file's own schema."""
        return self._schema


def open_reader(
    path: str | Path,
    fmt: str,
    *,
    encoding: str = "utf-8",
    scan_columns: bool = False,
    batch_size: int = 1000,
    stdin: IO[bytes] | None = None,
) -> TableReader:
    """Open a reader for one of :data:`FORMATS`.

    Parameters
    ----------
    path : str or Path
        The file, or ``"-"`` for ``stdin`` (JSONL, CSV or TSV).
    fmt : str
        ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"parquet"``.
    encoding : str, default="utf-8"
        Text encoding of CSV, TSV and JSONL files (a UTF-8 byte-order mark is skipped).
    scan_columns : bool, default=False
        JSONL only: read the file once first to learn its columns (see :class:`JsonlReader`).
    batch_size : int, default=1000
        Parquet only: rows decoded at a time.
    stdin : binary stream, optional
        What ``"-"`` reads.

    Returns
    -------
    TableReader
    """
    if fmt in ("csv", "tsv"):
        return CsvReader(path, delimiter="," if fmt == "csv" else "\t", encoding=encoding, stdin=stdin)
    if fmt == "jsonl":
        return JsonlReader(path, encoding=encoding, scan=scan_columns, stdin=stdin)
    if fmt == "parquet":
        return ParquetReader(path, batch_size=batch_size)
    raise ParameterError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")


# -- writers ------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(_no_nan(value), ensure_ascii=False, default=_json_default)
    return str(_json_default(value))


class TableWriter:
    """Base class of the writers; see :func:`open_writer`."""

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows (dicts from column name to value)."""
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file."""


class CsvWriter(TableWriter):
    """CSV or TSV with a header line (written with the first rows, or on close when there are none)."""

    def __init__(
        self,
        stream: IO[str],
        columns: Sequence[str],
        *,
        delimiter: str = ",",
        escape_formulas: bool = True,
        header: bool = True,
    ) -> None:
        self.columns = list(columns)
        self._colset = set(self.columns)
        # CRLF, as RFC 4180 says: with "\n" alone the csv module would not quote a lone "\r" in a cell
        self._writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")
        self._escape = escape_formulas
        self._header = header

    def _cells(self, values: Sequence[Any]) -> list[str]:
        cells = [_cell(v) for v in values]
        cells = [_SURROGATE_RE.sub("\ufffd", c) if _SURROGATE_RE.search(c) else c for c in cells]
        if self._escape:
            cells = [escape_formula(c) if c.startswith(_FORMULA_START) else c for c in cells]
        return cells

    def _write_header(self) -> None:
        if self._header:
            self._header = False
            self._writer.writerow(self._cells(self.columns))

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows; a key outside ``columns`` is an error, a missing key an empty cell."""
        self._write_header()
        cols = self.columns
        colset = self._colset
        for row in rows:
            if len(row) != len(cols) or row.keys() != colset:
                extra = [k for k in row if k not in colset]
                if extra:
                    raise ParameterError(f"a row has column(s) {extra} that are not in the output header")
            self._writer.writerow(self._cells([row.get(c) for c in cols]))

    def close(self) -> None:
        """Write the header if no row was written."""
        self._write_header()


class JsonlWriter(TableWriter):
    """One JSON object per line, keys in the order of each row."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows."""
        out = []
        for row in rows:
            clean = {k: _no_nan(v) for k, v in row.items()}
            line = json.dumps(clean, ensure_ascii=False, default=_json_default)
            if _SURROGATE_RE.search(line):
                line = _SURROGATE_RE.sub("\ufffd", line)
            out.append(line + "\n")
        self._stream.write("".join(out))


class ParquetWriter(TableWriter):
    """A Parquet file with a fixed schema; every :meth:`write` adds a row group."""

    def __init__(self, path: str | Path, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self.schema = schema
        self._writer = pq.ParquetWriter(str(path), schema)

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows as one row group (values converted to the schema's types)."""
        import pyarrow as pa

        arrays = []
        for f in self.schema:
            values = [row.get(f.name) for row in rows]
            arrays.append(_arrow_array(values, f.type, pa))
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def write_table(self, table: pa.Table) -> None:
        """Append an Arrow table that has this writer's schema."""
        self._writer.write_table(table)

    def close(self) -> None:
        """Write the footer."""
        self._writer.close()


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return str(replace_surrogates(value))
    if isinstance(value, float) and math.isnan(value):
        return None
    return _cell(value)


def _arrow_array(values: list[Any], typ: pa.DataType, pa: Any) -> Any:
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        values = [_as_text(v) for v in values]
    elif pa.types.is_floating(typ):
        values = [None if v is None else float(v) for v in values]
    try:
        return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise ParameterError(f"cannot write values as Parquet type {typ}: {exc}") from None


def open_writer(
    target: str | Path | IO[str],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    schema: pa.Schema | None = None,
    escape_formulas: bool = True,
    header: bool = True,
) -> TableWriter:
    """Open a writer for one of :data:`FORMATS`.

    Parameters
    ----------
    target : str, Path or text stream
        A text stream for CSV, TSV and JSONL (the caller opens and closes it); a path for Parquet.
    fmt : str
        ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"parquet"``.
    columns : sequence of str, optional
        Header of CSV and TSV output (required for them).
    schema : pyarrow.Schema, optional
        Schema of Parquet output (required for it).
    escape_formulas : bool, default=True
        CSV and TSV: escape cells a spreadsheet would run as formulas (see the module docstring).
    header : bool, default=True
        CSV and TSV: write the header line.

    Returns
    -------
    TableWriter
    """
    if fmt in ("csv", "tsv", "jsonl"):
        if isinstance(target, str | Path):
            raise InputTypeError(f"{fmt} output needs an open text stream, got a path {str(target)!r}")
        if fmt == "jsonl":
            return JsonlWriter(target)
        if columns is None:
            raise ParameterError(f"{fmt} output needs its columns")
        return CsvWriter(
            target,
            columns,
            delimiter="," if fmt == "csv" else "\t",
            escape_formulas=escape_formulas,
            header=header,
        )
    if fmt == "parquet":
        if not isinstance(target, str | Path):
            raise InputTypeError("Parquet output needs a path, got a stream")
        if schema is None:
            raise ParameterError("Parquet output needs a schema")
        return ParquetWriter(target, schema)
    raise ParameterError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
