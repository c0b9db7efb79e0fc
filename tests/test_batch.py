"""Labelling tables: label_dataframe in memory and label_file on disk (streaming, errors, resume)."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing.pool
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mktsales import classify
from mktsales.batch import (
    ADDED_COLUMNS,
    ROW_ERRORS,
    LabelSummary,
    Progress,
    RowProblem,
    evidence_summary,
    label_dataframe,
    label_file,
    prediction_values,
    row_input,
)
from mktsales.exceptions import InputTypeError, ParameterError

pd = pytest.importorskip("pandas")

#: Titles whose label any reasonable model gets right.
KNOWN = [("Senior Brand Manager", "marketing"), ("Realtor", "sales"), ("Registered nurse", "other")]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def _postings_csv(path: Path, n: int) -> Path:
    rows = [["id", "title", "description", "note"]]
    for i in range(n):
        title, _ = KNOWN[i % 3]
        rows.append([f"P{i}", title, f"Posting {i}: we need a {title.lower()}.", f"=note {i}" if i % 5 == 0 else ""])
    return _write_csv(path, rows)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _errors(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# -- one row ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "expected", "why"),
    [
        ("Close deals", None, ("Close deals", None), "a text alone"),
        ("Close deals", "AE", ("Close deals", "AE"), "text and title"),
        (None, "Realtor", ("", "Realtor"), "a title without text is labelled from the title"),
        ("   ", "Realtor", ("", "Realtor"), "a blank text counts as missing"),
        ("Close deals", "  ", ("Close deals", None), "a blank title counts as missing"),
        (b"Close deals", None, ("Close deals", None), "UTF-8 bytes are decoded"),
        (None, None, "missing_text", "nothing to label"),
        (float("nan"), None, "missing_text", "NaN is missing"),
        ("", None, "missing_text", "an empty text and no title"),
        (42, None, "text_not_string", "a number is not a text"),
        (["a"], None, "text_not_string", "a list is not a text"),
        ("Close deals", 7, "title_not_string", "a number is not a title"),
        (b"caf\xe9", None, "undecodable_bytes", "bytes that are not UTF-8"),
        ("caf\udce9", None, "undecodable_bytes", "a cell read with undecodable bytes"),
    ],
)
def test_row_input(text: Any, title: Any, expected: Any, why: str) -> None:
    """Each cell pair gives the text to classify or a named problem."""
    got = row_input(text, title, text_column="description", title_column="title")
    if isinstance(expected, str):
        assert isinstance(got, RowProblem), why
        assert got.code == expected, why
        assert got.code in ROW_ERRORS
        assert "'" in got.detail, "the detail names the column"
    else:
        assert got == expected, why


_ANY_CELL = st.one_of(
    st.none(), st.text(), st.binary(), st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2)
)


@given(text=_ANY_CELL, title=_ANY_CELL)
def test_row_input_never_raises(text: Any, title: Any) -> None:
    """Whatever the cells hold, the result is a text pair or a named problem, never an exception."""
    got = row_input(text, title, text_column="t", title_column="ti")
    if isinstance(got, RowProblem):
        assert got.code in ROW_ERRORS
    else:
        t, ti = got
        assert isinstance(t, str)
        assert ti is None or isinstance(ti, str)
        assert t.strip() or ti


def test_evidence_summary_lists_top_rules_per_dimension() -> None:
    """The summary is 'dimension: rule, rule; ...' with at most three rules per dimension, in dimension order."""
    p = classify("Close deals, hit the quarterly quota, build the brand and plan the annual campaign")
    summary = evidence_summary(p)
    parts = [part.split(": ") for part in summary.split("; ")]
    order = ["objective", "level", "scope", "nature", "horizon"]
    dims = [d for d, _ in parts]
    assert dims == sorted(dims, key=order.index)
    ids = {e.rule_id for e in p.evidence}
    for _, rules in parts:
        listed = rules.split(", ")
        assert 1 <= len(listed) <= 3
        assert set(listed) <= ids
    assert evidence_summary(classify("")) == ""


def test_prediction_values_follow_added_columns() -> None:
    """One value per added column, taken from the prediction."""
    p = classify("Realtor")
    values = dict(zip(ADDED_COLUMNS, prediction_values(p), strict=True))
    assert values["label"] == p.label == "sales"
    assert values["sales"] == p.scores["sales"]
    assert values["confidence"] == p.confidence
    assert values["uncertain"] is p.uncertain


# -- DataFrames ---------------------------------------------------------------------------------


def test_label_dataframe_adds_columns_and_leaves_input_alone() -> None:
    """A new frame with the input's columns and index, then the added ones; the input is unchanged."""
    df = pd.DataFrame(
        {"title": [t for t, _ in KNOWN], "text": ["", "", ""], "dept": ["a", "b", "c"]}, index=[10, 20, 30]
    )
    before = df.copy()
    out = label_dataframe(df, "text", title_column="title")
    pd.testing.assert_frame_equal(df, before)
    assert list(out.columns) == [*df.columns, *ADDED_COLUMNS]
    assert list(out.index) == [10, 20, 30]
    assert out["label"].tolist() == [label for _, label in KNOWN]
    assert out[["marketing", "sales", "other"]].sum(axis=1).round(6).tolist() == [1.0, 1.0, 1.0]
    assert str(out["label"].dtype) == "string"
    assert str(out["uncertain"].dtype) == "boolean"
    assert str(out["confidence"].dtype) == "float64"


