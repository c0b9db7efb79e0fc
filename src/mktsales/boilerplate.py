"""Find posting boilerplate so that it cannot swing the label.

Equal-opportunity statements, privacy notices, benefits lists and "about us" paragraphs appear in
postings of every function; a company that calls itself "a leading consumer brand" is not thereby
hiring a marketer. :func:`blank_boilerplate` replaces such passages with spaces (so offsets do not
move) before rules and model see the text. The patterns live in ``data/boilerplate.json``.

Three mechanisms, from coarse to fine:

1. a heading such as "About us", "Benefits" or "Equal opportunity" opens a section that is blanked up
   to the next heading ("Responsibilities", "About the role"...);
2. a paragraph that opens with a company introduction ("Acme is a leading...", "We are a...") and
   never speaks to the candidate ("you", "this role", "looking for") is blanked whole;
3. any other sentence that matches an equal-opportunity, legal or company-size pattern is blanked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = ["blank_boilerplate", "blank_spans", "boilerplate_spans"]

#: A line of at most this many words (and no sentence-final full stop) may be a heading.
MAX_HEADING_WORDS = 8

_SENTENCE_END_RE = re.compile(r"[.!?]+|\n")
#: A line longer than this is never a heading (checked before counting its words).
_MAX_HEADING_CHARS = 100
#: An inline heading ("About us: ...") has its separator within this many characters.
_INLINE_HEADING_CHARS = 60
# Cheap pre-checks before the company-introduction pattern: it needs "is"/"are" or one of these starts.
_INTRO_STARTS = re.compile(r"^\s*(?:we're|we are|founded|since|for over|for more|at |our |join )")
_LINE_RE = re.compile(r"[^\n]+")
_WORD_RE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Patterns:
    sentence_rules: tuple[tuple[frozenset[str], re.Pattern[str]], ...]
    anchors: frozenset[str]
    section: re.Pattern[str]
    keep_section: re.Pattern[str]
    heading: re.Pattern[str]
    inline_heading: re.Pattern[str]
    intro: re.Pattern[str]
    role: re.Pattern[str]
    section_end: re.Pattern[str]


def _alt(parts: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in parts)


@cache
def _patterns() -> _Patterns:
    raw = json.loads(files("mktsales").joinpath("data/boilerplate.json").read_text("utf-8"))
    flags = re.IGNORECASE
    heading_tail = r"\s*[:.\-–—]?\s*$"
    section = _alt(raw["section_headings"])
    rules = tuple((frozenset(r["anchors"]), re.compile(r["pattern"], flags)) for r in raw["sentences"])
    return _Patterns(
        sentence_rules=rules,
        anchors=frozenset().union(*(a for a, _ in rules)),
        section=re.compile(rf"^\s*(?:{section}){heading_tail}", flags),
        keep_section=re.compile(rf"^\s*(?:{_alt(raw['not_boilerplate_headings'])}){heading_tail}", flags),
        heading=re.compile(rf"^\s*(?:{_alt(raw['any_heading'])}){heading_tail}", flags),
        inline_heading=re.compile(rf"^\s*(?:{section})\s*[:\-–—]\s+\S", flags),
        intro=re.compile(_alt(raw["company_intro"]), flags),
        role=re.compile(_alt(raw["role_cues"]), flags),
        section_end=re.compile(_alt(raw["section_end_cues"]), flags),
    )


def _is_heading_like(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= MAX_HEADING_WORDS and not line.rstrip().endswith((".", "!", "?", ","))


def boilerplate_spans(text: str, words: frozenset[str] | set[str] | None = None) -> list[tuple[int, int]]:
    """Return the character ranges of ``text`` that are boilerplate.

    Parameters
    ----------
    text : str
        Cleaned text (see :func:`mktsales.text.normalize`).
    words : set of str, optional
        The lower-cased words of ``text`` when the caller has them already; sentence patterns are
        only tried when one of their anchor words occurs, which keeps the common case cheap.

    Returns
    -------
    list of tuple of int
        Sorted, non-overlapping ``(start, end)`` ranges.
    """
    pats = _patterns()
    if words is None:
        words = set(_WORD_RE.findall(text.lower()))
    spans: list[tuple[int, int]] = []
    in_section = False
    previous_end = 0
    for lm in _LINE_RE.finditer(text):
        line = lm.group()
        if not line.strip():
            continue
        new_paragraph = text.count("\n", previous_end, lm.start()) >= 2
        previous_end = lm.end()
        if len(line) <= _MAX_HEADING_CHARS and _is_heading_like(line):
            if pats.keep_section.match(line):
                in_section = False
                continue
            if pats.section.match(line):
                in_section = True
                spans.append(lm.span())
                continue
            if pats.heading.match(line):
                in_section = False
                continue
        if in_section:
            # A section ends at a line that starts the job description, or at a new paragraph
            # that speaks to the candidate ("you", "your").
            if not (pats.section_end.search(line) or (new_paragraph and pats.role.search(line))):
                spans.append(lm.span())
                continue
            in_section = False
        head = line[:_INLINE_HEADING_CHARS]
        if (
            (":" in head or "-" in head or "–" in head or "—" in head)
            and pats.inline_heading.match(line)
            and not pats.keep_section.match(line.split(":")[0] + ":")
        ):
            spans.append(lm.span())
            continue
        low_line = line.lower()
        if (
            (" is " in low_line or " are " in low_line or _INTRO_STARTS.search(low_line))
            and pats.intro.match(line.lstrip())
            and not pats.role.search(line)
        ):
            spans.append(lm.span())
    # A sentence pattern is tried only on the sentences that hold one of its anchor words (found
    # with str.find), never across the whole text: scanning a posting with each pattern cost ten
    # times more (measured).
    low = text.lower()
    if len(low) != len(text):
        low = text
    for anchors, rx in pats.sentence_rules:
        present = anchors.intersection(words)
        if not present:
            continue
        for anchor in present:
            pos = low.find(anchor)
            while pos != -1:
                start, end = _sentence_around(text, pos, pos + len(anchor))
                if rx.search(text, start, end):
                    spans.append((start, end))
                pos = low.find(anchor, end)
    spans.sort()
    return spans


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (ended by . ! ? or a line break) that holds ``text[start:end]``."""
    begin = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    m = _SENTENCE_END_RE.search(text, end)
    if m is None:
        return begin, len(text)
    return begin, (m.start() if m.group() == "\n" else m.end())


def blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace the given sorted ranges of ``text`` with spaces (overlaps allowed)."""
    parts: list[str] = []
    last = 0
    for start, end in spans:
        start = max(start, last)
        if end <= start:
            continue
        parts.append(text[last:start])
        parts.append(" " * (end - start))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def blank_boilerplate(text: str, words: frozenset[str] | set[str] | None = None) -> str:
    """Replace boilerplate passages with spaces, keeping every other character in place.

    Parameters
    ----------
    text : str
        Cleaned text.
    words : set of str, optional
        The lower-cased words of ``text``, when known (see :func:`boilerplate_spans`).

    Returns
    -------
    str
        Text of the same length with boilerplate blanked (``text`` itself when there is none).

    Examples
    --------
    >>> out = blank_boilerplate("Close deals.\\nWe are an equal opportunity employer.")
    >>> out.split()
    ['Close', 'deals.']
    """
    spans = boilerplate_spans(text, words)
    if not spans:
        return text
    return blank_spans(text, spans)
