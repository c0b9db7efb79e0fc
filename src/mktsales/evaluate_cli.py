"""The ``mktsales evaluate`` sub-command.

::

    mktsales evaluate FILE [--text-column C] [--label-column L] [--title-column T] [--id-column I]
                           [--label-map JSON-or-path] [--skip-unmapped] [--skip-empty] [--binary]
                           [--out DIR [--force]] [--target-precision 0.95] [--cv K] [--json]
    mktsales evaluate --compare REPORT_A.json REPORT_B.json [--out DIR]

FILE is CSV, TSV, JSON Lines or Parquet, chosen by its extension. Exit codes: 0 success; 2 bad
usage or input (a missing column, an empty file, a malformed line, rows with empty text or labels
nothing maps: the message names the rows and lines); 1 when the run finished but had to leave rows
out (``--skip-unmapped`` / ``--skip-empty``), which are listed in ``report.json``.

:mod:`mktsales.cli` calls :func:`register` to add the sub-command; nothing heavy is imported until
the command runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mktsales.exceptions import ParameterError

__all__ = ["CLI_HINTS", "Table", "parse_label_map", "read_table", "register", "run"]

#: What the CLI tells users to do about each kind of row problem.
CLI_HINTS: dict[str, str] = {
    "empty_text": "fill them in, or pass --skip-empty to leave them out",
    "empty_label": "fill them in, or pass --skip-unmapped to leave them out",
    "unmapped_label": 'add them to --label-map, map "*" to a label, or pass --skip-unmapped to leave them out',
    "not_binary": "drop --binary, or pass --skip-unmapped to leave these rows out",
}


@dataclass(frozen=True)
class Table:
    """A small tabular file read whole.

    Attributes
    ----------
    path : Path
        Where it was read from.
    columns : list of str
        Column names in file order.
    records : list of dict
        One dict per data row (a missing value is None).
    lines : list of int
        Where each record starts: the line number for CSV, TSV and JSON Lines, the row number for
        Parquet.
    unit : str
        ``"line"`` or ``"row"``: what :attr:`lines` counts.
    undecodable : list of tuple of str
        Per record, the columns holding bytes that are not valid in the file's encoding.
    """

    path: Path
    columns: list[str]
    records: list[dict[str, Any]]
    lines: list[int]
    unit: str
    undecodable: list[tuple[str, ...]]

    def name_row(self, i: int) -> str:
        """Name data row ``i`` (0-based) for messages: ``row 3 (line 4)``."""
        if self.unit == "row":
            return f"row {i + 1}"
        return f"row {i + 1} ({self.unit} {self.lines[i]})"


def read_table(path: str | Path, *, encoding: str = "utf-8", fmt: str | None = None) -> Table:
    """Read a CSV, TSV, JSON Lines or Parquet file whole (evaluation files are small).

    The formats are those of :mod:`mktsales.tables` (chosen by the file name's ending); unlike the
    batch labeller, evaluation stops at the first record it cannot split into columns.

    Parameters
    ----------
    path : str or Path
        The file.
    encoding : str, default="utf-8"
        Text encoding of CSV, TSV and JSON Lines files.
    fmt : str, optional
        ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"parquet"``, when the name does not tell.

    Returns
    -------
    Table

    Raises
    ------
    ParameterError
        When the file is missing, of an unknown format or empty, or a record is malformed (the
        message names its line).
    """
    from mktsales.tables import BadRecord, format_of, open_reader

    p = Path(path)
    fmt = format_of(str(p), fmt)
    if not p.is_file():
        raise ParameterError(f"{p}: no such file")
    reader = open_reader(p, fmt, encoding=encoding, scan_columns=True)
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    undecodable: list[tuple[str, ...]] = []
    try:
        for rec in reader.records():
            where = f"line {rec.line}" if rec.line is not None else f"row {rec.number}"
            if isinstance(rec, BadRecord):
                kind = "JSON" if fmt == "jsonl" else fmt.upper()
                raise ParameterError(f"{p}: {where} (row {rec.number}): malformed {kind}: {rec.detail}")
            records.append({str(k): v for k, v in rec.values.items()})
            lines.append(rec.line if rec.line is not None else rec.number)
            undecodable.append(rec.undecodable)
    finally:
        reader.close()
    if not records:
        what = "no data rows after the header" if fmt in ("csv", "tsv") else "no rows"
        raise ParameterError(f"{p} is empty: {what}")
    return Table(p, list(reader.columns or []), records, lines, "row" if fmt == "parquet" else "line", undecodable)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _cells(table: Table, column: str, option: str) -> list[str | None]:
    if column not in table.columns:
        raise ParameterError(
            f"{table.path}: no column {column!r} ({option}); the columns are: {', '.join(map(repr, table.columns))}"
        )
    out: list[str | None] = []
    for i, rec in enumerate(table.records):
        value = rec.get(column)
        if column in table.undecodable[i]:
            raise ParameterError(
                f"{table.path}: {table.name_row(i)}: column {column!r} holds bytes that are not valid in the "
                "file's encoding; give the encoding with --encoding or save the file as UTF-8"
            )
        if _missing(value):
            out.append(None)
        elif isinstance(value, str):
            out.append(value)
        elif isinstance(value, bool | int | float) or type(value).__module__ == "numpy":
            out.append(str(value))
        else:
            raise ParameterError(
                f"{table.path}: {table.name_row(i)}: column {column!r} holds a {type(value).__name__}, "
                "expected text or a number"
            )
    return out


def parse_label_map(value: str) -> dict[str, str]:
    """Read ``--label-map``: a JSON object, or the path of a file holding one.

    Examples
    --------
    >>> parse_label_map('{"Business Development": "sales", "*": "other"}')
    {'Business Development': 'sales', '*': 'other'}
    """
    from mktsales.evaluation import normalize_label_map

    text = value.strip()
    where = "--label-map"
    if not text.startswith("{"):
        p = Path(value)
        if not p.is_file():
            raise ParameterError(
                f"--label-map takes a JSON object or the path of a JSON file; {value!r} is neither (no such file)"
            )
        text = p.read_text("utf-8")
        where = f"--label-map {p}"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{where}: invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ParameterError(f"{where} must hold a JSON object of your labels to labels, got {type(obj).__name__}")
    return normalize_label_map(obj)


# -- the command -----------------------------------------------------------------------------------
def register(subparsers: Any) -> None:
    """Add the ``evaluate`` sub-command to the ``mktsales`` parser."""
    from mktsales.cli import _add_model_options

    p = subparsers.add_parser(
        "evaluate",
        help="measure the classifier on a labelled file, or compare two reports",
        description=(
            "Measure the classifier on your labelled sample (CSV, TSV, JSON Lines or Parquet): accuracy, macro-F1, "
            "per-class figures with bootstrap intervals, calibration, coverage, ablation, rules and dimensions, "
            "errors to review. With --compare, set two report.json files side by side."
        ),
    )
    p.add_argument("file", nargs="?", help="the labelled file")
    p.add_argument("--text-column", default="text", help="column with the text (default: text)")
    p.add_argument("--label-column", default="label", help="column with the gold label (default: label)")
    p.add_argument("--title-column", help="column with a separate job title")
    p.add_argument("--format", choices=["csv", "tsv", "jsonl", "parquet"], help="file format (default: from its name)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of CSV, TSV and JSONL files (default: utf-8)")
    p.add_argument("--id-column", help="column with row ids (default: the data row number, 1 = first row)")
    p.add_argument(
        "--label-map",
        help="your labels to marketing/sales/other, as JSON or a JSON file: "
        '\'{"Advertising": "marketing", "*": "other"}\'',
    )
    p.add_argument("--skip-unmapped", action="store_true", help="leave out rows whose label nothing maps (exit 1)")
    p.add_argument("--skip-empty", action="store_true", help="leave out rows with empty text (exit 1)")
    p.add_argument("--binary", action="store_true", help="marketing vs sales only (every row must be one of the two)")
    p.add_argument("--out", help="write report.json, report.md, report.html, plots, predictions.csv, review.csv here")
    p.add_argument("--force", action="store_true", help="replace report files already in --out")
    p.add_argument("--json", action="store_true", help="print report.json instead of the summary table")
    p.add_argument("--target-precision", type=float, default=0.95, help="precision the threshold must reach")
    p.add_argument("--cv", type=int, metavar="K", help="train and test inside K stratified folds of FILE")
    p.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the folds")
    p.add_argument("--n-process", type=int, default=1, help="worker processes for classifying (-1: all cores)")
    p.add_argument("--compare", nargs=2, metavar=("REPORT_A", "REPORT_B"), help="compare two report.json files")
    _add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``mktsales evaluate``; return the exit code."""
    if args.compare:
        if args.file:
            raise ParameterError("give either FILE or --compare REPORT_A REPORT_B, not both")
        return _run_compare(args)
    if not args.file:
        raise ParameterError("evaluate needs a FILE to evaluate (or --compare REPORT_A REPORT_B)")
    if args.cv is not None and args.model is not None:
        raise ParameterError("--cv trains its own models inside the folds; it cannot be combined with --model")

    from mktsales.evaluation import PROBLEM_REASONS, cross_validate, describe_problems, evaluate, find_row_problems

    table = read_table(args.file, encoding=args.encoding, fmt=args.format)
    texts = _cells(table, args.text_column, "--text-column")
    raw_labels = ["" if v is None else v for v in _cells(table, args.label_column, "--label-column")]
    titles = _cells(table, args.title_column, "--title-column") if args.title_column else None
    ids_cells = _cells(table, args.id_column, "--id-column") if args.id_column else None
    ids = [str(i + 1) if ids_cells is None or ids_cells[i] is None else str(ids_cells[i]) for i in range(len(texts))]
    label_map = parse_label_map(args.label_map) if args.label_map else {}

    problems = find_row_problems(texts, raw_labels, titles=titles, ids=ids, label_map=label_map, binary=args.binary)
    allowed = {"skip_unmapped": args.skip_unmapped, "skip_empty": args.skip_empty}
    blocking = [p for p in problems if not allowed[PROBLEM_REASONS[p.reason]]]
    if blocking:
        raise ParameterError(f"{table.path}: " + describe_problems(blocking, table.name_row, CLI_HINTS))

    common: dict[str, Any] = {
        "titles": titles,
        "ids": ids,
        "label_map": label_map,
        "binary": args.binary,
        "skip_unmapped": args.skip_unmapped,
        "skip_empty": args.skip_empty,
        "target_precision": args.target_precision,
        "n_bootstrap": args.n_bootstrap,
        "seed": args.seed,
        "source": str(table.path),
    }
    if args.cv is not None:
        report = cross_validate(texts, raw_labels, k=args.cv, rules=_cv_rules(args), log=_stderr_line, **common)
    else:
        from mktsales.cli import _load

        report = evaluate(texts, raw_labels, classifier=_load(args), n_process=args.n_process, **common)

    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, allow_nan=False) + "\n")
    else:
        sys.stdout.write(report.summary())
    if args.out:
        written = report.write(args.out, overwrite=args.force)
        _stderr_line(f"wrote {len(written)} files to {args.out}: {', '.join(p.name for p in written)}")
    if report.skipped:
        by_reason: dict[str, int] = {}
        for p in report.skipped:
            by_reason[p.reason] = by_reason.get(p.reason, 0) + 1
        reasons = ", ".join(f"{k} {v}" for k, v in by_reason.items())
        shown = ", ".join(table.name_row(p.index) for p in report.skipped[:5])
        more = ", ..." if len(report.skipped) > 5 else ""
        _stderr_line(
            f"mktsales: warning: left out {len(report.skipped)} of {len(texts)} rows ({reasons}: {shown}{more}); "
            "they are listed in report.json"
        )
        return 1
    return 0


def _cv_rules(args: argparse.Namespace) -> Any:
    if args.rules is None and args.extra_rules is None:
        return None
    from mktsales.rules import RuleSet, load_rules

    base = RuleSet.from_file(args.rules) if args.rules is not None else load_rules()
    return base.extend(RuleSet.from_file(args.extra_rules)) if args.extra_rules is not None else base


def _stderr_line(message: str) -> None:
    sys.stderr.write(message + "\n")


def _run_compare(args: argparse.Namespace) -> int:
    from mktsales.evaluation import compare_reports

    a, b = args.compare
    comparison = compare_reports(a, b, n_bootstrap=args.n_bootstrap, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(comparison.to_dict(), ensure_ascii=False, allow_nan=False) + "\n")
    else:
        sys.stdout.write(comparison.summary())
    if args.out:
        written = comparison.write(args.out, overwrite=args.force)
        _stderr_line(f"wrote {', '.join(str(p) for p in written)}")
    return 0
