"""Peak memory of ``mktsales label`` on a large generated CSV (default 1 GB).

Usage: python benchmarks/memory.py [--size-mb 1000] [--jobs 2] [--dir /tmp/mktsales-bench] [--keep]

Writes a CSV of posting-length rows (posting_id, title, description of about 2,000 characters,
department, location), built from the corpus like benchmarks/speed.py, under ``--dir`` (never in
the repository), then runs ``python -m mktsales label`` on it in a child process and reports:

- the peak resident set size of the ``mktsales label`` process itself (``wait4`` rusage: exact);
- the peak of each worker process (``VmHWM``, sampled every half second);
- the largest sampled sum of RSS, and of PSS (shared pages divided among the processes sharing
  them: workers forked from the main process share the model), over the whole process tree;
- rows, seconds and rows per second.

The generated CSV is removed at the end unless ``--keep``; the output always is.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import TITLES, posting_texts

REPO = Path(__file__).resolve().parents[1]
DEPARTMENTS = ["Marketing", "Sales", "Operations", "Finance", "Clinical", "Engineering"]
LOCATIONS = ["London", "Leeds", "Glasgow", "Remote", "Manchester, UK", "Dublin"]


def generate(path: Path, size_bytes: int) -> int:
    """Write a CSV of about ``size_bytes``; return the number of data rows."""
    texts = posting_texts(2000)
    rng = random.Random(1)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["posting_id", "title", "description", "department", "location"])
        while fh.tell() < size_bytes:
            block = []
            for _ in range(1000):
                text = texts[rng.randrange(len(texts))]
                cut = rng.randrange(0, 200)  # vary the texts a little
                block.append(
                    [
                        f"REQ-{rows:08d}",
                        TITLES[rows % len(TITLES)],
                        text[cut:] + f"\nRef {rows}",
                        DEPARTMENTS[rows % len(DEPARTMENTS)],
                        LOCATIONS[rows % len(LOCATIONS)],
                    ]
                )
                rows += 1
            w.writerows(block)
    return rows


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Samples the memory of a process tree until stopped."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.stop = threading.Event()
        self.max_rss_sum = 0
        self.max_pss_sum = 0
        self.worker_hwm: dict[int, int] = {}

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stop.is_set():
            pids = _tree(self.pid)
            self.max_rss_sum = max(self.max_rss_sum, sum(_status_kb(p, "VmRSS") for p in pids))
            self.max_pss_sum = max(self.max_pss_sum, sum(_pss_kb(p) for p in pids))
            for p in pids[1:]:
                self.worker_hwm[p] = max(self.worker_hwm.get(p, 0), _status_kb(p, "VmHWM"))
            self.stop.wait(self.every)


def main(argv: list[str] | None = None) -> int:
    """Generate the CSV, label it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1000.0, help="CSV size in MB (default 1000)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/mktsales-bench", help="where to write the CSV (not the repo)")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV")
    args = parser.parse_args(argv)
    work = Path(args.dir)
    if REPO in work.resolve().parents or work.resolve() == REPO:
        parser.error("--dir must be outside the repository")
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"postings-{int(args.size_mb)}mb.csv"
    out = work / "labelled.csv"
    t0 = time.perf_counter()
    if src.exists() and src.stat().st_size >= args.size_mb * 1e6:
        with src.open(encoding="utf-8", newline="") as fh:
            rows = sum(1 for _ in csv.reader(fh)) - 1
    else:
        rows = generate(src, int(args.size_mb * 1e6))
    print(
        f"input: {src} ({src.stat().st_size / 1e6:,.0f} MB, {rows:,} rows), ready in {time.perf_counter() - t0:.0f} s"
    )
    cmd = [
        sys.executable,
        "-m",
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
        "--jobs",
        str(args.jobs),
        "--force",
    ]
    print("command:", " ".join(cmd))
    t0 = time.perf_counter()
    pid = os.posix_spawn(sys.executable, cmd, os.environ)
    sampler = Sampler(pid)
    sampler.start()
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    print(f"exit code {code}; {rows:,} rows in {seconds:,.0f} s ({rows / seconds:,.0f} rows/s)")
    print(f"peak RSS of the mktsales label process: {usage.ru_maxrss / 1024:,.0f} MB")
    if sampler.worker_hwm:
        peaks = ", ".join(f"{v / 1024:,.0f}" for v in sampler.worker_hwm.values())
        print(f"peak RSS of each worker (sampled VmHWM): {peaks} MB")
    print(
        f"largest sampled sum over the process tree: RSS {sampler.max_rss_sum / 1024:,.0f} MB, "
        f"PSS {sampler.max_pss_sum / 1024:,.0f} MB"
    )
    for p in (out, out.with_name(out.name + ".errors.jsonl"), out.with_name(out.name + ".manifest.json")):
        if p.exists():
            p.unlink()
    if not args.keep:
        src.unlink()
    return code


if __name__ == "__main__":
    sys.exit(main())
