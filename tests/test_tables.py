"""Streaming readers and writers of CSV, TSV, JSONL and Parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mktsales.exceptions import InputTypeError, ParameterError
from mktsales.tables import (
    BadRecord,
    Row,
    check_encoding,
    escape_formula,
    format_of,
    open_reader,
    open_writer,
    raw_text,
    replace_surrogates,
)


def _records(path: Path, fmt: str, **kw: object) -> list[Row | BadRecord]:
    reader = open_reader(path, fmt, **kw)  # type: ignore[arg-type]
    try:
        return list(reader.records())
    finally:
        reader.close()


# -- formats and encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "override", "expected"),
    [
        ("a.csv", None, "csv"),
        ("A.CSV", None, "csv"),
        ("a.tsv", None, "tsv"),
        ("a.tab", None, "tsv"),
        ("a.jsonl", None, "jsonl"),
        ("a.ndjson", None, "jsonl"),
        ("a.parquet", None, "parquet"),
        ("-", None, "jsonl"),
        ("a.txt", "tsv", "tsv"),
    ],
)
def test_format_of_names_and_overrides(name: str, override: str | None, expected: str) -> None:
    """The format follows the file name, '-' is JSONL, and an override wins."""
    assert format_of(name, override) == expected


def test_format_of_unknown_name_names_the_file() -> None:
    """An unknown ending is an error that names the file and the known endings."""
    with pytest.raises(ParameterError, match=r"'postings\.xlsx'.*\.csv"):
        format_of("postings.xlsx")
    with pytest.raises(ParameterError, match="'xls'"):
        format_of("a.csv", "xls")


def test_check_encoding_accepts_ascii_compatible_only() -> None:
    """UTF-8 and cp1252 are fine; UTF-16 and unknown names are refused with the name."""
    assert check_encoding("UTF8") == "utf-8"
    assert check_encoding("cp1252") == "cp1252"
    with pytest.raises(ParameterError, match="utf-16"):
        check_encoding("utf-16")
    with pytest.raises(ParameterError, match="klingon"):
        check_encoding("klingon")


@pytest.mark.parametrize(
    ("cell", "expected", "why"),
    [
        ("=1+1", "'=1+1", "a formula"),
        ("+44 20 7946 0000", "'+44 20 7946 0000", "starts with + and is not a plain number"),
        ("-cmd", "'-cmd", "starts with -"),
        ("@SUM(A1)", "'@SUM(A1)", "starts with @"),
        ("\tx", "'\tx", "starts with a tab"),
        ("\rx", "'\rx", "starts with a carriage return"),
        ("-3.5", "-3.5", "a plain negative number is data"),
        ("+7", "+7", "a plain signed number is data"),
        ("1e-3", "1e-3", "does not start with a formula character"),
        ("Sales = money", "Sales = money", "= in the middle is harmless"),
        ("", "", "empty"),
    ],
)
def test_escape_formula(cell: str, expected: str, why: str) -> None:
    """Cells a spreadsheet would run get a leading quote; plain numbers are left alone."""
    assert escape_formula(cell) == expected, why


def test_raw_text_and_replace_surrogates() -> None:
    """Undecodable bytes show as \\xNN in raw text and as U+FFFD in values, recursively."""
    s = b"caf\xe9".decode("utf-8", "surrogateescape")
    assert raw_text(s) == "caf\\xe9"
    assert raw_text("plain") == "plain"
    assert replace_surrogates({"a": [s]}) == {"a": ["caf\ufffd"]}


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_reader_numbers_rows_and_lines(tmp_path: Path) -> None:
    """Rows are numbered from 1 after the header; lines point at where a multi-line record starts."""
    p = tmp_path / "a.csv"
    p.write_text('id,text\n1,"first\nsecond line"\n2,plain\n', encoding="utf-8")
    recs = _records(p, "csv")
    assert [r.number for r in recs] == [1, 2]
    assert [r.line for r in recs] == [2, 4]
    assert isinstance(recs[0], Row)
    assert recs[0].values == {"id": "1", "text": "first\nsecond line"}


def test_csv_reader_malformed_line_is_a_bad_record_and_reading_goes_on(tmp_path: Path) -> None:
    """A line with the wrong number of fields becomes a BadRecord with its raw text; later rows are read."""
    p = tmp_path / "a.csv"
    p.write_text("id,text\n1,ok\n2,too,many\n3,fine\n", encoding="utf-8")
    recs = _records(p, "csv")
    assert [type(r).__name__ for r in recs] == ["Row", "BadRecord", "Row"]
    bad = recs[1]
    assert isinstance(bad, BadRecord)
    assert (bad.number, bad.line, bad.reason) == (2, 3, "malformed_csv")
    assert "expected 2 fields, found 3" in bad.detail
    assert bad.raw == "2,too,many\n"
    assert isinstance(recs[2], Row)
    assert recs[2].values["text"] == "fine"


def test_csv_reader_skips_blank_lines_and_bom(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark is not part of the first column name; blank lines are no records."""
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbfid,text\n\n1,a\n\n2,b\n")
    reader = open_reader(p, "csv")
    assert reader.columns == ["id", "text"]
    recs = list(reader.records())
    reader.close()
    assert [(r.number, r.line) for r in recs] == [(1, 3), (2, 5)]


