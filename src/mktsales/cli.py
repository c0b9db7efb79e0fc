"""Command-line interface: ``mktsales <command> ...``.

``main(argv)`` returns the exit code; exceptions become exit codes here and nowhere else:
0 success, 1 the command ran but found problems (for example an evaluation with errors), 2 bad
input or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from mktsales.exceptions import MktSalesError

__all__ = ["main"]

_POLE_COLOUR = {"marketing": "\033[1;35m", "sales": "\033[1;36m"}
_RESET = "\033[0m"


def _load(args: argparse.Namespace) -> Any:
    from mktsales.api import Classifier, default_classifier

    if (
        getattr(args, "model", None) is None
        and getattr(args, "rules", None) is None
        and getattr(args, "extra_rules", None) is None
    ):
        return default_classifier()
    return Classifier.load(args.model, trusted=args.trusted, rules=args.rules, extra_rules=args.extra_rules)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="model file (default: the shipped model)")
    p.add_argument(
        "--trusted",
        action="store_true",
        help="load a model file that has no .sha256 beside it (loading runs pickle code: only your own files)",
    )
    p.add_argument("--rules", help="rules file to use instead of the model's rules")
    p.add_argument("--extra-rules", help="rules file added to the model's rules")


def _read_text(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    return value


def _highlight(text: str, evidence: Sequence[Any], colour: bool) -> str:
    out = []
    last = 0
    for e in sorted((e for e in evidence if e.field == "text"), key=lambda e: e.start_char):
        if e.start_char < last:
            continue
        out.append(text[last : e.start_char])
        if colour:
            out.append(f"{_POLE_COLOUR.get(e.pole, '')}{text[e.start_char : e.end_char]}{_RESET}")
        else:
            out.append(f"[{text[e.start_char : e.end_char]}]{{{e.pole}}}")
        last = e.end_char
    out.append(text[last:])
    return "".join(out)


def _explain(p: Any, text: str, title: str | None, stream: TextIO) -> None:
    colour = stream.isatty() and os.environ.get("NO_COLOR") is None
    w = stream.write
    flag = f"uncertain ({p.reason})" if p.uncertain else "certain"
    w(f"label: {p.label}  confidence {p.confidence:.2f}  {flag}\n")
    w("scores: " + "  ".join(f"{k} {v:.2f}" for k, v in p.scores.items()) + "\n")
    w(
        f"rules alone: {p.rules.label}   model alone: {p.model.label}   agreement: {p.agreement}"
        + (f"   language: {p.language}" if p.language != "en" else "")
        + ("   (text truncated)" if p.truncated else "")
        + "\n\n"
    )
    w(f"{'dimension':<10} {'lean':<10} {'score':>6}  evidence (rule, weight)\n")
    for d in p.dimensions:
        ev = "; ".join(f'"{e.text}" ({e.rule_id}, {e.weight:g})' for e in d.evidence) or "-"
        w(f"{d.dimension:<10} {d.lean or '-':<10} {d.score:>+6.2f}  {ev}\n")
    if title is not None:
        w(f"\ntitle: {title}\n")
    shown = text if len(text) <= 2000 else text[:2000] + " ..."
    w("\n" + _highlight(shown, p.evidence, colour) + "\n")


def _cmd_classify(args: argparse.Namespace) -> int:
    clf = _load(args)
    text = _read_text(args.text)
    p = clf.classify(text, title=args.title)
    if args.json:
        sys.stdout.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    elif args.command == "explain":
        _explain(p, text, args.title, sys.stdout)
    else:
        flag = f"\tuncertain:{p.reason}" if p.uncertain else ""
        sys.stdout.write(f"{p.label}\t{p.confidence:.3f}{flag}\n")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from mktsales.training import train

    def log(msg: str) -> None:
        if not args.quiet:
            sys.stderr.write(msg + "\n")

    incumbent = None
    if not args.no_incumbent:
        from mktsales.persistence import default_model_card

        try:
            incumbent = default_model_card().get("chosen")
        except (OSError, ValueError):  # no model shipped with this copy: choose the best on dev
            incumbent = None
    result = train(args.data, args.out, seed=args.seed, incumbent=incumbent, log=log)
    card = result.card
    sys.stdout.write(
        f"wrote {result.model_path} (sha256 {result.sha256})\n"
        f"dev  macro-F1 {card['dev']['macro_f1']:.4f}  mvs-F1 {card['dev']['mvs_f1']:.4f}\n"
        f"test macro-F1 {card['test']['macro_f1']:.4f}  mvs-F1 {card['test']['mvs_f1']:.4f}\n"
    )
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from collections import Counter

    from mktsales.rules import RuleSet, load_rules
    from mktsales.scoring import matcher_for

    rules = load_rules() if args.file is None else RuleSet.from_file(args.file)
    matcher_for(rules)  # token patterns are validated by spaCy here
    cells = Counter((r.dimension.value, r.pole.value) for r in rules)
    sys.stdout.write(f"{rules.name}: {len(rules)} rules, sha256 {rules.checksum}\n")
    for (dim, pole), n in sorted(cells.items()):
        sys.stdout.write(f"  {dim:<10} {pole:<10} {n}\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    from mktsales import __version__

    parser = argparse.ArgumentParser(
        prog="mktsales",
        description="Tell marketing from sales (or neither) in job postings, titles and tasks, and say why.",
    )
    parser.add_argument("--version", action="version", version=f"mktsales {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (("classify", "label one text"), ("explain", "label one text and show the evidence")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("text", help="the text ('-' reads standard input)")
        p.add_argument("--title", help="a separate job title")
        p.add_argument("--json", action="store_true", help="print the full prediction as JSON")
        _add_model_options(p)
        p.set_defaults(func=_cmd_classify)
    p = sub.add_parser("train", help="train the default model from the corpus (reproducible)")
    p.add_argument("--data", default="data/corpus", help="corpus directory with train/dev/test.jsonl")
    p.add_argument("--out", default="models", help="output directory")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--no-incumbent",
        action="store_true",
        help="take the best setting on dev even when it beats the shipped model's setting by less than "
        "one standard error (by default the shipped setting is kept then)",
    )
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("rules", help="validate a rules file and summarise it (default: the shipped rules)")
    p.add_argument("file", nargs="?")
    p.set_defaults(func=_cmd_rules)
    from mktsales import batch_cli, evaluate_cli

    batch_cli.register(sub)
    evaluate_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        code: int = args.func(args)
        return code
    except MktSalesError as exc:
        sys.stderr.write(f"mktsales: error: {exc}\n")
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        sys.stderr.write(f"mktsales: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("mktsales: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
