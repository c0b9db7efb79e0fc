"""Where the time of ``classify_many(n_process=2)`` goes: the CPU of this process and of its worker.

Usage: python benchmarks/parallel.py [--n 3000] [--rounds 5] [--batch-size 64]

In every round, on the same posting-length texts as benchmarks/speed.py, it runs ``classify_many``
in this process and then with ``n_process=2``, and reads ``resource.getrusage`` around each run:

- the speed-up of 2 processes over 1 (wall time, the two runs back to back);
- the CPU the two processes used together (this one, which classifies its share of the batches and
  unpickles the worker's predictions, and the one worker process), against the CPU of the
  one-process run: above 1.0 is the cost of going parallel (pickling and unpickling, and the two
  virtual cores of a shared host contending);
- the share of that CPU spent in this process.

With ``w`` the one-process CPU and ``c`` the CPU of the two processes together over ``w``, the best
wall time two cores allow is ``c * w / 2``, so the speed-up cannot pass ``2 / c``; the script
prints that bound next to the measured speed-up.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import posting_texts


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    from mktsales import default_classifier

    texts = posting_texts(args.n)
    clf = default_classifier()
    clf.classify(texts[0])
    rows = []
    for _ in range(args.rounds):
        t0, c0 = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        list(clf.classify_many(texts))
        one_wall, one_cpu = time.perf_counter() - t0, _cpu(resource.RUSAGE_SELF) - c0
        t0, p0, k0 = time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        list(clf.classify_many(texts, n_process=2, batch_size=args.batch_size))
        two_wall = time.perf_counter() - t0
        parent = _cpu(resource.RUSAGE_SELF) - p0
        worker = _cpu(resource.RUSAGE_CHILDREN) - k0
        both = (parent + worker) / one_cpu
        rows.append((one_wall / two_wall, both, parent / (parent + worker), 2 / both))
    print(f"{args.n} texts, {args.rounds} rounds, batch size {args.batch_size}\n")
    print("| round | 2 processes vs 1 | CPU of both vs 1 process | share in this process | bound |")
    print("|---|---:|---:|---:|---:|")
    for i, (speedup, both, share, bound) in enumerate(rows, 1):
        print(f"| {i} | {speedup:.2f}x | {both:.2f} | {share:.2f} | {bound:.2f}x |")
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(f"| median | {med[0]:.2f}x | {med[1]:.2f} | {med[2]:.2f} | {med[3]:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
