"""Merge newly written corpus parts into the fixed train/dev/test splits.

Usage: python scripts/build_splits.py [--corpus data/corpus]

Records already in a split file keep their split forever. New records (from
``data/corpus/parts/*.jsonl``) are checked (schema, exact duplicates, conflicting labels),
grouped with their near-duplicates (token Jaccard >= 0.8), and assigned:

- to the split of an existing record they nearly duplicate, so near-duplicates never straddle splits;
- otherwise by a hash of the group's first id: 70% train, 15% dev, 15% test.

The merged parts are then removed (git history keeps them). Run it again after adding parts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from mktsales.corpus import SPLITS, Record, _records, near_duplicate_pairs

#: Share of new groups sent to train and dev; the rest go to test.
TRAIN_SHARE, DEV_SHARE = 0.70, 0.15


def _split_for(key: str) -> str:
    u = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:12], 16) / 16**12
    return "train" if u < TRAIN_SHARE else ("dev" if u < TRAIN_SHARE + DEV_SHARE else "test")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="data/corpus")
    parser.add_argument("--keep-parts", action="store_true", help="do not delete merged part files")
    parser.add_argument("parts", nargs="*", help="part files to merge (default: every data/corpus/parts/*.jsonl)")
    args = parser.parse_args(argv)
    root = Path(args.corpus)
    existing: dict[str, list[Record]] = {}
    for s in SPLITS:
        p = root / f"{s}.jsonl"
        existing[s] = list(_records(p)) if p.is_file() else []
    split_of = {r.id: s for s, recs in existing.items() for r in recs}
    text_of = {r.id: r.text for recs in existing.values() for r in recs}
    seen_text = {_norm(r.text): r for recs in existing.values() for r in recs}
    parts = [Path(p) for p in args.parts] or sorted((root / "parts").glob("*.jsonl"))
    new: list[Record] = []
    dropped = Counter()
    for part in parts:
        for r in _records(part):
            if r.id in split_of:
                if text_of[r.id] == r.text:
                    continue  # merged by an earlier run (parts kept with --keep-parts)
                sys.exit(f"{part}: id {r.id} is already in the {split_of[r.id]} split with another text")
            key = _norm(r.text)
            if key in seen_text:
                prev = seen_text[key]
                dropped["exact duplicate" if prev.label == r.label else "duplicate with another label"] += 1
                continue
            seen_text[key] = r
            new.append(r)
    ids = [r.id for r in new]
    if len(ids) != len(set(ids)):
        sys.exit("duplicate ids among new records")
    # union-find over near-duplicates among new records, and against existing ones
    parent = {r.id: r.id for r in new}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in near_duplicate_pairs(new, new):
        if a != b:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    pinned: dict[str, str] = {}
    all_existing = [r for recs in existing.values() for r in recs]
    for a, b, _ in near_duplicate_pairs(new, all_existing):
        pinned.setdefault(find(a), split_of[b])
    added = Counter()
    for r in new:
        root_id = find(r.id)
        split = pinned.get(root_id) or _split_for(root_id)
        existing[split].append(r)
        added[(split, r.label)] += 1
    for s in SPLITS:
        records = sorted(existing[s], key=lambda r: r.id)
        with (root / f"{s}.jsonl").open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    if not args.keep_parts:
        for part in parts:
            part.unlink()
    for k in sorted(added):
        print(*k, added[k])
    for k, v in dropped.items():
        print("dropped:", k, v)
    print({s: len(existing[s]) for s in SPLITS})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
