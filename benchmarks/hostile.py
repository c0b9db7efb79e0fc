"""A million-row file of short, partly hostile rows through `mktsales label`: is every row accounted for?

Usage: python benchmarks/hostile.py [--rows 1000000] [--jobs 2] [--dir /tmp/mktsales-hostile]

Writes a CSV of titles and tasks from the corpus mixed with hostile cells (empty text, zero-width and
control characters, formula cells, nested HTML, bytes that are not UTF-8, a malformed line every
100,000 rows), labels it in a child process, then checks that every input record is either an
output row or a line of the errors file, prints the counts, the time and the peak memory, and
deletes the files.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mktsales.corpus import SPLITS, load_split

REPO = Path(__file__).resolve().parents[1]
HOSTILE = [
    "",
    "Ac\u200bcount Exe\u200dcutive\x07",
    '=HYPERLINK("http://x")',
    "<div>" * 50 + "SEO specialist" + "</div>" * 50,
    "🚀🚀🚀",
    "Wir suchen eine erfahrene Vertriebsleiterin für unser Team und Sie sind für die Kunden zuständig.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mktsales-hostile"))
    args = parser.parse_args(argv)
    texts = [r.text for s in SPLITS for r in load_split(REPO / "data" / "corpus", s) if r.kind != "posting"]
    rng = random.Random(0)
    args.dir.mkdir(parents=True, exist_ok=True)
    src, out = args.dir / "rows.csv", args.dir / "labelled.csv"
    malformed = 0
    with src.open("wb") as raw:
        raw.write(b"row_id,text\r\n")
        for i in range(args.rows):
            if i % 100_000 == 99_999:
                raw.write(f"{i},too,many,fields\r\n".encode())  # 4 fields under a 2-column header
                malformed += 1
                continue
            if i % 50_000 == 7:
                raw.write(f"{i},Sales assistant in a caf".encode() + b"\xe9\r\n")
                continue
            text = HOSTILE[(i // 10) % len(HOSTILE)] if i % 10 == 3 else rng.choice(texts)
            line = []
            csv.writer(_Sink(line)).writerow([i, text])
            raw.write("".join(line).encode("utf-8"))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mktsales", "label", str(src), "-o", str(out), "--text-column", "text",
         "--id-column", "row_id", "--jobs", str(args.jobs), "--force", "--quiet"],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with out.open(encoding="utf-8", newline="") as fh:
        out_rows = sum(1 for _ in csv.DictReader(fh))
    errors = [json.loads(line) for line in (Path(str(out) + ".errors.jsonl")).read_text().splitlines()]
    reasons: dict[str, int] = {}
    for e in errors:
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    manifest = json.loads(Path(str(out) + ".manifest.json").read_text())
    records = manifest.get("records", manifest.get("summary", {}).get("records"))
    only_in_errors = reasons.get("malformed_csv", 0)
    print(f"exit code {proc.returncode}; {args.rows:,} records written by the generator")
    print(f"output rows {out_rows:,}; errors file lines {len(errors):,} {reasons}")
    print(f"records counted by the run {records}; malformed lines written {malformed}")
    print(f"{seconds:.0f} s ({args.rows / seconds:,.0f} records/s), largest child peak RSS {peak_mb:.0f} MB")
    shutil.rmtree(args.dir)
    accounted = out_rows + only_in_errors == args.rows
    print("every record accounted for" if accounted else "RECORDS MISSING")
    return 0 if accounted else 1


class _Sink:
    def __init__(self, parts: list[str]) -> None:
        self.parts = parts

    def write(self, s: str) -> None:
        self.parts.append(s)


if __name__ == "__main__":
    raise SystemExit(main())
