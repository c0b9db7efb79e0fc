"""Rendering of evaluation reports: terminal table, Markdown, self-contained HTML and PNG plots.

Everything here reads the JSON-ready dict of :meth:`mktsales.evaluation.EvalReport.to_dict` (or of
a :class:`~mktsales.evaluation.Comparison`), so a saved ``report.json`` can be rendered again
without re-running the evaluation. Markdown and HTML are built from the same list of sections.
Plots are made with matplotlib's object API (no global pyplot state); without matplotlib
:func:`render_plots` returns nothing and the documents say so.

Examples
--------
>>> fmt_estimate({"value": 0.91234, "ci_low": 0.9, "ci_high": 0.93})
'0.912 [0.900, 0.930]'
>>> print(text_table(["a", "bb"], [["1", "22"], ["333", "4"]]))
a    bb
---  --
1    22
333  4
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PLOT_TITLES",
    "comparison_markdown",
    "fmt",
    "fmt_estimate",
    "format_comparison",
    "format_summary",
    "make_figures",
    "render_plots",
    "text_table",
    "to_html",
    "to_markdown",
]

#: The plots and their titles (the file is ``<key>.png``).
PLOT_TITLES: dict[str, str] = {
    "confusion_matrix": "Confusion matrix",
    "reliability": "Reliability diagram",
    "coverage": "Coverage and accuracy as the confidence threshold moves",
    "dimensions": "How each dimension separates the classes",
}
#: Colours of the classes in every plot (marketing and sales as in ``mktsales explain``).
CLASS_COLOURS = {"marketing": "#a8327f", "sales": "#1b7f99", "other": "#8c8c8c"}
#: Rows of the per-rule table shown in Markdown and HTML (report.json holds every rule).
RULES_SHOWN = 25
_DASH = "–"


# -- formatting helpers ----------------------------------------------------------------------------
def fmt(value: Any, digits: int = 3) -> str:
    """Format a number for a table (a dash for missing values)."""
    if value is None:
        return _DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_estimate(est: Mapping[str, Any] | None, digits: int = 3, signed: bool = False) -> str:
    """Format ``{"value", "ci_low", "ci_high"}`` as ``value [low, high]``."""
    if not est or est.get("value") is None:
        return _DASH
    spec = f"{'+' if signed else ''}.{digits}f"
    out = format(est["value"], spec)
    if est.get("ci_low") is not None and est.get("ci_high") is not None:
        out += f" [{format(est['ci_low'], spec)}, {format(est['ci_high'], spec)}]"
    return out


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _pct(value: Any) -> str:
    return _DASH if value is None else f"{100 * value:.1f}%"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Align columns with two spaces between them, under a dashed rule."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths).rstrip())
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


# -- the sections shared by Markdown and HTML ------------------------------------------------------
@dataclass(frozen=True)
class _Para:
    text: str


@dataclass(frozen=True)
class _Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class _Image:
    name: str
    alt: str


_Block = _Para | _Table | _Image


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> _Table:
    return _Table(tuple(headers), tuple(tuple(str(c) for c in r) for r in rows))


def _ms(label: str) -> str:
    return {"marketing": "marketing", "sales": "sales", "other": "other"}.get(label, label)


def _sections(d: Mapping[str, Any]) -> list[tuple[str, list[_Block]]]:
    s = d["settings"]
    labels: list[str] = s["labels"]
    level = f"{100 * s['confidence_level']:.0f}%"
    clf = d["classifier"]
    src = d["source"]
    out: list[tuple[str, list[_Block]]] = []

    mode = "binary (marketing vs sales)" if s["binary"] else "three classes"
    cv = clf.get("cross_validation")
    model = (
        f"{clf['model']} (parameters {clf.get('model_params')}, seed {cv['seed']}, fold sizes {cv['fold_sizes']})"
        if cv
        else f"{clf.get('model')} (sha256 {str(clf.get('model_sha256'))[:12]}…)"
    )
    overview = [
        ("data", src["name"] or "(in memory)"),
        ("rows evaluated", f"{d['n']} of {src['rows_in']} ({src['rows_skipped']} skipped)"),
        ("gold labels", ", ".join(f"{k} {v}" for k, v in d["class_counts"].items())),
        ("mode", mode),
        ("model", model),
        (
            "rules",
            f"{clf.get('rules')} ({clf.get('rules_count')} rules, sha256 {str(clf.get('rules_checksum'))[:12]}…)",
        ),
        ("mktsales", str(clf.get("mktsales_version"))),
        ("intervals", f"{level} percentile bootstrap, {s['n_bootstrap']} resamples, seed {s['seed']}"),
    ]
    if src.get("label_map"):
        overview.append(("label map", ", ".join(f"{k} → {v}" for k, v in src["label_map"].items())))
    out.append(("Overview", [_table(["", "value"], overview)]))

    headline = [
        ["accuracy", fmt_estimate(d["accuracy"])],
        [f"macro-F1 ({', '.join(d['macro_f1_labels'])})", fmt_estimate(d["macro_f1"])],
        ["marketing-vs-sales F1", fmt_estimate(d["mvs_f1"])],
        ["expected calibration error", fmt_estimate(d["calibration"]["ece"])],
        ["Brier score", fmt_estimate(d["calibration"]["brier"])],
    ]
    out.append(("Headline figures", [_table(["metric", f"value [{level} CI]"], headline)]))

    pc = d["per_class"]
    rows = [
        [
            label,
            fmt_estimate(pc[label]["precision"]),
            fmt_estimate(pc[label]["recall"]),
            fmt_estimate(pc[label]["f1"]),
            pc[label]["support"],
            pc[label]["predicted"],
        ]
        for label in labels
    ]
    out.append(("Per class", [_table(["class", "precision", "recall", "F1", "support", "predicted"], rows)]))

    cm = d["confusion_matrix"]
    cm_rows = [[f"**{g}**", *row] for g, row in zip(cm["labels"], cm["matrix"], strict=True)]
    out.append(
        (
            "Confusion matrix",
            [
                _Para("Rows are gold labels, columns the predicted labels."),
                _table(["gold \\ predicted", *cm["labels"]], cm_rows),
                _Image("confusion_matrix", PLOT_TITLES["confusion_matrix"]),
            ],
        )
    )

    cal = d["calibration"]
    bins = [
        [f"{b['lower']:.1f}–{b['upper']:.1f}", b["count"], fmt(b["confidence"]), fmt(b["accuracy"])]
        for b in cal["reliability"]
        if b["count"]
    ]
    out.append(
        (
            "Calibration",
            [
                _Para(
                    f"Expected calibration error {fmt_estimate(cal['ece'])} over {cal['n_bins']} equal-width bins of "
                    f"the top-label confidence; Brier score {fmt_estimate(cal['brier'])}."
                ),
                _table(["confidence bin", "rows", "mean confidence", "accuracy"], bins),
                _Image("reliability", PLOT_TITLES["reliability"]),
            ],
        )
    )

    u = d["uncertain"]
    tgt = d["coverage"]["target"]
    reached = (
        f"Confidence ≥ {tgt['threshold']:.2f} keeps {_pct(tgt['coverage'])} of the rows at precision "
        f"{fmt(tgt['precision'])}, reaching the target {fmt(tgt['target_precision'], 2)}."
        if tgt["reached"]
        else f"No threshold reaches precision {fmt(tgt['target_precision'], 2)}; the best is "
        f"{fmt(tgt['precision'])} at confidence ≥ {tgt['threshold']:.2f} (coverage {_pct(tgt['coverage'])})."
    )
    pts = {round(p["threshold"], 2): p for p in d["coverage"]["points"]}
    shown = [pts[t] for t in (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99) if t in pts]
    out.append(
        (
            "Coverage and the uncertain flag",
            [
                _Para(
                    f"The classifier flagged {u['n_uncertain']} rows uncertain ({_pct(u['rate'])}); the other rows "
                    f"have accuracy {fmt(u['accuracy_certain'])}, the flagged ones {fmt(u['accuracy_uncertain'])}. "
                    f"Reasons: {', '.join(f'{k} {v}' for k, v in u['by_reason'].items()) or 'none'}. "
                    f"{u['n_not_scored']} rows could not be scored and are never kept below."
                ),
                _Para(reached),
                _table(
                    ["confidence ≥", "coverage", "accuracy of kept rows", "rows kept"],
                    [[f"{p['threshold']:.2f}", _pct(p["coverage"]), fmt(p["accuracy"]), p["n"]] for p in shown],
                ),
                _Image("coverage", PLOT_TITLES["coverage"]),
            ],
        )
    )

    ab = d["ablation"]
    src_rows = [
        [
            name,
            fmt_estimate(ab["sources"][key]["accuracy"]),
            fmt_estimate(ab["sources"][key]["macro_f1"]),
            fmt_estimate(ab["sources"][key]["mvs_f1"]),
            ab["sources"][key]["ties"],
        ]
        for key, name in (("rules", "rules only"), ("model", "model only"), ("hybrid", "hybrid (reported)"))
    ]
    diff_rows = [
        [
            name,
            fmt_estimate(ab["differences"][key]["accuracy"], signed=True),
            fmt_estimate(ab["differences"][key]["macro_f1"], signed=True),
            fmt_estimate(ab["differences"][key]["mvs_f1"], signed=True),
        ]
        for key, name in (("hybrid_minus_rules", "hybrid − rules"), ("hybrid_minus_model", "hybrid − model"))
    ]
    agree_rows = [[k, v["n"], fmt(v["accuracy"])] for k, v in ab["agreement"].items()]
    out.append(
        (
            "Ablation: rules only, model only, hybrid",
            [
                _Para(
                    "The same rows labelled by the rules alone, the text model alone and the hybrid. "
                    "'ties' counts rows where a source scores marketing and sales equally (for the rules: no "
                    "rule fired)."
                ),
                _table(["source", "accuracy", "macro-F1", "marketing-vs-sales F1", "ties"], src_rows),
                _Para(f"Paired differences ({level} CI):"),
                _table(["difference", "accuracy", "macro-F1", "marketing-vs-sales F1"], diff_rows),
                _Para("Hybrid accuracy by agreement of rules and model:"),
                _table(["rules vs model", "rows", "hybrid accuracy"], agree_rows),
            ],
        )
    )

    r = d["rules"]
    by_id = {t["rule_id"]: t for t in r["table"]}
    fired = [t for t in r["table"] if t["fires"]][:RULES_SHOWN]
    rule_rows = [
        [
            f"`{t['rule_id']}`",
            t["dimension"],
            t["pole"],
            t["fires"],
            _pct(t["coverage"]),
            fmt(t["accuracy"]),
            t["fires_other"],
            t["conflicts"],
        ]
        for t in fired
    ]
    blocks: list[_Block] = [
        _Para(
            f"{r['n_fired']} of {r['n_rules']} rules fired; {r['rows_with_evidence']} rows have rule evidence and "
            f"{r['rows_with_conflict']} have evidence at both poles. 'accuracy' is how often the rule's pole equals "
            "the gold label on the marketing and sales rows it fires on; 'on other' counts firings on rows whose "
            "gold label is other; 'conflicts' counts rows where a rule of the other pole fires too."
        ),
        _table(["rule", "dimension", "pole", "fires", "coverage", "accuracy", "on other", "conflicts"], rule_rows),
    ]
    if r["most_conflicting"]:
        blocks.append(
            _Para(
                "Most conflicting: "
                + ", ".join(f"`{rid}` ({by_id[rid]['conflicts']})" for rid in r["most_conflicting"])
                + "."
            )
        )
    if r["least_accurate"]:
        blocks.append(
            _Para(
                f"Least accurate (at least {r['min_support']} firings on marketing/sales rows): "
                + ", ".join(f"`{rid}` ({fmt(by_id[rid]['accuracy'], 2)})" for rid in r["least_accurate"])
                + "."
            )
        )
    never = r["never_fired"]
    blocks.append(
        _Para(
            f"Never fired on this sample ({len(never)}): "
            + (", ".join(f"`{rid}`" for rid in never[:60]) + (", …" if len(never) > 60 else "") if never else "none")
            + " (the full list is in report.json)."
        )
    )
    out.append(("Rules", blocks))

    dims = d["dimensions"]
    dim_rows = [
        [
            x["dimension"],
            *(fmt(x["mean_score"][label], 2) for label in labels),
            *(_pct(x["lean_rate"][label]) for label in labels),
            fmt(x["lean_accuracy"]),
            fmt(x["auc_marketing_vs_sales"]),
        ]
        for x in dims
    ]
    out.append(
        (
            "Dimensions",
            [
                _Para(
                    "Each dimension's score runs from −1 (all evidence at the sales pole) to +1 (all at the "
                    "marketing pole). 'leans' is the share of rows where the dimension has a lean; 'lean "
                    "accuracy' how often that lean equals the gold label on marketing/sales rows; AUC how well the "
                    "score ranks marketing rows above sales rows (0.5: not at all)."
                ),
                _table(
                    [
                        "dimension",
                        *(f"mean {_ms(label)}" for label in labels),
                        *(f"leans {_ms(label)}" for label in labels),
                        "lean accuracy",
                        "AUC mkt vs sales",
                    ],
                    dim_rows,
                ),
                _Image("dimensions", PLOT_TITLES["dimensions"]),
            ],
        )
    )

    err = d["errors"]
    err_rows = [
        [
            e["id"],
            e["gold"],
            e["predicted"],
            fmt(e["confidence"]),
            f"{e['rules']} / {e['model']}",
            "; ".join(f"`{x['rule_id']}` “{x['text']}”" for x in e["evidence"][:4]) or _DASH,
            _one_line(((e["title"] + " | ") if e["title"] else "") + e["text"], 140),
        ]
        for e in err["most_confident"]
    ]
    rv = d["review"]
    out.append(
        (
            "Errors and review",
            [
                _Para(
                    f"{err['n_errors']} mistakes, {err['n_errors_not_scored']} of them on rows the classifier could "
                    "not score (flagged uncertain); the most confident of the others, with their evidence:"
                ),
                _table(["id", "gold", "predicted", "confidence", "rules / model", "evidence", "text"], err_rows),
                _Para(
                    f"review.csv lists {rv['n']} rows to check: "
                    f"{rv['by_reason']['confident_mistake']} confident mistakes (wrong and not flagged uncertain), "
                    f"{rv['by_reason']['conflict']} rules/model conflicts, {rv['by_reason']['low_margin']} with a "
                    f"margin below {rv['margin_threshold']:.2f} between the two best labels."
                ),
            ],
        )
    )

    sk = d["skipped"]
    if sk["n"]:
        sk_rows = [[x["index"], x["id"], x["reason"], x["value"]] for x in sk["rows"][:50]]
        more = [] if sk["n"] <= 50 else [_Para(f"… and {sk['n'] - 50} more (all in report.json).")]
        out.append(
            (
                "Skipped rows",
                [
                    _Para(f"{_rows(sk['n'])} left out: " + ", ".join(f"{k} {v}" for k, v in sk["by_reason"].items())),
                    _table(["index", "id", "reason", "label"], sk_rows),
                    *more,
                ],
            )
        )
    return out


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _title(d: Mapping[str, Any]) -> str:
    name = d["source"]["name"] or "in-memory sample"
    return f"mktsales evaluation: {name}"


# -- Markdown --------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(d: Mapping[str, Any], images: Sequence[str] | None = None) -> str:
    """Render a report as Markdown.

    Parameters
    ----------
    d : dict
        :meth:`EvalReport.to_dict`.
    images : sequence of str, optional
        File names of the plots written beside the Markdown file (``confusion_matrix.png``...);
        plots not listed are left out with a note.

    Returns
    -------
    str
    """
    available = set(images or ())
    lines = [f"# {_title(d)}", ""]
    for heading, blocks in _sections(d):
        lines += [f"## {heading}", ""]
        for b in blocks:
            if isinstance(b, _Para):
                lines += [b.text, ""]
            elif isinstance(b, _Table):
                if not b.rows:
                    lines += ["(none)", ""]
                    continue
                lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
                lines.append("|" + "---|" * len(b.headers))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
                lines.append("")
            else:
                name = f"{b.name}.png"
                lines += [f"![{b.alt}]({name})" if name in available else f"({b.alt}: needs matplotlib)", ""]
    return "\n".join(lines)


# -- HTML ------------------------------------------------------------------------------------------
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td { font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #eee; margin: 0.5em 0; }
code { background: #f6f6f6; padding: 0 0.2em; }
"""


