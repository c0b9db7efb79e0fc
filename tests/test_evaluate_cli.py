"""The `mktsales evaluate` command: formats, label maps, bad input, exit codes, --compare and --cv."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from mktsales.cli import main

ROWS = [
    ("P-1", "Senior Brand Manager", "Advertising"),
    ("P-2", "SEO specialist", "Marketing"),
    ("P-3", "Realtor", "Sales"),
    ("P-4", "Inside sales representative", "Business Development"),
    ("P-5", "Registered nurse", "Nursing"),
    ("P-6", "Civil engineer", "Engineering"),
]
LABEL_MAP = {"Business Development": "sales", "Advertising": "marketing", "*": "other"}
FAST = ["--n-bootstrap", "20"]


def _write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("id", "title", "function")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t" if path.suffix == ".tsv" else ",")
        w.writerow(header)
        w.writerows(rows)
    return path


def _args(path: Path, *extra: str) -> list[str]:
    return ["evaluate", str(path), "--text-column", "title", "--label-column", "function", *FAST, *extra]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A small CSV export with the user's own function names."""
    return _write_csv(tmp_path / "sample.csv", ROWS)


def test_csv_with_label_map_writes_every_report_file(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV with a label map is evaluated: exit 0, summary printed, report files written."""
    out = tmp_path / "out"
    code = main([*_args(sample, "--label-map", json.dumps(LABEL_MAP), "--id-column", "id", "--out", str(out))])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith(f"mktsales evaluation: {sample}")
    assert "wrote 9 files" in captured.err
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["n"] == len(ROWS)
    assert report["accuracy"]["value"] == 1.0
    assert [r["id"] for r in report["rows"]] == [r[0] for r in ROWS]
    with (out / "predictions.csv").open(encoding="utf-8", newline="") as fh:
        preds = list(csv.DictReader(fh))
    assert [p["raw_label"] for p in preds] == [r[2] for r in ROWS]
    assert [p["gold"] for p in preds] == ["marketing", "marketing", "sales", "sales", "other", "other"]
    for name in ("report.md", "report.html", "review.csv", "confusion_matrix.png"):
        assert (out / name).stat().st_size > 0


def _frame() -> Any:
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(ROWS, columns=["id", "title", "function"])


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".parquet"])
def test_other_formats_give_the_same_report(
    suffix: str, sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TSV, JSON Lines and Parquet files give the same figures as the CSV."""
    path = tmp_path / f"sample{suffix}"
    if suffix == ".tsv":
        _write_csv(path, ROWS)
    elif suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps(dict(zip(("id", "title", "function"), r, strict=True))) + "\n" for r in ROWS)
        )
    else:
        pytest.importorskip("pyarrow")
        _frame().to_parquet(path)
    lm = ["--label-map", json.dumps(LABEL_MAP), "--json"]
    assert main(_args(sample, *lm)) == 0
    expected = json.loads(capsys.readouterr().out)
    assert main(_args(path, *lm)) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["n"] == expected["n"] == len(ROWS)
    for key in ("accuracy", "macro_f1", "confusion_matrix", "per_class", "calibration"):
        assert got[key] == expected[key]


def test_label_map_from_a_file(sample: Path, tmp_path: Path) -> None:
    """--label-map also takes the path of a JSON file."""
    lm = tmp_path / "map.json"
    lm.write_text(json.dumps(LABEL_MAP))
    assert main(_args(sample, "--label-map", str(lm))) == 0