def test_csv_reader_flags_undecodable_cells(tmp_path: Path) -> None:
    """Bytes invalid in the encoding are kept as surrogates; the row names the columns and keeps the raw line."""
    p = tmp_path / "a.csv"
    p.write_bytes(b"id,text\n1,caf\xe9 sales\n2,fine\n")
    recs = _records(p, "csv")
    first = recs[0]
    assert isinstance(first, Row)
    assert first.undecodable == ("text",)
    assert first.raw == "1,caf\\xe9 sales\n"
    assert isinstance(recs[1], Row)
    assert recs[1].undecodable == ()
    latin = _records(p, "csv", encoding="latin-1")[0]
    assert isinstance(latin, Row)
    assert latin.values["text"] == "café sales"


def test_csv_reader_refuses_bad_headers(tmp_path: Path) -> None:
    """An empty file or a header with a repeated name is a clear error."""
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ParameterError, match="empty"):
        open_reader(empty, "csv")
    dup = tmp_path / "dup.csv"
    dup.write_text("a,b,a\n1,2,3\n")
    with pytest.raises(ParameterError, match="'a' appears twice"):
        open_reader(dup, "csv")


def test_csv_reader_skip_keeps_numbering(tmp_path: Path) -> None:
    """Skipping records (for resume) yields the later records with their original numbers."""
    p = tmp_path / "a.tsv"
    p.write_text("id\ttext\n" + "".join(f"{i}\tt{i}\n" for i in range(1, 8)), encoding="utf-8")
    reader = open_reader(p, "tsv")
    recs = list(reader.records(skip=5))
    reader.close()
    assert [r.number for r in recs] == [6, 7]
    assert isinstance(recs[0], Row)
    assert recs[0].values == {"id": "6", "text": "t6"}


# -- JSONL ----------------------------------------------------------------------------------------


def test_jsonl_reader_bad_lines(tmp_path: Path) -> None:
    """Invalid JSON and non-objects are BadRecords; blank lines are skipped."""
    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "a"}\n\nnot json\n[1, 2]\n{"text": "b"}\n', encoding="utf-8")
    recs = _records(p, "jsonl")
    assert [(type(r).__name__, r.number, r.line) for r in recs] == [
        ("Row", 1, 1),
        ("BadRecord", 2, 3),
        ("BadRecord", 3, 4),
        ("Row", 4, 5),
    ]
    bad = recs[2]
    assert isinstance(bad, BadRecord)
    assert bad.reason == "invalid_json"
    assert "list" in bad.detail
    assert bad.raw == "[1, 2]"


def test_jsonl_scan_collects_columns_and_types(tmp_path: Path) -> None:
    """A scan finds every key in order of appearance and a type for Parquet output."""
    pa = pytest.importorskip("pyarrow")
    p = tmp_path / "a.jsonl"
    p.write_text(
        '{"id": 1, "text": "a", "n": 1}\n{"id": 2, "score": 1.5, "n": 2.5, "flag": true, "x": [1]}\n', encoding="utf-8"
    )
    reader = open_reader(p, "jsonl", scan_columns=True)
    assert reader.columns == ["id", "text", "n", "score", "flag", "x"]
    schema = reader.arrow_schema()
    assert [schema.field(c).type for c in reader.columns] == [
        pa.int64(),
        pa.string(),
        pa.float64(),
        pa.float64(),
        pa.bool_(),
        pa.string(),
    ]
    assert len(list(reader.records())) == 2


def test_jsonl_from_a_stream() -> None:
    """'-' reads the given binary stream."""
    reader = open_reader("-", "jsonl", stdin=io.BytesIO(b'{"text": "x"}\n'))
    recs = list(reader.records())
    assert isinstance(recs[0], Row)
    assert recs[0].values == {"text": "x"}
    with pytest.raises(ParameterError, match="standard input"):
        open_reader("-", "jsonl", scan_columns=True, stdin=io.BytesIO(b""))


# -- Parquet --------------------------------------------------------------------------------------


def test_parquet_round_trip_and_skip_across_row_groups(tmp_path: Path) -> None:
    """Parquet written in several row groups reads back in order, and skip lands mid-group."""
    pytest.importorskip("pyarrow")
    import pyarrow as pa

    p = tmp_path / "a.parquet"
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    w = open_writer(p, "parquet", schema=schema)
    for start in (0, 3, 6):
        w.write([{"id": i, "text": f"t{i}"} for i in range(start, start + 3)])
    w.close()
    reader = open_reader(p, "parquet", batch_size=2)
    assert reader.columns == ["id", "text"]
    assert [r.values["id"] for r in reader.records() if isinstance(r, Row)] == list(range(9))
    tail = list(reader.records(skip=4))
    assert [(r.number, r.values["id"]) for r in tail if isinstance(r, Row)] == [(5, 4), (6, 5), (7, 6), (8, 7), (9, 8)]


