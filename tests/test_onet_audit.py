"""The blind re-annotation of O*NET (benchmarks/onet_guide_labels.tsv) and the audit that reads it."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from conftest import REPO, load_benchmark, shared_dataset


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    return load_benchmark("onet_audit")


def test_annotation_file_is_well_formed(audit: ModuleType) -> None:
    """Every row has a known view, label and clarity, and no id repeats (read_annotations checks)."""
    notes = audit.read_annotations()
    views = [view for view, _, _ in notes.values()]
    assert views.count("tasks") == 897
    assert views.count("titles") == 1595
    assert {label for _, label, _ in notes.values()} == {"marketing", "sales", "other"}


def test_annotation_file_holds_no_text() -> None:
    """Only ids and labels are kept in the repository: the O*NET texts stay in ../shared."""
    with (REPO / "benchmarks" / "onet_guide_labels.tsv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        assert next(reader) == ["id", "view", "guide_label", "clarity"]
        assert all(len(row) == 4 and row[0].startswith(("task-", "title-")) for row in reader)


def test_read_annotations_rejects_repeats_and_unknown_values(audit: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    header = "id\tview\tguide_label\tclarity\n"
    path.write_text(header + "task-1\ttasks\tsales\tclear\ntask-1\ttasks\tother\tclear\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeated"):
        audit.read_annotations(path)
    path.write_text(header + "task-1\ttasks\tfinance\tclear\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad row"):
        audit.read_annotations(path)


def test_agreement_figures(audit: ModuleType) -> None:
    ref = ["sales", "sales", "marketing", "other"]
    same = audit.agreement(ref, ref)
    assert same["accuracy"] == 1.0
    assert same["kappa"] == pytest.approx(1.0)
    half = audit.agreement(ref, ["sales", "other", "marketing", "sales"])
    assert half["accuracy"] == 0.5
    assert half["agree_sales"] == 0.5
    assert half["agree_marketing"] == 1.0
    assert half["agree_other"] == 0.0
    assert half["kappa"] < 0.5


def test_guide_scores_take_marketing_vs_sales_on_the_rows_the_guide_sides_on(audit: ModuleType) -> None:
    onet = ["marketing", "sales", "sales", "other"]
    guide = ["marketing", "other", "sales", "other"]
    s = audit.guide_scores(onet, guide)
    # The guide's "other" on the second row takes no side: marketing vs sales is right on both
    # rows it sides on.
    assert s["mvs_f1"] == 1.0
    assert s["mvs_n"] == 2.0
    assert s["macro_f1"] < 1.0
    assert np.array_equal(audit.one_hot(["sales"]), np.array([[0.0, 1.0, 0.0]]))


def test_every_onet_row_is_annotated_once(audit: ModuleType) -> None:
    """The annotation covers exactly the rows of the evaluation files (skips without ../shared)."""
    from mktsales.public_data import read_onet

    rows = read_onet(shared_dataset("onet"))
    notes = audit.read_annotations()
    assert {r.id for r in rows} == set(notes)
    assert all(notes[r.id][0] == r.view for r in rows)
