"""Speed of mktsales on posting-length texts, against a plain scikit-learn baseline, in one run.

Usage: python benchmarks/speed.py [--n 3000] [--repeats 3] [--json out.json] [--no-profile] [--no-wait]

Texts: about 2,000 characters each, built from the project corpus (data/corpus/*.jsonl): every
posting of the corpus in turn, extended with lines drawn (seeded) from other postings until it
reaches the target length. They keep the corpus's HTML, bullets and vocabulary.

Measured, with the same texts, on a shared machine where only ratios within one run mean much
(each throughput is the median of ``--repeats`` rounds, taken in turn, and each compared pair is
also reported as the median of its ratios within a round, the two run back to back; before each measurement
the script waits, up to two minutes, for other processes to use less than a quarter of a core,
and it reports how many cores they used during the measurement):

- ``classify_many`` on one core, and with ``n_process=2``;
- ``label_file`` (the ``mktsales label`` machinery: CSV in, CSV out) with 1 and 2 processes;
- the machine's own ceiling: a pure-Python loop in 1 and 2 processes (virtual cores of a shared
  host may not give 2x; compare the 2-process speed-up of mktsales with this one);
- the baseline: scikit-learn ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)`` +
  ``LogisticRegression`` fitted on the corpus train split, ``predict_proba`` on the whole batch
  (no rules, no explanations);
- single ``classify()`` latency, p50 and p99, after warm-up, on postings and on short titles;
- cold start: a fresh interpreter importing mktsales and classifying one text;
- a cProfile of ``classify_many`` on postings, as milliseconds per posting in each stage.

Peak memory of ``mktsales label`` on a 1 GB CSV is measured by benchmarks/memory.py, and where the
time of 2 processes goes by benchmarks/parallel.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "corpus"
TARGET_CHARS = 2000
TITLES = ["Senior Brand Manager", "Realtor", "Registered nurse", "SEO specialist", "Key Account Manager"]


def corpus_records() -> list[dict[str, Any]]:
    """Every record of the corpus splits."""
    out = []
    for split in ("train", "dev", "test"):
        with (CORPUS / f"{split}.jsonl").open(encoding="utf-8") as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def posting_texts(n: int, chars: int = TARGET_CHARS, seed: int = 0) -> list[str]:
    """``n`` posting-like texts of about ``chars`` characters, built from the corpus postings."""
    postings = [r["text"] for r in corpus_records() if r["kind"] == "posting"]
    lines = [line for p in postings for line in p.splitlines() if len(line) > 40]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = postings[i % len(postings)]
        if len(text) > chars:
            cut = text.rfind("\n", 0, chars)
            text = text[: cut if cut > chars // 2 else chars]
        while len(text) < chars:
            text += "\n" + rng.choice(lines)
        out.append(text)
    return out


def _busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def background_cores(seconds: float = 1.0) -> float | None:
    """Cores used by other processes of the machine over the next ``seconds``."""
    b0, o0 = _busy_seconds(), _own_seconds()
    time.sleep(seconds)
    b1, o1 = _busy_seconds(), _own_seconds()
    if b0 is None or b1 is None:
        return None
    return max(0.0, (b1 - b0) - (o1 - o0)) / seconds


def wait_for_quiet(limit: float = 0.25, patience: float = 120.0) -> float | None:
    """Wait (up to ``patience`` seconds) until other processes use less than ``limit`` cores."""
    deadline = time.monotonic() + patience
    load = background_cores()
    while load is not None and load > limit and time.monotonic() < deadline:
        load = background_cores()
    return load


def _timed(fn: Callable[[], Any]) -> tuple[float, float | None]:
    """Wall seconds of one call, and the cores other processes used meanwhile."""
    b0, o0 = _busy_seconds(), _own_seconds()
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    b1, o1 = _busy_seconds(), _own_seconds()
    other = None if b0 is None or b1 is None else max(0.0, (b1 - b0) - (o1 - o0)) / wall
    return wall, other


def throughputs(
    texts: list[str], repeats: int, quiet: bool = True
) -> tuple[dict[str, tuple[float, float | None]], dict[str, list[float]]]:
    """Texts per second of each contender (median over rounds taken in turn), and the cores other
    processes of the machine used meanwhile (median); with ``quiet``, each measurement waits for
    the machine to be nearly idle first. Also returns the wall time of every round, by contender
    (for :func:`paired_ratios`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from mktsales import default_classifier
    from mktsales.batch import label_file

    clf = default_classifier()
    clf.classify(texts[0])  # load and warm up
    train_ids = _train_ids()  # read once, not once a record
    train = [r for r in corpus_records() if r["id"] in train_ids]
    baseline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2), LogisticRegression(max_iter=1000)
    ).fit([r["text"] for r in train], [r["label"] for r in train])
    baseline.predict_proba(texts[:10])
    tmp = Path(tempfile.mkdtemp(prefix="mktsales-speed-"))
    src = tmp / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "description"])
        w.writerows([i, TITLES[i % len(TITLES)], t] for i, t in enumerate(texts))

    def run_label(jobs: int) -> None:
        label_file(src, tmp / f"out{jobs}.csv", text_column="description", n_process=jobs, force=True)

    units = [_LOOP_UNIT] * len(texts)

    def loop(processes: int) -> None:
        if processes == 1:
            for u in units:
                _busy_loop(u)
            return
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_busy_loop, units, chunksize=16)

    # Contenders that are compared run next to each other in every round (see PAIRS).
    contenders: dict[str, Callable[[], Any]] = {
        "machine ceiling: pure-Python loop, 1 process": lambda: loop(1),
        "machine ceiling: pure-Python loop, 2 processes": lambda: loop(2),
        "baseline TF-IDF 1-2 + LR predict_proba": lambda: baseline.predict_proba(texts),
        "classify_many, 1 process": lambda: list(clf.classify_many(texts)),
        "classify_many, 2 processes": lambda: list(clf.classify_many(texts, n_process=2, batch_size=64)),
        "label_file (CSV), 1 process": lambda: run_label(1),
        "label_file (CSV), 2 processes": lambda: run_label(2),
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    others: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            if quiet:
                wait_for_quiet()
            wall, other = _timed(fn)
            times[name].append(wall)
            if other is not None:
                others[name].append(other)
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    rates = {
        name: (len(texts) / statistics.median(ts), statistics.median(others[name]) if others[name] else None)
        for name, ts in times.items()
    }
    return rates, times


#: Ratios reported per round: (label, faster contender, slower contender); the two of a pair run
#: one after the other in each round, so a slow patch of the shared host hits both.
PAIRS = [
    (
        "machine ceiling: 2 processes vs 1",
        "machine ceiling: pure-Python loop, 2 processes",
        "machine ceiling: pure-Python loop, 1 process",
    ),
    ("classify_many 1 process vs baseline", "classify_many, 1 process", "baseline TF-IDF 1-2 + LR predict_proba"),
    ("classify_many 2 processes vs 1", "classify_many, 2 processes", "classify_many, 1 process"),
    ("label_file 2 processes vs 1", "label_file (CSV), 2 processes", "label_file (CSV), 1 process"),
]


def paired_ratios(times: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per round, the speed of the first contender of each pair over the second's, from the wall
    times of every round (as returned by :func:`throughputs`)."""
    return {label: [slow / fast for fast, slow in zip(times[a], times[b], strict=True)] for label, a, b in PAIRS}


#: Iterations of the ceiling loop per "text": about as long as classifying one posting.
_LOOP_UNIT = 40_000


def _busy_loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def _train_ids() -> set[str]:
    with (CORPUS / "train.jsonl").open(encoding="utf-8") as fh:
        return {json.loads(line)["id"] for line in fh if line.strip()}


def latency(texts: list[str], calls: int = 1000, warmup: int = 50) -> dict[str, float]:
    """p50 and p99 of one classify() call, in milliseconds, after warm-up."""
    from mktsales import classify

    out = {}
    for name, pool in (("posting", texts), ("title", TITLES)):
        for i in range(warmup):
            classify(pool[i % len(pool)])
        samples = []
        for i in range(calls):
            t = pool[i % len(pool)]
            t0 = time.perf_counter()
            classify(t)
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        out[f"{name} p50 ms"] = samples[len(samples) // 2]
        out[f"{name} p99 ms"] = samples[int(len(samples) * 0.99) - 1]
    return out


_COLD = """
import time
t0 = time.perf_counter()
from mktsales import classify
t1 = time.perf_counter()
classify("Own the quarterly pipeline and close enterprise deals")
t2 = time.perf_counter()
print(t1 - t0, t2 - t0)
"""


def cold_start(runs: int = 5) -> dict[str, float]:
    """Median seconds, in a fresh interpreter, for the import and for import + first classify()."""
    imports, firsts, walls = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _COLD], check=True, capture_output=True, text=True).stdout
        walls.append(time.perf_counter() - t0)
        imp, first = (float(x) for x in out.split())
        imports.append(imp)
        firsts.append(first)
    return {
        "import s": statistics.median(imports),
        "import + first classify s": statistics.median(firsts),
        "whole process s": statistics.median(walls),
    }


#: Stages of classify_many() and the functions that hold them (file suffix, function name).
STAGES = [
    ("prepare: total", "document.py", "prepare"),
    ("  normalize (HTML, entities, mojibake)", "text.py", "normalize"),
    ("  find boilerplate", "boilerplate.py", "spans_of"),
    ("  tokens and offsets", "document.py", "_split_lower"),
    ("  detect language", "language.py", "detect_language"),
    ("score: total (batch)", "scoring.py", "analyze_many"),
    ("  rule matching", "matching.py", "match"),
    ("    phrase trie and anchors", "matching.py", "_scan"),
    ("    token patterns (spaCy Matcher on windows)", "matching.py", "_token_matches"),
    ("  rule evidence", "features.py", "rule_evidence"),
    ("  TF-IDF rows and text logits (NumPy, whole batch)", "scoring.py", "_text_logits"),
    ("  rule features and softmax", "scoring.py", "_finish"),
    ("build the Prediction (evidence, dimensions)", "api.py", "_predict"),
    ("classify_many: total", "api.py", "_classify_batch"),
]


def profile(texts: list[str]) -> list[tuple[str, float]]:
    """Milliseconds per posting in each stage of classify_many() (cumulative time of the stage's function)."""
    import cProfile
    import pstats

    from mktsales import default_classifier

    clf = default_classifier()
    # Warm up on the same texts: spaCy's Matcher is slow on its first calls for each pattern.
    list(clf.classify_many(texts))
    prof = cProfile.Profile()
    prof.enable()
    for _ in clf.classify_many(texts):
        pass
    prof.disable()
    stats: Any = pstats.Stats(prof).stats
    out = []
    for label, suffix, func in STAGES:
        found = [v[3] for (file, _, name), v in stats.items() if file.endswith(suffix) and name == func]
        if not found:
            # A renamed function must not drop its stage from the report unnoticed.
            raise LookupError(f"stage {label.strip()!r}: {suffix}:{func} was not called; update STAGES")
        out.append((label, sum(found) * 1000 / len(texts)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="number of texts (default 3000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--no-wait", action="store_true", help="do not wait for other processes to go quiet before each measurement"
    )
    args = parser.parse_args(argv)

    texts = posting_texts(args.n)
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"{args.n} texts, mean {mean_chars:,.0f} characters; {args.repeats} rounds\n")
    results: dict[str, Any] = {"n": args.n, "mean_chars": mean_chars}
    tp, round_times = throughputs(texts, args.repeats, quiet=not args.no_wait)
    results["throughput"] = {k: v[0] for k, v in tp.items()}
    results["background_cores"] = {k: v[1] for k, v in tp.items()}
    base = tp["baseline TF-IDF 1-2 + LR predict_proba"][0]
    one = tp["classify_many, 1 process"][0]
    print("| contender | texts/s | vs baseline | vs 1 process | other load (cores) |")
    print("|---|---:|---:|---:|---:|")
    for name, (rate, other) in tp.items():
        load = "-" if other is None else f"{other:.2f}"
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x | {rate / one:.2f}x | {load} |")
    pairs = paired_ratios(round_times)
    results["paired_ratios"] = pairs
    print("\n| ratio within each round (contenders run back to back) | median | rounds |\n|---|---:|---|")
    for label, ratios in pairs.items():
        rounds = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"| {label} | {statistics.median(ratios):.2f}x | {rounds} |")
    lat = latency(texts)
    results["latency"] = lat
    print("\n| classify() latency after warm-up | ms |\n|---|---:|")
    for k, v in lat.items():
        print(f"| {k} | {v:.2f} |")
    cold = cold_start()
    results["cold_start"] = cold
    print("\n| cold start (fresh interpreter, median of 5) | s |\n|---|---:|")
    for k, v in cold.items():
        print(f"| {k} | {v:.2f} |")
    if not args.no_profile:
        prof = profile(texts[: min(300, len(texts))])
        results["profile_ms_per_posting"] = dict(prof)
        print("\n| stage of classify_many() (cProfile, cumulative) | ms per posting |\n|---|---:|")
        for k, v in prof:
            print(f"| {k.replace('  ', '&nbsp;&nbsp;')} | {v:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