def test_label_dataframe_equals_classify_one_by_one() -> None:
    """Every row gets exactly what classify() gives for it."""
    texts = ["Own the quarterly pipeline and close enterprise deals", "Plan SEO and PPC campaigns", "Fix the boiler"]
    out = label_dataframe(pd.DataFrame({"text": texts}), "text")
    for text, (_, row) in zip(texts, out.iterrows(), strict=True):
        p = classify(text)
        assert row["label"] == p.label
        assert row["confidence"] == p.confidence
        assert row["evidence"] == evidence_summary(p)


def test_label_dataframe_keeps_rows_it_cannot_label() -> None:
    """Rows without text, or with a non-string, keep missing values and their reason."""
    df = pd.DataFrame({"text": ["Realtor", None, 3, ""], "title": [None, None, None, "Registered nurse"]})
    out = label_dataframe(df, "text", title_column="title")
    assert len(out) == 4
    assert out["label"].isna().tolist() == [False, True, True, False]
    assert out["reason"].tolist()[1:3] == ["missing_text", "text_not_string"]
    assert out["label"].iloc[3] == "other"
    assert pd.isna(out["marketing"].iloc[1])
    assert pd.isna(out["uncertain"].iloc[1])


def test_label_dataframe_parallel_equals_serial() -> None:
    """Two processes give the same frame, in the same order, as one."""
    df = pd.DataFrame({"text": [t for t, _ in KNOWN] * 4})
    pd.testing.assert_frame_equal(label_dataframe(df, "text", n_process=2, batch_size=2), label_dataframe(df, "text"))


def test_label_dataframe_column_clash_needs_a_prefix() -> None:
    """An input column named like an added one is refused, with a prefix suggested; a prefix solves it."""
    df = pd.DataFrame({"text": ["Realtor"], "label": ["gold"]})
    with pytest.raises(ParameterError, match=r"\['label'\].*prefix"):
        label_dataframe(df, "text")
    out = label_dataframe(df, "text", prefix="mkt_")
    assert out["label"].tolist() == ["gold"]
    assert out["mkt_label"].tolist() == ["sales"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"text_column": "nope"}, ParameterError, "text_column 'nope'"),
        ({"text_column": "text", "title_column": "nope"}, ParameterError, "title_column 'nope'"),
        ({"text_column": "text", "n_process": 0}, ParameterError, "n_process"),
        ({"text_column": "text", "batch_size": 0}, ParameterError, "batch_size"),
        ({"text_column": "text", "prefix": 1}, InputTypeError, "prefix"),
    ],
)
def test_label_dataframe_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    """Bad arguments are errors naming the parameter and the value."""
    with pytest.raises(error, match=match):
        label_dataframe(pd.DataFrame({"text": ["x"]}), **kwargs)


