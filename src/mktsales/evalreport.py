"""The result of an evaluation: the evaluated rows (:class:`EvalRow`), :class:`EvalReport` and the files it writes.

:meth:`EvalReport.write` writes ``report.json`` (its layout named by :data:`REPORT_SCHEMA`), the
Markdown and HTML reports, ``predictions.csv`` (:data:`PREDICTION_COLUMNS`), ``review.csv``
(:data:`REVIEW_COLUMNS`, the rows of :func:`review_rows`) and the plots, each atomically.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from mktsales.dimensions import LABELS, Dimension
from mktsales.exceptions import ParameterError
from mktsales.labelmap import RowProblem
from mktsales.prediction import Prediction

__all__ = [
    "PREDICTION_COLUMNS",
    "REPORT_FILES",
    "REPORT_SCHEMA",
    "REVIEW_COLUMNS",
    "REVIEW_MARGIN",
    "EvalReport",
    "EvalRow",
    "review_rows",
]


#: Identifies the layout of ``report.json``; bumped when a key changes meaning or disappears.
REPORT_SCHEMA = "mktsales.evaluation/1"
#: The files :meth:`EvalReport.write` writes (the PNG plots only when matplotlib is installed).
REPORT_FILES: tuple[str, ...] = (
    "report.json",
    "report.md",
    "report.html",
    "predictions.csv",
    "review.csv",
    "confusion_matrix.png",
    "reliability.png",
    "coverage.png",
    "dimensions.png",
)
#: A row whose two best probabilities are closer than this goes to review.csv ("low_margin"):
#: a 60/40 split or closer between two labels is a coin-flip a person should look at.
REVIEW_MARGIN = 0.2
_NOT_SCORED_REASONS = frozenset({"empty", "too_short", "unsupported_language"})


# -- rows ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EvalRow:
    """One evaluated row.

    Attributes
    ----------
    index : int
        Position in the input passed to :func:`evaluate` (0-based).
    id : str
        The row's id.
    text, title : str, str or None
        What was classified.
    raw_label, gold : str
        The label as found in the data, and after the label map.
    prediction : Prediction
        What the classifier returned.
    predicted : str
        The label evaluated: the prediction's label, or in binary mode the higher of marketing
        and sales (ties go to marketing).
    probabilities : dict of str to float
        The probabilities evaluated: the prediction's scores, or in binary mode marketing and
        sales renormalised to sum to 1.
    rules_predicted, model_predicted : str
        The same for the rules-only and model-only verdicts.
    fold : int or None
        The cross-validation fold that predicted the row (1-based), None outside cross-validation.
    """

    index: int
    id: str
    text: str
    title: str | None
    raw_label: str
    gold: str
    prediction: Prediction
    predicted: str
    probabilities: dict[str, float]
    rules_predicted: str
    model_predicted: str
    fold: int | None = None

    @property
    def correct(self) -> bool:
        """True when the evaluated label equals the gold label."""
        return self.predicted == self.gold

    @property
    def confidence(self) -> float:
        """The top evaluated probability."""
        return max(self.probabilities.values())

    @property
    def margin(self) -> float:
        """Top evaluated probability minus the second."""
        top = sorted(self.probabilities.values(), reverse=True)
        return top[0] - top[1]

    @property
    def scored(self) -> bool:
        """False when the classifier did not score the text (empty, too short, foreign, unknown words)."""
        p = self.prediction
        if p.reason in _NOT_SCORED_REASONS:
            return False
        return not (p.reason == "no_evidence" and p.scores["other"] == 1.0)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Ids of the rules that matched, each once, in text order."""
        return tuple(dict.fromkeys(e.rule_id for e in self.prediction.evidence))

    @property
    def key(self) -> str:
        """A short hash of id, title, text and gold label, to pair rows across reports."""
        blob = json.dumps([self.id, self.title, self.text, self.gold], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    @property
    def review(self) -> tuple[str, ...]:
        """Why a person should check the row: ``confident_mistake``, ``conflict``, ``low_margin``."""
        out = []
        if not self.correct and not self.prediction.uncertain:
            out.append("confident_mistake")
        if self.prediction.agreement == "conflict":
            out.append("conflict")
        if self.margin < REVIEW_MARGIN:
            out.append("low_margin")
        return tuple(out)


#: Columns of predictions.csv, in order.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "index",
    "id",
    "fold",
    "raw_label",
    "gold",
    "predicted",
    "correct",
    "confidence",
    "margin",
    "label",
    "p_marketing",
    "p_sales",
    "p_other",
    "rules_label",
    "rules_p_marketing",
    "rules_p_sales",
    "rules_p_other",
    "model_label",
    "model_p_marketing",
    "model_p_sales",
    "model_p_other",
    "uncertain",
    "reason",
    "scored",
    "agreement",
    "review",
    "rule_ids",
    *(f"dim_{d.value}" for d in Dimension),
    "title",
    "text",
)


