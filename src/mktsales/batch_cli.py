"""The ``mktsales label`` command: label every row of a file (see :func:`mktsales.batch.label_file`).

Exit codes: 0 every row was labelled; 1 the run finished but some rows or records went to the
errors file; 2 bad usage or input (nothing is written under the output name); 130 interrupted
(continue with ``--resume``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from typing import Any, TextIO

from mktsales.batch import DEFAULT_BATCH_SIZE, DEFAULT_CHUNK_SIZE, LabelSummary, Progress, label_file
from mktsales.exceptions import ParameterError
from mktsales.tables import FORMATS

__all__ = ["register"]

_DESCRIPTION = """\
Label every row of a CSV, TSV, JSONL or Parquet file as marketing, sales or other.

Keeps every input column and the row order, and adds: label, marketing, sales, other
(probabilities), confidence, uncertain, reason and evidence (top rule ids per dimension).
Rows that cannot be labelled keep an empty label, a reason, and are listed in the errors file
(OUTPUT.errors.jsonl) with their row number; so are records that cannot be parsed. A manifest
(OUTPUT.manifest.json) records the versions, checksums, options and a summary.

The output is written through a temporary file and renamed at the end; a killed run continues
with --resume. CSV/TSV cells that a spreadsheet would run as formulas (starting with = + - @,
a tab or a carriage return, and not a plain number) are prefixed with a single quote unless
--no-escape-formulas is given.