def test_label_dataframe_rejects_non_frames() -> None:
    """Only a DataFrame is accepted."""
    with pytest.raises(InputTypeError, match="list"):
        label_dataframe([{"text": "x"}], "text")  # type: ignore[arg-type]


# -- files ----------------------------------------------------------------------------------------


def test_label_file_csv_keeps_columns_order_and_escapes(tmp_path: Path) -> None:
    """Every row comes back in order with its columns, the added ones, and formula cells escaped."""
    src = _postings_csv(tmp_path / "in.csv", 7)
    out = tmp_path / "out.csv"
    summary = label_file(src, out, text_column="description", title_column="title", id_column="id")
    rows = _read_csv(out)
    assert [r["id"] for r in rows] == [f"P{i}" for i in range(7)]
    assert list(rows[0]) == ["id", "title", "description", "note", *ADDED_COLUMNS]
    assert [r["label"] for r in rows] == [KNOWN[i % 3][1] for i in range(7)]
    assert rows[0]["note"] == "'=note 0"
    assert rows[0]["uncertain"] in ("true", "false")
    assert (summary.rows, summary.errors, summary.labels["sales"]) == (7, 0, 2)
    assert not (tmp_path / "out.csv.errors.jsonl").exists()
    assert not list(tmp_path.glob(".out.csv*")), "no run directory or temporary file is left"


def test_label_file_errors_file_and_summary(tmp_path: Path) -> None:
    """Unlabelled rows stay in the output and in the errors file (row, id); malformed records only in the latter."""
    src = tmp_path / "in.csv"
    src.write_bytes(
        b"id,title,description\n"
        b"A,Realtor,Sell homes\n"
        b"B,,\n"
        b"C,too,many,fields\n"
        b"D,Nurse,caf\xe9\n"
        b"E,Registered nurse,Care for patients\n"
    )
    out = tmp_path / "out.csv"
    summary = label_file(src, out, text_column="description", title_column="title", id_column="id")
    rows = _read_csv(out)
    assert [r["id"] for r in rows] == ["A", "B", "D", "E"]
    assert [r["label"] for r in rows] == ["sales", "", "", "other"]
    assert [r["reason"] for r in rows][1:3] == ["missing_text", "undecodable_bytes"]
    assert rows[2]["description"] == "caf\ufffd"
    errors = _errors(tmp_path / "out.csv.errors.jsonl")
    assert [(e["row"], e["line"], e["id"], e["reason"]) for e in errors] == [
        (2, 3, "B", "missing_text"),
        (3, 4, None, "malformed_csv"),
        (4, 5, "D", "undecodable_bytes"),
    ]
    assert errors[1]["raw"] == "C,too,many,fields\n"
    assert errors[2]["raw"] == "D,Nurse,caf\\xe9\n"
    assert (summary.records, summary.rows, summary.labelled) == (5, 4, 2)
    assert (summary.unlabelled, summary.bad_records, summary.errors) == (2, 1, 3)
    assert summary.errors_file == str(tmp_path / "out.csv.errors.jsonl")


def test_label_file_manifest(tmp_path: Path) -> None:
    """The manifest records versions, checksums, thresholds, options, command, times and the summary."""
    src = _postings_csv(tmp_path / "in.csv", 3)
    out = tmp_path / "out.jsonl"
    label_file(src, out, text_column="description", command="mktsales label in.csv -o out.jsonl")
    m = json.loads((tmp_path / "out.jsonl.manifest.json").read_text("utf-8"))
    for key in ("mktsales_version", "model_sha256", "rules_checksum", "thresholds", "started_at", "finished_at"):
        assert m[key], key
    assert m["command"] == "mktsales label in.csv -o out.jsonl"
    assert len(m["input"]["sha256"]) == 64
    assert len(m["output"]["sha256"]) == 64
    assert m["options"]["text_column"] == "description"
    assert m["summary"]["rows"] == 3