def _html_inline(text: str) -> str:
    """Escape text, then turn `code` spans and **bold** into tags."""
    out = []
    for i, part in enumerate(html.escape(text).split("`")):
        if i % 2:
            out.append(f"<code>{part}</code>")
        else:
            bold = part.split("**")
            out.append("".join(f"<strong>{p}</strong>" if j % 2 else p for j, p in enumerate(bold)))
    return "".join(out)


def to_html(d: Mapping[str, Any], images: Mapping[str, bytes] | None = None) -> str:
    """Render a report as one self-contained HTML page.

    Parameters
    ----------
    d : dict
        :meth:`EvalReport.to_dict`.
    images : mapping of str to bytes, optional
        PNG files by name (from :func:`render_plots`); they are embedded as ``data:`` URIs, so
        the page needs no other file and loads nothing from the network.

    Returns
    -------
    str
    """
    pngs = dict(images or {})
    title = html.escape(_title(d))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
    ]
    for heading, blocks in _sections(d):
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        for b in blocks:
            if isinstance(b, _Para):
                parts.append(f"<p>{_html_inline(b.text)}</p>")
            elif isinstance(b, _Table):
                if not b.rows:
                    parts.append("<p>(none)</p>")
                    continue
                head = "".join(f"<th>{_html_inline(h)}</th>" for h in b.headers)
                body = "".join("<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in row) + "</tr>" for row in b.rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            else:
                png = pngs.get(f"{b.name}.png")
                if png is None:
                    parts.append(f"<p>({html.escape(b.alt)}: needs matplotlib)</p>")
                else:
                    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                    parts.append(f'<img src="{uri}" alt="{html.escape(b.alt)}">')
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


# -- terminal --------------------------------------------------------------------------------------
def format_summary(d: Mapping[str, Any]) -> str:
    """The terminal summary: headline figures, per class, confusion matrix, ablation, coverage."""
    s = d["settings"]
    labels: list[str] = s["labels"]
    level = f"{100 * s['confidence_level']:.0f}% CI"
    mode = "binary" if s["binary"] else "3 classes"
    out = [f"{_title(d)}  (n={d['n']}, {mode}, model {d['classifier'].get('model')})", ""]
    out.append(
        text_table(
            ["metric", f"value [{level}]"],
            [
                ["accuracy", fmt_estimate(d["accuracy"])],
                ["macro-F1", fmt_estimate(d["macro_f1"])],
                ["marketing-vs-sales F1", fmt_estimate(d["mvs_f1"])],
                ["calibration error (ECE)", fmt_estimate(d["calibration"]["ece"])],
                ["Brier score", fmt_estimate(d["calibration"]["brier"])],
            ],
        )
    )
    out.append("")
    pc = d["per_class"]
    out.append(
        text_table(
            ["class", "precision", "recall", "F1", "support"],
            [
                [
                    label,
                    fmt_estimate(pc[label]["precision"]),
                    fmt_estimate(pc[label]["recall"]),
                    fmt_estimate(pc[label]["f1"]),
                    str(pc[label]["support"]),
                ]
                for label in labels
            ],
        )
    )
    out.append("")
    cm = d["confusion_matrix"]
    out.append(
        text_table(
            ["gold \\ predicted", *cm["labels"]],
            [[g, *(str(v) for v in row)] for g, row in zip(cm["labels"], cm["matrix"], strict=True)],
        )
    )
    out.append("")
    ab = d["ablation"]["sources"]
    out.append(
        text_table(
            ["ablation", "accuracy", "macro-F1", "mvs-F1"],
            [
                [
                    name,
                    fmt(ab[key]["accuracy"]["value"]),
                    fmt(ab[key]["macro_f1"]["value"]),
                    fmt(ab[key]["mvs_f1"]["value"]),
                ]
                for key, name in (("rules", "rules only"), ("model", "model only"), ("hybrid", "hybrid"))
            ],
        )
    )
    out.append("")
    u = d["uncertain"]
    tgt = d["coverage"]["target"]
    out.append(f"uncertain flag: {_pct(u['rate'])} of rows flagged; accuracy of the rest {fmt(u['accuracy_certain'])}")
    verdict = "reached" if tgt["reached"] else "NOT reached; best"
    out.append(
        f"target precision {fmt(tgt['target_precision'], 2)}: {verdict} at confidence >= {tgt['threshold']:.2f} "
        f"(precision {fmt(tgt['precision'])}, coverage {_pct(tgt['coverage'])})"
    )
    r = d["rules"]
    out.append(
        f"rules: {r['n_fired']} of {r['n_rules']} fired; {r['rows_with_conflict']} rows with evidence at both poles"
    )
    out.append(f"review: {d['review']['n']} rows to check; {d['errors']['n_errors']} mistakes in all")
    if d["skipped"]["n"]:
        reasons = ", ".join(f"{k} {v}" for k, v in d["skipped"]["by_reason"].items())
        out.append(f"skipped: {_rows(d['skipped']['n'])} ({reasons}); listed in report.json")
    return "\n".join(out) + "\n"


# -- comparisons -----------------------------------------------------------------------------------
def _comparison_rows(c: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for m in c["metrics"]:
        mark = ""
        if m["significant"] and m["difference"]["value"] is not None:
            better = (m["difference"]["value"] < 0) == m["lower_is_better"]
            mark = "B better" if better else "B worse"
        rows.append(
            [
                m["metric"],
                fmt_estimate(m["a"]),
                fmt_estimate(m["b"]),
                fmt_estimate(m["difference"], signed=True),
                mark,
            ]
        )
    return rows


def _comparison_header(c: Mapping[str, Any]) -> list[str]:
    kind = (
        "paired bootstrap on the same rows"
        if c["paired"]
        else f"unpaired bootstrap (the reports hold different rows; {c['n_shared_rows']} shared)"
    )
    return [
        f"A: {c['a']['name']} (n={c['a']['n']}, model {c['a']['classifier']})",
        f"B: {c['b']['name']} (n={c['b']['n']}, model {c['b']['classifier']})",
        f"{100 * c['confidence_level']:.0f}% intervals, {kind}, {c['n_bootstrap']} resamples, seed {c['seed']}",
    ]


def format_comparison(c: Mapping[str, Any]) -> str:
    """Two reports side by side, with the difference B − A and its interval, for the terminal."""
    table = text_table(["metric", "A", "B", "B - A", ""], _comparison_rows(c))
    return "\n".join([*_comparison_header(c), "", table]) + "\n"


def comparison_markdown(c: Mapping[str, Any]) -> str:
    """Two reports side by side, as Markdown."""
    lines = ["# mktsales: comparison of two evaluations", ""]
    lines += [f"- {line}" for line in _comparison_header(c)]
    lines += ["", "| metric | A | B | B − A | |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_md_cell(x) for x in row) + " |" for row in _comparison_rows(c)]
    return "\n".join(lines) + "\n"


# -- plots -----------------------------------------------------------------------------------------
def make_figures(d: Mapping[str, Any]) -> dict[str, Figure]:
    """Build the report's plots as matplotlib figures (keys as in :data:`PLOT_TITLES`).

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    import numpy as np
    from matplotlib.figure import Figure

    labels: list[str] = d["settings"]["labels"]
    figs: dict[str, Figure] = {}

    # confusion matrix: counts, coloured by the share of the gold row
    cm = np.array(d["confusion_matrix"]["matrix"], dtype=float)
    share = np.divide(cm, cm.sum(axis=1, keepdims=True), out=np.zeros_like(cm), where=cm.sum(axis=1, keepdims=True) > 0)
    fig = Figure(figsize=(5.2, 4.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            colour = "white" if share[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(cm[i, j])}\n{share[i, j]:.0%}", ha="center", va="center", color=colour)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("gold label")
    ax.set_title(f"{PLOT_TITLES['confusion_matrix']} (n = {d['n']})")
    fig.colorbar(im, ax=ax, label="share of the gold row")
    figs["confusion_matrix"] = fig

    # reliability diagram
    cal = d["calibration"]
    bins = cal["reliability"]
    width = 1.0 / len(bins)
    fig = Figure(figsize=(5.2, 4.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    full = [b for b in bins if b["count"]]
    ax.bar(
        [(b["lower"] + b["upper"]) / 2 for b in full],
        [b["accuracy"] for b in full],
        width=width * 0.9,
        color="#9ecae1",
        edgecolor="#3182bd",
        label="accuracy in the bin",
    )
    for b in full:
        ax.text(
            (b["lower"] + b["upper"]) / 2, 0.01, f"n={b['count']}", ha="center", va="bottom", fontsize=7, rotation=90
        )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(
        [b["confidence"] for b in full],
        [b["accuracy"] for b in full],
        marker="o",
        color="#08519c",
        label="mean confidence",
    )
    ece = cal["ece"]["value"]
    ax.set_title(f"{PLOT_TITLES['reliability']} (ECE {fmt(ece)})")
    ax.set_xlabel("predicted confidence of the top label")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.08)
    ax.legend(loc="upper left", fontsize=8)
    figs["reliability"] = fig

    # coverage curve
    pts = d["coverage"]["points"]
    tgt = d["coverage"]["target"]
    fig = Figure(figsize=(6.4, 4.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    xs = [p["threshold"] for p in pts]
    ax.plot(xs, [p["coverage"] for p in pts], color="#31a354", label="coverage (share of rows kept)")
    ax.plot(
        xs,
        [np.nan if p["accuracy"] is None else p["accuracy"] for p in pts],
        color="#08519c",
        label="accuracy of kept rows",
    )
    ax.axhline(
        tgt["target_precision"], color="#e6550d", linestyle=":", label=f"target precision {tgt['target_precision']:.2f}"
    )
    ax.axvline(tgt["threshold"], color="grey", linestyle="--", label=f"chosen threshold {tgt['threshold']:.2f}")
    ax.set_title(PLOT_TITLES["coverage"])
    ax.set_xlabel("confidence threshold (rows below it count as uncertain)")
    ax.set_ylabel("coverage / accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    figs["coverage"] = fig

    # per-dimension distributions; the middle bin (no lean) would dwarf the rest, so it is written
    # in the corner as a share instead of drawn
    dims = d["dimensions"]
    fig = Figure(figsize=(3.3 * len(dims), 4.4), dpi=100, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(dims), sharey=True))
    for k, (ax, x) in enumerate(zip(axes, dims, strict=True)):
        edges = np.array(x["histogram"]["edges"])
        centres = (edges[:-1] + edges[1:]) / 2
        middle = int(np.argmin(np.abs(centres)))
        w = (edges[1] - edges[0]) / (len(labels) + 0.5)
        silent = []
        for j, label in enumerate(labels):
            counts = np.array(x["histogram"]["counts"][label], dtype=float)
            total = counts.sum()
            shares = counts / total if total else counts
            silent.append(f"{label} {shares[middle]:.0%}")
            shares[middle] = 0.0
            offset = (j - (len(labels) - 1) / 2) * w
            ax.bar(centres + offset, shares, width=w, color=CLASS_COLOURS.get(label), label=label)
        ax.text(0.5, 0.97, "no lean:\n" + "\n".join(silent), transform=ax.transAxes, ha="center", va="top", fontsize=7)
        ax.set_title(f"{x['dimension']} (AUC {fmt(x['auc_marketing_vs_sales'], 2)})")
        ax.set_xlabel("score (− sales, + marketing)")
        if k == 0:
            ax.set_ylabel("share of the class's rows")
        ax.set_xlim(-1.15, 1.15)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, title="gold label", loc="outside lower center", ncols=len(labels), fontsize=8)
    fig.suptitle(PLOT_TITLES["dimensions"] + " (AUC: marketing vs sales)")
    figs["dimensions"] = fig
    return figs


def render_plots(d: Mapping[str, Any]) -> dict[str, bytes]:
    """Render the plots as PNG bytes keyed by file name; empty when matplotlib is missing."""
    try:
        figs = make_figures(d)
    except ImportError:
        return {}
    out = {}
    for name, fig in figs.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        out[f"{name}.png"] = buf.getvalue()
    return out
