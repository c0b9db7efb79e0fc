"""Hostile and odd input through the public entry points: nothing crashes, nothing is lost."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mktsales import classify, label_file

ZERO_WIDTH_AND_CONTROL = "Ac\u200bcount Exe\u200dcutive\x00\x07 \ufeff– close\u2028deals\x1b[31m"


def test_fifty_megabyte_text_gives_a_defined_truncated_result() -> None:
    """A 50 MB string is cut to the documented caps and labelled."""
    text = ("We close deals and hit a monthly quota. " * 1_400_000)[: 50 * 1024 * 1024]
    p = classify(text)
    assert p.truncated
    assert p.label == "sales"
    assert sum(p.scores.values()) == pytest.approx(1.0)


def test_zero_width_control_characters_and_deep_html() -> None:
    """Zero-width and control characters and 5,000 nested tags still give a labelled result."""
    assert classify(ZERO_WIDTH_AND_CONTROL).label == "sales"
    deep = "<div><span>" * 5000 + "Senior SEO and PPC specialist" + "</span></div>" * 5000
    assert classify(deep).label == "marketing"


def test_csv_with_a_ten_megabyte_cell_and_hostile_cells(tmp_path: Path) -> None:
    """A 10 MB cell, control characters, invalid UTF-8 and formula cells: every row comes back."""
    src = tmp_path / "hostile.csv"
    big = "Sell advertising space to local businesses and hit weekly targets. " * 160_000  # ~10.6 MB
    rows = [
        ["1", "Media Sales Executive", big],
        ["2", "=cmd|' /C calc'!A0", "Plan the brand campaign and brief the creative agency."],
        ["3", "Account Executive", ZERO_WIDTH_AND_CONTROL],
        ["4", "", ""],
        ["5", "@SUM(1+1)", "<div>" * 2000 + "Registered nurse on a surgical ward" + "</div>" * 2000],
    ]
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["posting_id", "title", "description"])
        w.writerows(rows)
    with src.open("ab") as fh:  # a row with bytes that are not UTF-8
        fh.write(b'6,Sales Assistant,"Greet customers in our caf\xe9 and ring up sales"\r\n')
    out = tmp_path / "out.csv"
    summary = label_file(
        src, out, text_column="description", title_column="title", id_column="posting_id", chunk_size=2
    )
    assert summary.records == 6
    assert summary.rows == 6
    with out.open(encoding="utf-8", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert [r["posting_id"] for r in got] == ["1", "2", "3", "4", "5", "6"]
    assert got[0]["label"] == "sales"
    assert len(got[0]["description"]) == len(big)  # the huge cell is written back whole
    assert got[1]["title"].startswith("'=")  # formula escaped in CSV output
    assert got[4]["title"].startswith("'@")
    assert got[2]["label"] == "sales"
    assert got[3]["label"] == ""
    assert got[3]["reason"] == "missing_text"
    assert got[5]["label"] == ""
    assert got[5]["reason"] == "undecodable_bytes"
    errors = [json.loads(line) for line in Path(summary.errors_file or "").read_text().splitlines()]
    assert sorted(e["reason"] for e in errors) == ["missing_text", "undecodable_bytes"]
    assert src.read_bytes().count(b"\n") == 7  # the input is untouched