@pytest.mark.parametrize("out_name", ["out.jsonl", "out.tsv", "out.parquet"])
def test_label_file_formats_agree(tmp_path: Path, out_name: str) -> None:
    """JSONL, TSV and Parquet output hold the same labels as CSV output."""
    if out_name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    src = _postings_csv(tmp_path / "in.csv", 6)
    label_file(src, tmp_path / "ref.csv", text_column="description", title_column="title")
    label_file(src, tmp_path / out_name, text_column="description", title_column="title")
    ref = pd.read_csv(tmp_path / "ref.csv")
    got = {
        "out.jsonl": lambda p: pd.read_json(p, lines=True),
        "out.tsv": lambda p: pd.read_csv(p, sep="\t"),
        "out.parquet": pd.read_parquet,
    }[out_name](tmp_path / out_name)
    assert got["label"].tolist() == ref["label"].tolist()
    assert got["confidence"].round(12).tolist() == ref["confidence"].round(12).tolist()


def test_label_file_from_jsonl_with_varying_keys(tmp_path: Path) -> None:
    """JSONL to CSV: columns are every key seen; invalid lines and wrong types go to the errors file."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"text": "Realtor"}\n{"text": "Registered nurse", "extra": 1}\n{oops\n{"text": 5}\n', encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    summary = label_file(src, out, text_column="text")
    rows = _read_csv(out)
    assert list(rows[0])[:2] == ["text", "extra"]
    assert [r["label"] for r in rows] == ["sales", "other", ""]
    assert rows[1]["extra"] == "1"
    assert [e["reason"] for e in _errors(tmp_path / "out.csv.errors.jsonl")] == ["invalid_json", "text_not_string"]
    assert summary.errors == 2


def test_label_file_stream_to_stream(tmp_path: Path) -> None:
    """'-' reads JSONL from stdin and writes JSONL to stdout, errors to the stream given."""
    stdin = io.BytesIO(b'{"id": 1, "text": "Realtor"}\n{"id": 2}\n')
    stdout, errors = io.StringIO(), io.StringIO()
    summary = label_file("-", "-", text_column="text", id_column="id", errors=errors, stdin=stdin, stdout=stdout)
    lines = [json.loads(x) for x in stdout.getvalue().splitlines()]
    assert [(r["id"], r["label"]) for r in lines] == [(1, "sales"), (2, None)]
    assert json.loads(errors.getvalue())["id"] == 2
    assert summary.output == "-"


def test_label_file_refuses_overwrites(tmp_path: Path) -> None:
    """An existing output needs force; the input is never overwritten, even with force."""
    src = _postings_csv(tmp_path / "in.csv", 2)
    out = tmp_path / "out.csv"
    out.write_text("precious")
    with pytest.raises(ParameterError, match=r"already exists.*force"):
        label_file(src, out, text_column="description")
    assert out.read_text() == "precious"
    label_file(src, out, text_column="description", force=True)
    assert out.read_text().startswith("id,")
    with pytest.raises(ParameterError, match="input"):
        label_file(src, src, text_column="description", force=True, output_format="csv")
    assert src.read_text().startswith("id,title")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"text_column": "nope"}, "text_column 'nope'"),
        ({"text_column": "description", "id_column": "nope"}, "id_column 'nope'"),
        ({"text_column": "description", "chunk_size": 0}, "chunk_size"),
        ({"text_column": "description", "output_format": "xlsx"}, "xlsx"),
    ],
)
def test_label_file_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    """Bad options are refused before anything is written."""
    src = _postings_csv(tmp_path / "in.csv", 2)
    with pytest.raises(ParameterError, match=match):
        label_file(src, tmp_path / "out.csv", **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_label_file_missing_input(tmp_path: Path) -> None:
    """A missing input file is a ParameterError naming it."""
    with pytest.raises(ParameterError, match=r"nothere\.csv"):
        label_file(tmp_path / "nothere.csv", tmp_path / "out.csv", text_column="t")


def _interrupt_after(chunks: int) -> Any:
    seen = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if len(seen) == chunks:
            raise KeyboardInterrupt

    return progress


@pytest.mark.parametrize("out_name", ["out.csv", "out.parquet"])
def test_resume_gives_the_same_output_as_an_uninterrupted_run(tmp_path: Path, out_name: str) -> None:
    """A run stopped after two chunks leaves no output; resuming it produces byte-identical files."""
    if out_name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    src = tmp_path / "in.csv"
    rows = [["id", "title", "description"]]
    for i in range(23):
        rows.append([f"P{i}", "" if i == 7 else KNOWN[i % 3][0], "" if i == 7 else f"text {i}"])
    _write_csv(src, rows)
    with src.open("a", encoding="utf-8") as fh:
        fh.write("bad,line,with,too,many\n")
    opts: dict[str, Any] = {"text_column": "description", "title_column": "title", "chunk_size": 5}
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    label_file(src, ref_dir / out_name, **opts)

    out = tmp_path / out_name
    with pytest.raises(KeyboardInterrupt):
        label_file(src, out, progress=_interrupt_after(2), **opts)
    assert not out.exists()
    run_dir = tmp_path / f".{out_name}.mktsales-run"
    assert sorted(p.name for p in run_dir.glob("*.done.json")) == ["00000000.done.json", "00000001.done.json"]
    (run_dir / "00000002.part.tmp").write_text("half a chunk")  # what a kill in mid-write leaves

    with pytest.raises(ParameterError, match="resume"):
        label_file(src, out, **opts)
    seen: list[Progress] = []
    summary = label_file(src, out, resume=True, progress=seen.append, **opts)
    assert seen[0].records == 15
    assert summary.session_records == 14
    assert (summary.records, summary.errors) == (24, 2)
    assert out.read_bytes() == (ref_dir / out_name).read_bytes()
    assert (tmp_path / f"{out_name}.errors.jsonl").read_bytes() == (ref_dir / f"{out_name}.errors.jsonl").read_bytes()
    assert not run_dir.exists()
    manifest = json.loads((tmp_path / f"{out_name}.manifest.json").read_text("utf-8"))
    assert len(manifest["resumed_at"]) == 1
    assert manifest["summary"]["records"] == 24


def test_resume_refuses_a_changed_input(tmp_path: Path) -> None:
    """Resuming against a modified input is refused, and the interrupted run is kept."""
    src = _postings_csv(tmp_path / "in.csv", 12)
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        label_file(src, out, text_column="description", chunk_size=4, progress=_interrupt_after(1))
    with src.open("a", encoding="utf-8") as fh:
        fh.write("P99,Realtor,more,\n")
    with pytest.raises(ParameterError, match="input_sha256"):
        label_file(src, out, text_column="description", chunk_size=4, resume=True)
    assert (tmp_path / ".out.csv.mktsales-run").is_dir()
    label_file(src, out, text_column="description", force=True)
    assert len(_read_csv(out)) == 13


def test_resume_without_an_interrupted_run_starts_afresh(tmp_path: Path) -> None:
    """resume=True on a fresh output simply runs."""
    src = _postings_csv(tmp_path / "in.csv", 3)
    summary = label_file(src, tmp_path / "out.csv", text_column="description", resume=True)
    assert summary.rows == summary.session_records == 3


def test_parallel_run_uses_one_pool_and_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """n_process=2 makes one process pool for the whole run, and writes the same file as one process."""
    src = _postings_csv(tmp_path / "in.csv", 30)
    label_file(src, tmp_path / "serial.csv", text_column="description", title_column="title")
    pools: list[Any] = []
    original = multiprocessing.pool.Pool.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        pools.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(multiprocessing.pool.Pool, "__init__", counting_init)
    label_file(
        src,
        tmp_path / "parallel.csv",
        text_column="description",
        title_column="title",
        n_process=2,
        chunk_size=4,
        batch_size=3,
    )
    assert len(pools) == 1
    assert (tmp_path / "parallel.csv").read_bytes() == (tmp_path / "serial.csv").read_bytes()


def test_summary_figures() -> None:
    """Derived figures of a summary: labelled, errors, uncertain rate and rows per second."""
    s = LabelSummary(
        records=10,
        rows=9,
        labels={"marketing": 4, "sales": 3, "other": 0},
        uncertain=2,
        unlabelled=2,
        bad_records=1,
        seconds=2.0,
        session_records=10,
        output="x.csv",
    )
    assert (s.labelled, s.errors, s.uncertain_rate, s.rows_per_second) == (7, 3, 2 / 7, 5.0)
    assert s.to_dict()["labels"] == {"marketing": 4, "sales": 3, "other": 0}
