"""Rendering of evaluation reports: terminal table, Markdown, self-contained HTML and PNG plots."""

from __future__ import annotations

import base64
import re
import struct
from html.parser import HTMLParser
from typing import Any

import pytest

from mktsales import report as report_module
from mktsales.evaluation import compare_reports, evaluate
from mktsales.report import (
    PLOT_TITLES,
    fmt,
    fmt_estimate,
    format_comparison,
    format_summary,
    make_figures,
    render_plots,
    text_table,
    to_html,
    to_markdown,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXTS = [
    "Senior Brand Manager",
    "SEO specialist",
    "Realtor",
    "Inside sales representative",
    "Registered nurse",
    "Civil engineer",
    "Plan the <script>alert(1)</script> brand campaign | and close deals",
    "Account Executive",
]
# The row with markup is labelled "other" on purpose: its text names a brand campaign and closing
# deals, so any classifier gets it wrong and the report shows its text among the mistakes.
LABELS_RAW = ["marketing", "marketing", "sales", "sales", "other", "other", "other", "HR"]


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    """A small report with a sure mistake (whose text holds markup) and one skipped row."""
    rep = evaluate(TEXTS, LABELS_RAW, skip_unmapped=True, n_bootstrap=30, source="sample.csv")
    out = rep.to_dict()
    assert any("<script>" in e["text"] for e in out["errors"]["most_confident"])
    return out


@pytest.fixture(scope="module")
def pngs(data: dict[str, Any]) -> dict[str, bytes]:
    """The plots rendered once."""
    return render_plots(data)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_format_helpers() -> None:
    """Numbers, missing values and estimates are formatted for tables."""
    assert fmt(None) == "–"
    assert fmt(0.12345) == "0.123"
    assert fmt(7) == "7"
    assert fmt(True) == "yes"
    assert fmt_estimate({"value": -0.01, "ci_low": -0.02, "ci_high": 0.005}, signed=True) == "-0.010 [-0.020, +0.005]"
    assert fmt_estimate({"value": 0.5, "ci_low": None, "ci_high": None}) == "0.500"
    assert fmt_estimate({"value": None, "ci_low": None, "ci_high": None}) == "–"


def test_text_table_aligns_columns() -> None:
    """Columns are padded to their widest cell, with no trailing spaces."""
    lines = text_table(["a", "long header"], [["xyz", "1"], ["q", ""]]).splitlines()
    assert lines[0] == "a    long header"
    assert lines[1] == "---  -----------"
    assert lines[3] == "q"
    assert all(line == line.rstrip() for line in lines)


def test_terminal_summary_has_headline_classes_and_skips(data: dict[str, Any]) -> None:
    """The terminal summary shows the headline figures, each class, the ablation and the skipped rows."""
    out = format_summary(data)
    assert out.startswith("mktsales evaluation: sample.csv")
    for needle in ("accuracy", "macro-F1", "marketing-vs-sales F1", "Brier", "rules only", "model only", "hybrid"):
        assert needle in out
    for label in ("marketing", "sales", "other"):
        assert re.search(rf"^{label}\s", out, re.MULTILINE)
    assert fmt_estimate(data["accuracy"]) in out
    assert "skipped: 1 row (unmapped_label 1)" in out
    assert "target precision 0.95" in out


def test_markdown_has_every_section_and_links_the_plots(data: dict[str, Any]) -> None:
    """Markdown holds every section, the confusion matrix, escaped cells, and links to the PNG files."""
    md = to_markdown(data, images=[f"{name}.png" for name in PLOT_TITLES])
    for heading in (
        "Overview",
        "Headline figures",
        "Per class",
        "Confusion matrix",
        "Calibration",
        "Coverage and the uncertain flag",
        "Ablation: rules only, model only, hybrid",
        "Rules",
        "Dimensions",
        "Errors and review",
        "Skipped rows",
    ):
        assert f"\n## {heading}\n" in md
    for name, title in PLOT_TITLES.items():
        assert f"![{title}]({name}.png)" in md
    cm = data["confusion_matrix"]["matrix"]
    assert f"| **marketing** | {cm[0][0]} | {cm[0][1]} | {cm[0][2]} |" in md
    for line in md.splitlines():
        if line.startswith("|") and "<script>" in line:
            assert "\\|" in line  # a pipe inside a cell must not split the row
    without = to_markdown(data)
    assert "needs matplotlib" in without


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained(data: dict[str, Any], pngs: dict[str, bytes]) -> None:
    """The HTML embeds every plot as a data URI, loads nothing else, and escapes user text."""
    page = to_html(data, pngs)
    parser = _Collector()
    parser.feed(page)
    tags = parser.tags
    assert not [t for t, a in tags if t in ("script", "link", "iframe")]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    images = [a for t, a in tags if t == "img"]
    assert len(images) == len(PLOT_TITLES)
    for attrs in images:
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,")
        width, height = _png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width > 200
        assert height > 200
        assert attrs["alt"] in PLOT_TITLES.values()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "mktsales evaluation: sample.csv" in "".join(parser.text)


def test_plots_are_valid_pngs(pngs: dict[str, bytes]) -> None:
    """Every plot is a PNG of a readable size."""
    assert sorted(pngs) == sorted(f"{name}.png" for name in PLOT_TITLES)
    for png in pngs.values():
        width, height = _png_size(png)
        assert width >= 400
        assert height >= 300


def test_plots_have_titles_axis_labels_and_class_names(data: dict[str, Any]) -> None:
    """Each plot has a title, labelled axes, and names the classes it shows."""
    figs = make_figures(data)
    assert set(figs) == set(PLOT_TITLES)
    labels = data["settings"]["labels"]
    for name, fig in figs.items():
        axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        assert axes, name
        for ax in axes:
            assert ax.get_title(), name
            assert ax.get_xlabel(), name
        assert axes[0].get_ylabel(), name
    cm = figs["confusion_matrix"].axes[0]
    assert [t.get_text() for t in cm.get_xticklabels()] == labels
    assert [t.get_text() for t in cm.get_yticklabels()] == labels
    assert (cm.get_xlabel(), cm.get_ylabel()) == ("predicted label", "gold label")
    dims = figs["dimensions"]
    assert [ax.get_title().split(" (")[0] for ax in dims.axes] == [d["dimension"] for d in data["dimensions"]]
    legend = dims.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == labels
    assert figs["reliability"].axes[0].get_legend() is not None
    assert "threshold" in figs["coverage"].axes[0].get_xlabel()


def test_without_matplotlib_the_documents_still_render(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Without matplotlib there are no plots, and the HTML and Markdown say so instead of failing."""

    def missing(_d: Any) -> Any:
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(report_module, "make_figures", missing)
    assert render_plots(data) == {}
    assert "needs matplotlib" in to_html(data, render_plots(data))


def test_comparison_rendering(data: dict[str, Any]) -> None:
    """A comparison renders as a terminal table and as Markdown, with the kind of bootstrap named."""
    cmp = compare_reports(data, data, n_bootstrap=20).to_dict()
    text = format_comparison(cmp)
    assert "paired bootstrap on the same rows" in text
    assert re.search(r"^accuracy\s", text, re.MULTILINE)
    md = report_module.comparison_markdown(cmp)
    assert md.startswith("# mktsales: comparison of two evaluations")
    assert "| accuracy |" in md