Exit codes: 0 all rows labelled, 1 some rows went to the errors file, 2 bad usage or input."""

#: Seconds between two redraws of the progress bar.
_REDRAW_SECONDS = 0.2
_BAR_WIDTH = 24


def register(subparsers: Any) -> None:
    """Add the ``label`` sub-command to the ``mktsales`` parser."""
    from mktsales.cli import _add_model_options

    p = subparsers.add_parser(
        "label",
        help="label every row of a CSV, TSV, JSONL or Parquet file",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="input file ('-' reads JSONL from standard input)")
    p.add_argument(
        "-o", "--output", required=True, help="output file; format from its name ('-' writes JSONL to standard output)"
    )
    p.add_argument("--text-column", required=True, help="column with the posting text")
    p.add_argument("--title-column", help="column with a separate job title (weighted apart from the text)")
    p.add_argument("--id-column", help="column identifying rows in the errors file")
    p.add_argument(
        "-j", "--jobs", type=int, default=1, help="worker processes, one pool for the run (-1: all cores; default 1)"
    )
    p.add_argument("--resume", action="store_true", help="continue a killed run from its last finished chunk")
    p.add_argument("--force", action="store_true", help="overwrite an existing output and discard an interrupted run")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument(
        "--prefix", default="", help="prefix of the added column names, when the input already has such columns"
    )
    p.add_argument("--errors", help="errors file (default OUTPUT.errors.jsonl; standard error with '-o -')")
    p.add_argument("--manifest", help="manifest file (default OUTPUT.manifest.json; none with '-o -')")
    p.add_argument("--input-format", choices=sorted(FORMATS), help="format of the input, whatever its name")
    p.add_argument("--output-format", choices=sorted(FORMATS), help="format of the output, whatever its name")
    p.add_argument("--encoding", default="utf-8", help="encoding of text input (default utf-8)")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"records per chunk: unit of writing and resuming (default {DEFAULT_CHUNK_SIZE})",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"texts per task sent to a worker (default {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument(
        "--no-escape-formulas",
        dest="escape_formulas",
        action="store_false",
        help="write CSV/TSV cells unchanged even when a spreadsheet would run them as formulas",
    )
    p.add_argument("--scheduler", help="address of a Dask scheduler (tcp://host:8786): label on that cluster")
    _add_model_options(p)
    p.set_defaults(func=_cmd_label)


def _command(args: argparse.Namespace) -> str:
    """The command line, rebuilt from the parsed options (defaults left out)."""
    words = ["mktsales", "label", args.input, "-o", args.output, "--text-column", args.text_column]
    options = (
        ("--title-column", args.title_column, None),
        ("--id-column", args.id_column, None),
        ("--jobs", args.jobs, 1),
        ("--prefix", args.prefix, ""),
        ("--errors", args.errors, None),
        ("--manifest", args.manifest, None),
        ("--input-format", args.input_format, None),
        ("--output-format", args.output_format, None),
        ("--encoding", args.encoding, "utf-8"),
        ("--chunk-size", args.chunk_size, DEFAULT_CHUNK_SIZE),
        ("--batch-size", args.batch_size, DEFAULT_BATCH_SIZE),
        ("--scheduler", args.scheduler, None),
        ("--model", args.model, None),
        ("--rules", args.rules, None),
        ("--extra-rules", args.extra_rules, None),
    )
    for flag, value, default in options:
        if value != default:
            words += [flag, str(value)]
    for flag, on in (
        ("--resume", args.resume),
        ("--force", args.force),
        ("--quiet", args.quiet),
        ("--no-escape-formulas", not args.escape_formulas),
        ("--trusted", args.trusted),
    ):
        if on:
            words.append(flag)
    return shlex.join(words)


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class _Bar:
    """A one-line progress bar on a terminal: rows done, rows/s and time left."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn = False
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last < _REDRAW_SECONDS:
            return
        self._last = now
        rate = p.session_records / p.seconds if p.seconds > 0 else 0.0
        text = f"{p.records:,} rows  {rate:,.0f} rows/s"
        if p.fraction is not None:
            filled = int(p.fraction * _BAR_WIDTH)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            text = f"[{bar}] {p.fraction:4.0%}  " + text
            gained = p.fraction - p.start_fraction
            if gained > 0 and p.fraction < 1:
                text += f"  ETA {_duration(p.seconds * (1 - p.fraction) / gained)}"
        self.stream.write("\r" + text + "\033[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _pct(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "-"


def _write_summary(s: LabelSummary, stream: TextIO) -> None:
    w = stream.write
    w(f"labelled {s.labelled:,} of {s.rows:,} rows in {_duration(s.seconds)} ({s.rows_per_second:,.0f} rows/s)\n")
    for label, n in s.labels.items():
        w(f"  {label:<10} {n:>10,}  {_pct(n, s.labelled)}\n")
    w(f"  {'uncertain':<10} {s.uncertain:>10,}  {_pct(s.uncertain, s.labelled)} of labelled rows\n")
    if s.errors:
        where = f" -> {s.errors_file}" if s.errors_file else ""
        w(
            f"  {'errors':<10} {s.errors:>10,}  ({s.unlabelled:,} rows kept without a label, "
            f"{s.bad_records:,} records not parsed){where}\n"
        )
    else:
        w(f"  {'errors':<10} {0:>10}\n")
    if s.output != "-":
        w(f"wrote {s.output}" + (f", manifest {s.manifest}" if s.manifest else "") + "\n")


def _cmd_label(args: argparse.Namespace) -> int:
    from mktsales.cli import _load

    if args.jobs == 0 or args.jobs < -1:
        raise ParameterError(f"--jobs must be a positive number of processes or -1 (all cores), got {args.jobs}")
    for flag, value in (("--chunk-size", args.chunk_size), ("--batch-size", args.batch_size)):
        if value < 1:
            raise ParameterError(f"{flag} must be a positive number, got {value}")
    clf = _load(args)
    bar = _Bar(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    errors: Any = args.errors
    if errors is None and args.output == "-":
        errors = sys.stderr
    try:
        summary = label_file(
            args.input,
            args.output,
            text_column=args.text_column,
            title_column=args.title_column,
            id_column=args.id_column,
            prefix=args.prefix,
            input_format=args.input_format,
            output_format=args.output_format,
            errors=errors,
            manifest=args.manifest,
            classifier=clf,
            n_process=args.jobs,
            batch_size=args.batch_size,
            chunk_size=args.chunk_size,
            resume=args.resume,
            force=args.force,
            escape_formulas=args.escape_formulas,
            encoding=args.encoding,
            scheduler=args.scheduler,
            progress=bar,
            command=_command(args),
        )
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        _write_summary(summary, sys.stderr)
    return 1 if summary.errors else 0