def test_parquet_writer_converts_values_to_string_columns(tmp_path: Path) -> None:
    """Non-string values in a string column are written as text, NaN as null."""
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "a.parquet"
    w = open_writer(p, "parquet", schema=pa.schema([("v", pa.string())]))
    w.write([{"v": 3}, {"v": float("nan")}, {"v": {"a": 1}}, {"v": None}])
    w.close()
    assert pq.read_table(p).column("v").to_pylist() == ["3", None, '{"a": 1}', None]


# -- writers --------------------------------------------------------------------------------------


def test_csv_writer_escapes_formulas_and_formats_values() -> None:
    """Formula-like cells (header included) are escaped; None, bools, NaN and lists have a fixed text."""
    buf = io.StringIO()
    w = open_writer(buf, "csv", columns=["=h", "v"])
    w.write(
        [
            {"=h": "=cmd()", "v": -2.5},
            {"=h": None, "v": True},
            {"=h": float("nan"), "v": [1, "a"]},
            {"=h": b"x".decode() + "\udce9", "v": "@x"},
        ]
    )
    w.close()
    assert buf.getvalue().splitlines() == [
        "'=h,v",
        "'=cmd(),-2.5",
        ",true",
        ',"[1, ""a""]"',
        "x\ufffd,'@x",
    ]


def test_csv_writer_without_escaping_and_header_only() -> None:
    """escape_formulas=False writes cells as they are; closing without rows still writes the header."""
    buf = io.StringIO()
    w = open_writer(buf, "tsv", columns=["a", "b"], escape_formulas=False)
    w.write([{"a": "=1", "b": "x\ty"}])
    w.close()
    assert buf.getvalue() == 'a\tb\r\n=1\t"x\ty"\r\n'
    empty = io.StringIO()
    open_writer(empty, "csv", columns=["a"]).close()
    assert empty.getvalue() == "a\r\n"


def test_csv_writer_refuses_unknown_columns() -> None:
    """A row with a key outside the header is an error, not a silently dropped value."""
    w = open_writer(io.StringIO(), "csv", columns=["a"])
    with pytest.raises(ParameterError, match="'b'"):
        w.write([{"a": 1, "b": 2}])


def test_jsonl_writer_nan_is_null_and_dates_are_iso() -> None:
    """JSON has no NaN: it becomes null; dates become ISO strings; keys keep their order."""
    import datetime

    buf = io.StringIO()
    open_writer(buf, "jsonl").write([{"b": float("nan"), "a": datetime.date(2024, 1, 2)}])
    assert buf.getvalue() == '{"b": null, "a": "2024-01-02"}\n'
    assert json.loads(buf.getvalue()) == {"b": None, "a": "2024-01-02"}


def test_open_writer_checks_its_target() -> None:
    """Text formats need a stream, Parquet a path and a schema."""
    with pytest.raises(InputTypeError, match="stream"):
        open_writer("x.csv", "csv", columns=["a"])
    with pytest.raises(ParameterError, match="columns"):
        open_writer(io.StringIO(), "csv")
    with pytest.raises(ParameterError, match="schema"):
        open_writer("x.parquet", "parquet")


# -- round trips ----------------------------------------------------------------------------------

_CELLS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_CELLS, _CELLS), min_size=1, max_size=5), fmt=st.sampled_from(["csv", "tsv", "jsonl"]))
def test_what_is_written_reads_back_unchanged(tmp_path: Path, rows: list[tuple[str, str]], fmt: str) -> None:
    """Any text (quotes, tabs, CR, LF, NUL, any script) written without escaping reads back identical."""
    path = tmp_path / f"t.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = open_writer(fh, fmt, columns=["a", "b"], escape_formulas=False)
        w.write([{"a": a, "b": b} for a, b in rows])
        w.close()
    recs = _records(path, fmt)
    assert all(isinstance(r, Row) for r in recs)
    assert [(r.values["a"], r.values["b"]) for r in recs if isinstance(r, Row)] == rows


def test_jsonl_scan_names_undecodable_keys_as_written(tmp_path: Path) -> None:
    """A key with invalid bytes is listed as it will be written (U+FFFD), so the row fits the header."""
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"t\xff": "x", "text": "Realtor"}\n')
    reader = open_reader(p, "jsonl", scan_columns=True)
    assert reader.columns == ["t\ufffd", "text"]
    rec = next(iter(reader.records()))
    assert isinstance(rec, Row)
    assert rec.undecodable == ("t\udcff",)
    assert list(replace_surrogates(rec.values)) == reader.columns
