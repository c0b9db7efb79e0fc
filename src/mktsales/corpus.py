"""The project's labelled corpus: reading and checking its fixed splits.

The corpus lives in ``data/corpus/{train,dev,test}.jsonl`` of a checkout (it is not installed with
the package). Each line is a record with ``id``, ``text``, ``label``, ``kind``, ``subfunction`` and
``note``; see ``data/DATASHEET.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from mktsales.dimensions import LABELS
from mktsales.exceptions import MktSalesError

__all__ = [
    "KINDS",
    "SPLITS",
    "CorpusError",
    "Record",
    "jaccard",
    "load_corpus",
    "load_split",
    "near_duplicate_pairs",
    "token_set",
]

SPLITS = ("train", "dev", "test")
KINDS = ("title", "task", "posting")
_KEYS = {"id", "text", "label", "kind", "subfunction", "note"}
_WORD = re.compile(r"[^\W_]+")


class CorpusError(MktSalesError, ValueError):
    """A corpus file is missing or holds a malformed record."""


@dataclass(frozen=True, slots=True)
class Record:
    """One labelled text of the corpus."""

    id: str
    text: str
    label: str
    kind: str
    subfunction: str
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the record as written in the corpus files."""
        return {
            "id": self.id,
            "text": self.text,
            "label": self.label,
            "kind": self.kind,
            "subfunction": self.subfunction,
            "note": self.note,
        }


def _records(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or set(obj) != _KEYS:
                raise CorpusError(f"{path}:{lineno}: a record needs exactly the keys {sorted(_KEYS)}")
            if obj["label"] not in LABELS or obj["kind"] not in KINDS:
                raise CorpusError(f"{path}:{lineno}: bad label {obj['label']!r} or kind {obj['kind']!r}")
            if not all(isinstance(obj[k], str) for k in _KEYS) or not obj["text"].strip():
                raise CorpusError(f"{path}:{lineno}: every field must be a string and text non-empty")
            yield Record(**obj)


def load_split(directory: str | PathLike[str], split: str) -> list[Record]:
    """Read one split (``"train"``, ``"dev"`` or ``"test"``) of a corpus directory."""
    if split not in SPLITS:
        raise CorpusError(f"split must be one of {SPLITS}, got {split!r}")
    path = Path(directory) / f"{split}.jsonl"
    if not path.is_file():
        raise CorpusError(f"corpus split not found: {path}")
    return list(_records(path))


def load_corpus(directory: str | PathLike[str]) -> dict[str, list[Record]]:
    """Read the three splits of a corpus directory, checking ids are unique across them."""
    out = {s: load_split(directory, s) for s in SPLITS}
    seen: dict[str, str] = {}
    for split, records in out.items():
        for r in records:
            if r.id in seen:
                raise CorpusError(f"record id {r.id!r} is in both {seen[r.id]} and {split}")
            seen[r.id] = split
    return out


def token_set(text: str) -> frozenset[str]:
    """Lower-cased word set of a text, as used for near-duplicate checks."""
    return frozenset(_WORD.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Token Jaccard similarity of two word sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicate_pairs(
    left: Iterable[Record], right: Iterable[Record], threshold: float = 0.8
) -> list[tuple[str, str, float]]:
    """Pairs ``(left id, right id, similarity)`` with token Jaccard at or above ``threshold``.

    Candidates are found through an inverted index of words, so the cost grows with the number of
    pairs that share words rather than with all pairs.
    """
    right_sets = [(r.id, token_set(r.text)) for r in right]
    index: dict[str, list[int]] = {}
    for j, (_, ts) in enumerate(right_sets):
        for w in ts:
            index.setdefault(w, []).append(j)
    out = []
    for r in left:
        ts = token_set(r.text)
        if not ts:
            continue
        shared: dict[int, int] = {}
        for w in ts:
            for j in index.get(w, ()):
                shared[j] = shared.get(j, 0) + 1
        for j, n in shared.items():
            other = right_sets[j][1]
            # |A & B| / |A | B| >= t  needs  n >= t * max(|A|, |B|)
            if n < threshold * max(len(ts), len(other)):
                continue
            sim = n / (len(ts) + len(other) - n)
            if sim >= threshold:
                out.append((r.id, right_sets[j][0], sim))
    return out