def test_unmapped_labels_exit_2_with_counts_and_lines(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without '*', labels nothing maps stop the run; the message names each label, its count and its lines."""
    lm = {"Business Development": "sales", "Advertising": "marketing"}
    assert main(_args(sample, "--label-map", json.dumps(lm))) == 2
    err = capsys.readouterr().err
    assert "'Nursing': 1 row (row 5 (line 6))" in err
    assert "'Engineering': 1 row (row 6 (line 7))" in err
    assert "--skip-unmapped" in err


def test_skip_unmapped_exits_1_and_lists_the_rows(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--skip-unmapped leaves those rows out, lists them in report.json and exits 1."""
    lm = {"Business Development": "sales", "Advertising": "marketing"}
    out = tmp_path / "out"
    assert main(_args(sample, "--label-map", json.dumps(lm), "--skip-unmapped", "--out", str(out))) == 1
    assert "left out 2 of 6 rows" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["n"] == 4
    assert [(r["id"], r["value"]) for r in report["skipped"]["rows"]] == [("5", "Nursing"), ("6", "Engineering")]


def test_empty_text_rows_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rows with empty text stop the run naming row and line; --skip-empty leaves them out (exit 1)."""
    path = _write_csv(
        tmp_path / "e.csv", [("1", "Realtor", "Sales"), ("2", "  ", "Sales"), ("3", "SEO specialist", "Marketing")]
    )
    assert main(_args(path)) == 2
    assert "row 2 (line 3)" in capsys.readouterr().err
    assert main(_args(path, "--skip-empty")) == 1


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("", (), "is empty"),
        ("id,title,function\n", (), "is empty: no data rows"),
        ("id,title,function\n1,Realtor,Sales\n2,SEO,Marketing,extra\n", (), "line 3 (row 2): malformed CSV"),
        ('id,title,function\n1,"Realtor,Sales\n2,SEO,Marketing\n', (), "malformed CSV"),
        ("id,title,function\n1,Realtor,Sales\n", ("--label-column", "label"), "no column 'label' (--label-column)"),
        ("id,title,function\n1,Realtor,Sales\n", ("--label-map", "{not json"), "--label-map: invalid JSON"),
        ("id,title,function\n1,Realtor,Sales\n", ("--label-map", '{"x": "finance"}'), "must be one of"),
        ("id,title,function\n1,Realtor,Sales\n", ("--label-map", "nofile.json"), "neither (no such file)"),
        ("id,title,function\n1,Realtor,Sales\n", ("--target-precision", "1.5"), "target_precision must be in"),
        ("id,title,function\n1,Realtor,Sales\n2,Nurse,Other\n", ("--binary",), "binary mode takes only"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    content: str, extra: tuple[str, ...], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Empty files, malformed lines, missing columns and bad options exit 2 and say what is wrong."""
    path = tmp_path / "in.csv"
    path.write_text(content, encoding="utf-8")
    args = _args(path)
    if "--label-column" in extra:
        args = ["evaluate", str(path), "--text-column", "title", *FAST, *extra]
    else:
        args += list(extra)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("mktsales: error:")
    assert message in err


def test_malformed_jsonl_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A JSON Lines file with a broken line exits 2 naming the line."""
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "Realtor", "label": "sales"}\n\n{"text": oops}\n', encoding="utf-8")
    assert main(["evaluate", str(path), *FAST]) == 2
    assert "line 3" in capsys.readouterr().err


def test_missing_file_and_unknown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file or an unknown extension exits 2; --format names the format."""
    assert main(["evaluate", str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "data.txt"
    path.write_text("text,label\nRealtor,sales\nSEO specialist,marketing\n", encoding="utf-8")
    assert main(["evaluate", str(path), *FAST]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["evaluate", str(path), "--format", "csv", *FAST]) == 0


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--binary evaluates a marketing/sales file on two classes."""
    path = _write_csv(tmp_path / "b.csv", [r for r in ROWS if r[2] in ("Marketing", "Sales")])
    assert main([*_args(path, "--binary", "--json")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["labels"] == ["marketing", "sales"]
    assert list(report["per_class"]) == ["marketing", "sales"]


def test_out_is_not_overwritten_without_force(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second run into the same --out fails until --force is given."""
    out = tmp_path / "out"
    lm = ["--label-map", json.dumps(LABEL_MAP), "--out", str(out)]
    assert main(_args(sample, *lm)) == 0
    assert main(_args(sample, *lm)) == 2
    assert "--force" in capsys.readouterr().err
    assert main(_args(sample, *lm, "--force")) == 0


def test_compare_two_reports(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--compare prints the differences with intervals, paired when the rows are the same."""
    a, b = tmp_path / "a", tmp_path / "b"
    lm = ["--label-map", json.dumps(LABEL_MAP)]
    assert main(_args(sample, *lm, "--out", str(a))) == 0
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps({"id": "nurse-sales", "dimension": "objective", "pole": "sales", "weight": 3, "pattern": "nurse"})
        + "\n"
    )
    assert main(_args(sample, *lm, "--out", str(b), "--extra-rules", str(extra))) == 0
    capsys.readouterr()
    assert main(["evaluate", "--compare", str(a / "report.json"), str(b / "report.json"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "paired bootstrap on the same rows" in out
    assert "B - A" in out
    cmp_dir = tmp_path / "cmp"
    assert main(["evaluate", "--compare", str(a / "report.json"), str(b / "report.json"), "--out", str(cmp_dir)]) == 0
    assert json.loads((cmp_dir / "comparison.json").read_text())["paired"] is True
    assert (cmp_dir / "comparison.md").is_file()


def test_compare_usage_errors(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--compare with a FILE, with a non-report, or neither FILE nor --compare, exit 2."""
    bogus = tmp_path / "x.json"
    bogus.write_text("[]")
    assert main(["evaluate", str(sample), "--compare", str(bogus), str(bogus)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["evaluate", "--compare", str(bogus), str(bogus)]) == 2
    assert "not a mktsales evaluation report" in capsys.readouterr().err
    assert main(["evaluate"]) == 2
    assert "needs a FILE" in capsys.readouterr().err


def test_cross_validation_from_the_command_line(
    small_training_set: tuple[list[str], list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--cv K trains inside K folds of the file and reports the pooled out-of-fold predictions."""
    X, y = small_training_set
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in zip(X, y, strict=True)))
    assert main(["evaluate", str(path), "--cv", "2", "--json", *FAST]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["n"] == len(X)
    assert report["classifier"]["cross_validation"]["folds"] == 2
    assert {r["fold"] for r in report["rows"]} == {1, 2}
    assert "fold 2/2" in captured.err
    assert main(["evaluate", str(path), "--cv", "2", "--model", "m.joblib"]) == 2
    assert "cannot be combined with --model" in capsys.readouterr().err