#: Columns of review.csv, in order.
REVIEW_COLUMNS: tuple[str, ...] = (
    "index",
    "id",
    "review",
    "gold",
    "predicted",
    "confidence",
    "margin",
    "rules_label",
    "model_label",
    "agreement",
    "uncertain",
    "reason",
    "evidence",
    "title",
    "text",
)


def _prediction_record(row: EvalRow) -> dict[str, Any]:
    p = row.prediction
    rec: dict[str, Any] = {
        "index": row.index,
        "id": row.id,
        "fold": "" if row.fold is None else row.fold,
        "raw_label": row.raw_label,
        "gold": row.gold,
        "predicted": row.predicted,
        "correct": row.correct,
        "confidence": repr(row.confidence),
        "margin": repr(row.margin),
        "label": p.label,
    }
    for prefix, scores in (("p_", p.scores), ("rules_p_", p.rules.scores), ("model_p_", p.model.scores)):
        if prefix == "rules_p_":
            rec["rules_label"] = row.rules_predicted
        elif prefix == "model_p_":
            rec["model_label"] = row.model_predicted
        for label in LABELS:
            rec[f"{prefix}{label}"] = repr(float(scores[label]))
    rec.update(
        {
            "uncertain": p.uncertain,
            "reason": p.reason or "",
            "scored": row.scored,
            "agreement": p.agreement,
            "review": " ".join(row.review),
            "rule_ids": " ".join(row.rule_ids),
        }
    )
    for d in p.dimensions:
        rec[f"dim_{d.dimension}"] = repr(float(d.score))
    rec["title"] = "" if row.title is None else row.title
    rec["text"] = row.text
    return {c: rec[c] for c in PREDICTION_COLUMNS}


def _evidence_summary(p: Prediction) -> str:
    seen = dict.fromkeys(f"{e.rule_id}({e.pole}):{e.text}" for e in p.evidence)
    return "; ".join(seen)


def _review_record(row: EvalRow) -> dict[str, Any]:
    p = row.prediction
    return {
        "index": row.index,
        "id": row.id,
        "review": " ".join(row.review),
        "gold": row.gold,
        "predicted": row.predicted,
        "confidence": f"{row.confidence:.4f}",
        "margin": f"{row.margin:.4f}",
        "rules_label": row.rules_predicted,
        "model_label": row.model_predicted,
        "agreement": p.agreement,
        "uncertain": p.uncertain,
        "reason": p.reason or "",
        "evidence": _evidence_summary(p),
        "title": "" if row.title is None else row.title,
        "text": row.text,
    }


_REVIEW_ORDER = {"confident_mistake": 0, "conflict": 1, "low_margin": 2}


def review_rows(rows: Sequence[EvalRow]) -> list[EvalRow]:
    """The rows a person should check, most urgent first.

    Confident mistakes (wrong and not flagged uncertain: the gold label or the rules may be wrong)
    come first, most confident first; then rules/model conflicts; then low margins.
    """
    flagged = [r for r in rows if r.review]
    return sorted(flagged, key=lambda r: (_REVIEW_ORDER[r.review[0]], -r.confidence, r.index))


def _clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


