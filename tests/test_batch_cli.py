"""The `mktsales label` command: exit codes, output, errors file, summary, progress and resume."""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from mktsales.batch import label_file
from mktsales.cli import main

HEADER = ["posting_id", "title", "description", "department"]
ROWS = [
    ["R1", "Senior Brand Manager", "Own the brand plan and brief our agencies.", "Marketing"],
    ["R2", "Realtor", "Show homes and close sales.", "Sales"],
    ["R3", "Registered nurse", "Care for patients on the ward.", "Clinical"],
]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([HEADER, *rows])
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _label(src: Path, out: Path | str, *extra: str) -> int:
    return main(["label", str(src), "-o", str(out), "--text-column", "description", "--title-column", "title", *extra])


def test_label_writes_output_summary_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0; the output has every row and the added columns; the summary goes to stderr; a manifest is written."""
    src = _csv(tmp_path / "in.csv", ROWS)
    out = tmp_path / "out.csv"
    assert _label(src, out, "--id-column", "posting_id") == 0
    rows = _read(out)
    assert [(r["posting_id"], r["label"]) for r in rows] == [("R1", "marketing"), ("R2", "sales"), ("R3", "other")]
    assert rows[0]["department"] == "Marketing"
    err = capsys.readouterr().err
    assert "labelled 3 of 3 rows" in err
    assert "uncertain" in err
    assert "rows/s" in err
    manifest = json.loads((tmp_path / "out.csv.manifest.json").read_text("utf-8"))
    assert shlex.split(manifest["command"]) == [
        "mktsales",
        "label",
        str(src),
        "-o",
        str(out),
        "--text-column",
        "description",
        "--title-column",
        "title",
        "--id-column",
        "posting_id",
    ]


def test_label_exit_1_when_rows_go_to_the_errors_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A row without text and a malformed line give exit 1, an errors file, and a count in the summary."""
    src = _csv(tmp_path / "in.csv", [*ROWS, ["R4", "", "", "HR"]])
    with src.open("a", encoding="utf-8") as fh:
        fh.write("R5,a,b,c,d,e\n")
    out = tmp_path / "out.csv"
    assert _label(src, out, "--id-column", "posting_id") == 1
    assert len(_read(out)) == 4
    errors = [json.loads(x) for x in (tmp_path / "out.csv.errors.jsonl").read_text("utf-8").splitlines()]
    assert [(e["row"], e["id"], e["reason"]) for e in errors] == [(4, "R4", "missing_text"), (5, None, "malformed_csv")]
    err = capsys.readouterr().err
    assert "1 rows kept without a label, 1 records not parsed" in err
    assert "out.csv.errors.jsonl" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--text-column", "body"], "text_column 'body'"),
        (["--text-column", "description", "--jobs", "0"], "--jobs must be"),
        (["--text-column", "description", "--chunk-size", "0"], "--chunk-size must be"),
        (["--text-column", "description", "--output-format", "csv", "--encoding", "utf-16"], "utf-16"),
    ],
)
def test_label_bad_usage_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    """Bad options exit 2 with a message naming the problem, and write nothing."""
    src = _csv(tmp_path / "in.csv", ROWS)
    assert main(["label", str(src), "-o", str(tmp_path / "out.csv"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_label_column_clash_asks_for_a_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Relabelling a labelled file is refused with a hint; --prefix makes it work."""
    src = _csv(tmp_path / "in.csv", ROWS)
    once = tmp_path / "once.csv"
    assert _label(src, once, "-q") == 0
    assert _label(once, tmp_path / "twice.csv") == 2
    assert "--prefix" in capsys.readouterr().err
    assert _label(once, tmp_path / "twice.csv", "--prefix", "v2_", "-q") == 0
    rows = _read(tmp_path / "twice.csv")
    assert rows[0]["label"] == rows[0]["v2_label"] == "marketing"


def test_label_refuses_existing_output_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An existing output is kept (exit 2) unless --force."""
    src = _csv(tmp_path / "in.csv", ROWS)
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    assert _label(src, out) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    assert _label(src, out, "--force", "-q") == 0
    assert len(_read(out)) == 3


def test_label_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--quiet: no progress bar and no summary."""
    src = _csv(tmp_path / "in.csv", ROWS)
    assert _label(src, tmp_path / "out.csv", "--quiet") == 0
    assert capsys.readouterr() == ("", "")


def test_label_progress_bar_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the bar shows rows, rows/s and a percentage; off a terminal it stays silent."""
    src = _csv(tmp_path / "in.csv", ROWS * 4)
    assert _label(src, tmp_path / "plain.csv", "--chunk-size", "2") == 0
    assert "\r" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _label(src, tmp_path / "tty.csv", "--chunk-size", "2") == 0
    err = capsys.readouterr().err
    assert "\r" in err
    assert "rows/s" in err
    assert "%" in err


def test_label_stdin_to_stdout(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """'-' reads JSONL from stdin and writes JSONL to stdout; rows that cannot be labelled go to stderr."""
    data = b'{"id": "a", "description": "Realtor"}\n{"id": "b", "description": null}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["label", "-", "-o", "-", "--text-column", "description", "--id-column", "id"]) == 1
    captured = capsys.readouterr()
    out = [json.loads(x) for x in captured.out.splitlines()]
    assert [(r["id"], r["label"]) for r in out] == [("a", "sales"), ("b", None)]
    assert '"reason": "missing_text"' in captured.err


def test_label_resume_after_interruption(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--resume finishes an interrupted run with the same bytes as a run that was never interrupted."""
    src = _csv(tmp_path / "in.csv", ROWS * 5)
    assert _label(src, tmp_path / "ref.csv", "--chunk-size", "4", "-q") == 0
    calls: list[Any] = []

    def stop(p: Any) -> None:
        calls.append(p)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        label_file(
            src, tmp_path / "out.csv", text_column="description", title_column="title", chunk_size=4, progress=stop
        )
    assert _label(src, tmp_path / "out.csv", "--chunk-size", "4") == 2
    assert "--resume" in capsys.readouterr().err
    assert _label(src, tmp_path / "out.csv", "--resume", "-q") == 0
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()


def test_label_interrupted_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C gives exit code 130."""
    import mktsales.batch_cli

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(mktsales.batch_cli, "label_file", interrupted)
    assert _label(_csv(tmp_path / "in.csv", ROWS), tmp_path / "out.csv") == 130


def test_label_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`mktsales label --help` documents the options and the formula escaping."""
    assert main(["label", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--text-column", "--title-column", "--id-column", "--jobs", "--resume", "--force", "--prefix"):
        assert option in out
    assert "formulas" in out
