"""Print the corpus tables used in data/DATASHEET.md.

Usage: python scripts/corpus_stats.py [--corpus data/corpus]
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter

from mktsales.corpus import KINDS, SPLITS, load_corpus
from mktsales.dimensions import LABELS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="data/corpus")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    records = [r for s in SPLITS for r in corpus[s]]
    print("| split | " + " | ".join(f"{label} {kind}s" for label in LABELS for kind in KINDS) + " | total |")
    print("|---|" + "---|" * (len(LABELS) * len(KINDS) + 1))
    for split in SPLITS:
        c = Counter((r.label, r.kind) for r in corpus[split])
        cells = " | ".join(str(c[(label, kind)]) for label in LABELS for kind in KINDS)
        print(f"| {split} | {cells} | {len(corpus[split])} |")
    c = Counter((r.label, r.kind) for r in records)
    cells = " | ".join(str(c[(label, kind)]) for label in LABELS for kind in KINDS)
    print(f"| all | {cells} | {len(records)} |")
    print()
    for label in LABELS:
        subs = Counter(r.subfunction for r in records if r.label == label)
        print(f"**{label}** ({sum(subs.values())}): " + ", ".join(f"{k} {v}" for k, v in sorted(subs.items())))
        print()
    postings = [r for r in records if r.kind == "posting"]
    lengths = [len(r.text.split()) for r in postings]
    print(
        f"Postings: {len(postings)}; words min {min(lengths)}, median {statistics.median(lengths):.0f}, "
        f"max {max(lengths)}; >= 120 words: {sum(n >= 120 for n in lengths)}; with HTML: "
        f"{sum('<p>' in r.text or '<li>' in r.text or '<br' in r.text for r in postings)}; with bullet characters: "
        f"{sum(any(b in r.text for b in '•▪·') for r in postings)}"
    )
    noted = Counter(r.label for r in records if r.note)
    print(
        f"Hard cases with a rationale: {sum(noted.values())} (" + ", ".join(f"{k} {v}" for k, v in noted.items()) + ")"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