# -- the report ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate` or :func:`cross_validate`.

    Attributes
    ----------
    rows : tuple of EvalRow
        Every evaluated row, in input order.
    skipped : tuple of RowProblem
        Rows left out (only with ``skip_unmapped`` or ``skip_empty``).
    data : dict
        Everything :meth:`to_dict` returns (use :meth:`to_dict`: it gives a copy).
    """

    rows: tuple[EvalRow, ...]
    skipped: tuple[RowProblem, ...]
    data: dict[str, Any] = field(repr=False, compare=False)

    @property
    def n(self) -> int:
        """Rows evaluated."""
        return len(self.rows)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels evaluated: the three labels, or marketing and sales in binary mode."""
        return tuple(self.data["settings"]["labels"])

    def _value(self, *keys: str) -> float:
        node: Any = self.data
        for k in keys:
            node = node[k]
        value = node["value"]
        return float("nan") if value is None else float(value)

    @property
    def accuracy(self) -> float:
        """Share of rows whose label equals the gold label."""
        return self._value("accuracy")

    @property
    def macro_f1(self) -> float:
        """Unweighted mean F1 over the gold labels present."""
        return self._value("macro_f1")

    @property
    def mvs_f1(self) -> float:
        """Marketing-vs-sales macro-F1 on the marketing and sales rows (see :mod:`mktsales.metrics`)."""
        return self._value("mvs_f1")

    @property
    def ece(self) -> float:
        """Expected calibration error of the top label."""
        return self._value("calibration", "ece")

    @property
    def brier(self) -> float:
        """Brier score."""
        return self._value("calibration", "brier")

    def to_dict(self) -> dict[str, Any]:
        """Return ``report.json`` as a dict (a copy; its keys are stable, see :data:`REPORT_SCHEMA`)."""
        out: dict[str, Any] = copy.deepcopy(self.data)
        return out

    def summary(self) -> str:
        """The terminal summary table."""
        from mktsales.report import format_summary

        return format_summary(self.data)

    def to_markdown(self) -> str:
        """The report as Markdown (images referred to by their file names)."""
        from mktsales.report import to_markdown

        return to_markdown(self.data)

    def to_html(self) -> str:
        """The report as one self-contained HTML page (plots embedded as data URIs)."""
        from mktsales.report import render_plots, to_html

        return to_html(self.data, render_plots(self.data))

    def review_rows(self) -> list[EvalRow]:
        """Rows a person should check, most urgent first (what ``review.csv`` holds)."""
        return review_rows(self.rows)

    def write(self, out_dir: str | PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Write the report files into a directory.

        Parameters
        ----------
        out_dir : str or path-like
            Created when missing.
        overwrite : bool, default=False
            Replace report files already there; otherwise they are left untouched and the call
            fails. Other files in the directory are never touched.

        Returns
        -------
        list of Path
            The files written: ``report.json``, ``report.md``, ``report.html``,
            ``predictions.csv``, ``review.csv`` and (with matplotlib) the PNG plots.

        Raises
        ------
        ParameterError
            When ``out_dir`` is a file, or holds report files and ``overwrite`` is False.
        """
        from mktsales.report import render_plots, to_html, to_markdown

        out = Path(out_dir)
        _check_out_dir(out, REPORT_FILES, overwrite)
        images = render_plots(self.data)
        files: dict[str, bytes] = {
            "report.json": (json.dumps(self.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode(),
            "report.md": to_markdown(self.data, images=list(images)).encode("utf-8"),
            "report.html": to_html(self.data, images).encode("utf-8"),
            "predictions.csv": _csv_bytes(PREDICTION_COLUMNS, [_prediction_record(r) for r in self.rows]),
            "review.csv": _csv_bytes(REVIEW_COLUMNS, [_review_record(r) for r in self.review_rows()]),
            **images,
        }
        return _write_files(out, files, overwrite)


def _check_out_dir(out: Path, names: Iterable[str], overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ParameterError(f"out_dir must be a directory, got the file {out}")
    existing = [name for name in names if (out / name).exists()]
    if existing and not overwrite:
        raise ParameterError(
            f"out_dir {out} already holds {', '.join(existing)}; pass overwrite=True (CLI: --force) "
            "to replace them, or choose another directory"
        )


def _write_files(out: Path, files: Mapping[str, bytes], overwrite: bool) -> list[Path]:
    _check_out_dir(out, files, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    return [_write_atomic(out / name, payload) for name, payload in files.items()]


def _csv_bytes(columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow(rec)
    return buf.getvalue().encode("utf-8")


def _write_atomic(path: Path, payload: bytes) -> Path:
    """Write to a temporary name beside ``path`` and rename, so a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
