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

The line checks of 1 and 2 read a line without its leading spaces and a leading "- ", "* " or "+ "
list marker, so bulleting a posting's lines does not change what is blanked.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from mktsales.text import only_ascii_words

__all__ = ["blank_boilerplate", "blank_spans", "boilerplate_spans"]

#: A line of at most this many words (and no sentence-final full stop) may be a heading.
MAX_HEADING_WORDS = 8

_SENTENCE_END_RE = re.compile(r"[.!?]+|\n")
#: A line longer than this is never a heading (checked before counting its words).
_MAX_HEADING_CHARS = 100
#: An inline heading ("About us: ...") has its separator within this many characters.
_INLINE_HEADING_CHARS = 60
# Cheap pre-checks before the company-introduction pattern: it needs " is "/" are " in the
# lower-cased line, or the line (left-stripped) to open with one of these.
_INTRO_STARTS = ("we're", "we are", "founded", "since", "for over", "for more", "at ", "our ", "join ")
#: A list marker that may open a line before a heading or a company introduction.
_LIST_MARKERS = ("- ", "* ", "+ ", "-\t", "*\t", "+\t")
#: A line ending in one of these is a sentence, not a heading.
_SENTENCE_FINAL = (".", "!", "?", ",")
_WORD_RE = re.compile(r"[^\W_]+")
# What a line that introduces the company holds unless it opens with one of _INTRO_STARTS (see the
# pre-check in _LineReader.read), in a text whose only spaces are " " and line breaks.
_IS_ARE_RE = re.compile(" (?:is|are) ")
#: The ASCII spaces other than " " and the line break (normalize() turns each into one of the two).
_ODD_SPACES = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"


@dataclass(frozen=True)
class _Patterns:
    #: The sentence patterns that each anchor word calls for.
    anchor_rules: dict[str, tuple[_AnyOf, ...]]
    #: The same patterns, for the lower-cased form of an ASCII sentence (see _for_lower_ascii).
    anchor_rules_lower: dict[str, tuple[_AnyOf, ...]]
    anchors: frozenset[str]
    #: A whole-line heading; ``lastgroup`` names its kind: "keep", "section" or "other".
    heading: re.Pattern[str]
    keep_section: re.Pattern[str]
    inline_heading: re.Pattern[str]
    intro: re.Pattern[str]
    role: _AnyOf
    section_end: _AnyOf
    #: The same four, for the lower-cased form of an ASCII line (see _for_lower_ascii).
    heading_lower: re.Pattern[str]
    intro_lower: re.Pattern[str]
    role_lower: _AnyOf
    section_end_lower: _AnyOf
    #: The line break before a line that may open a section, be an inline heading or introduce the
    #: company (see _candidate_lines), for the lower-cased form of a plain text.
    line_scan: re.Pattern[str]


def _for_lower_ascii(pattern: str) -> re.Pattern[str]:
    """Compile a case-insensitive pattern for use on lower-cased ASCII text.

    On ASCII text, ignoring case only pairs a-z with A-Z, so a pattern without upper-case letters
    matches ``line.lower()`` case-sensitively exactly where it matches ``line`` ignoring case; the
    case-sensitive search is two to three times faster on long lines (measured). A pattern with an
    upper-case letter (other than an escape such as ``\\B`` or a group name's ``(?P<``) keeps the
    flag.
    """
    letters = re.sub(r"\\.|\(\?P<\w+>|\(\?P=\w+\)", "", pattern)
    has_upper = re.search(r"[A-Z]", letters) is not None
    return re.compile(pattern, re.IGNORECASE if has_upper else 0)


def _ignoring_case(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _alt(parts: list[str]) -> str:
    return "|".join(f"(?:{_spaced(p)})" for p in parts)


def _spaced(pattern: str) -> str:
    """Let every space of a data-file pattern match a run of spaces and tabs.

    The patterns in ``boilerplate.json`` are written with single spaces; postings often have two
    (after a full stop, or from an HTML export), and a pattern that missed them let a passage count
    or not count as boilerplate depending on the spacing. A space becomes ``[ \\t]+`` (``" ?"`` and
    ``" *"`` become ``[ \\t]*``); inside a character class a tab joins the space.
    """
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]" and out[-1] not in ("[", "[^"):
                in_class = False
            out.append(" \\t" if c == " " else c)
        elif c == "[":
            in_class = True
            out.append("[^" if pattern[i + 1 : i + 2] == "^" else "[")
            i += 2 if pattern[i + 1 : i + 2] == "^" else 1
            continue
        elif c == " ":
            following = pattern[i + 1 : i + 2]
            if following in ("?", "*"):
                out.append("[ \\t]*")
                i += 2
                continue
            if following in ("+", "{"):
                raise ValueError(f"a quantified space is not supported in boilerplate patterns: {pattern!r}")
            out.append("[ \\t]+")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _top_level_alternatives(pattern: str) -> list[str]:
    """Split a pattern at its top-level ``|`` (outside groups and character classes)."""
    pieces: list[str] = []
    depth = 0
    in_class = False
    class_start = 0
    start = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            # A "]" right after "[" or "[^" is a member, not the end.
            if c == "]" and i > class_start:
                in_class = False
        elif c == "[":
            in_class = True
            class_start = i + (2 if pattern[i + 1 : i + 2] == "^" else 1)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            pieces.append(pattern[start:i])
            start = i + 1
        i += 1
    pieces.append(pattern[start:])
    return pieces


def _cue_pieces(cues: list[str]) -> list[str]:
    """The top-level alternatives of a list of cue patterns (spaces made runs, see _spaced)."""
    return [piece for cue in cues for piece in _top_level_alternatives(_spaced(cue))]


class _AnyOf:
    """Tells whether any of several patterns (the alternatives of one) occurs in a text.

    ``any_of.search(text, pos, endpos)`` is true exactly when searching their alternation would
    find a match, and is several times faster on long lines: the regex engine scans quickly for a
    pattern's leading literal or leading characters, but not for an alternation in which one branch
    starts with ``\\b`` (it then tries every branch at every position: 36 against 4 us on a line
    of 450 characters, measured). A pattern that starts with ``\\b`` is searched without it, and
    each place found is checked with the whole pattern.
    """

    __slots__ = ("_bounded", "_plain")

    def __init__(self, patterns: list[str], compile_: Callable[[str], re.Pattern[str]]) -> None:
        plain: list[re.Pattern[str]] = []
        bounded: list[tuple[re.Pattern[str], re.Pattern[str]]] = []
        for p in patterns:
            if p.startswith("\\b") and len(p) > 2:
                bounded.append((compile_(p[2:]), compile_(p)))
            else:
                plain.append(compile_(p))
        self._plain, self._bounded = tuple(plain), tuple(bounded)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> bool:
        """Whether one of the patterns matches somewhere in ``text[pos:endpos]``."""
        for rx in self._plain:
            if rx.search(text, pos, endpos) is not None:
                return True
        for rest, whole in self._bounded:
            m = rest.search(text, pos, endpos)
            while m is not None:
                at = m.start()
                if whole.match(text, at, endpos) is not None:
                    return True
                m = rest.search(text, at + 1, endpos)
        return False


@cache
def _patterns() -> _Patterns:
    raw = json.loads(files("mktsales").joinpath("data/boilerplate.json").read_text("utf-8"))
    flags = re.IGNORECASE
    tail = r"\s*[:.\-–—]?\s*$"
    section = _alt(raw["section_headings"])
    keep = _alt(raw["not_boilerplate_headings"])
    rules: dict[str, list[_AnyOf]] = {}
    rules_lower: dict[str, list[_AnyOf]] = {}
    for rule in raw["sentences"]:
        pieces = _top_level_alternatives(_spaced(rule["pattern"]))
        rx, rx_lower = _AnyOf(pieces, _ignoring_case), _AnyOf(pieces, _for_lower_ascii)
        for anchor in frozenset(rule["anchors"]):
            rules.setdefault(anchor, []).append(rx)
            rules_lower.setdefault(anchor, []).append(rx_lower)
    # One match call instead of three (not-boilerplate, boilerplate section, other heading): the
    # branches are tried in turn, as the three patterns were, and the first that matches wins. No
    # heading starts with a space, so the leading spaces are taken once, possessively (re-trying
    # every branch without them doubled the time on indented lines, measured).
    heading = (
        rf"^\s*+(?:(?:{keep}){tail}(?P<keep>)|(?:{section}){tail}(?P<section>)"
        rf"|(?:{_alt(raw['any_heading'])}){tail}(?P<other>))"
    )
    # Where a heading or a company introduction may start: after leading spaces and a list marker
    # (as _LineReader.read strips them), a section heading (which every boilerplate section heading
    # and inline heading opens with) or one of the intro pre-check's openings, whose spaces may be
    # runs. A look-ahead, so that the scan resumes at the next line whatever the phrase spans.
    starts = "|".join(re.escape(s).replace("\\ ", "\\s+") for s in _INTRO_STARTS)
    role_pieces, end_pieces = _cue_pieces(raw["role_cues"]), _cue_pieces(raw["section_end_cues"])
    line_scan = rf"\n(?=[^\S\n]*+(?:[-*+][ \t][^\S\n]*+)?(?:{section}|{starts}))"
    return _Patterns(
        line_scan=_for_lower_ascii(line_scan),
        anchor_rules={anchor: tuple(rxs) for anchor, rxs in rules.items()},
        anchor_rules_lower={anchor: tuple(rxs) for anchor, rxs in rules_lower.items()},
        anchors=frozenset(rules),
        heading=re.compile(heading, flags),
        heading_lower=_for_lower_ascii(heading),
        keep_section=re.compile(rf"^\s*(?:{keep}){tail}", flags),
        inline_heading=re.compile(rf"^\s*(?:{section})\s*[:\-–—]\s+\S", flags),
        intro=re.compile(_alt(raw["company_intro"]), flags),
        intro_lower=_for_lower_ascii(_alt(raw["company_intro"])),
        role=_AnyOf(role_pieces, _ignoring_case),
        section_end=_AnyOf(end_pieces, _ignoring_case),
        role_lower=_AnyOf(role_pieces, _for_lower_ascii),
        section_end_lower=_AnyOf(end_pieces, _for_lower_ascii),
    )


def boilerplate_spans(
    text: str, words: Collection[str] | None = None, *, lower: str | None = None
) -> list[tuple[int, int]]:
    """Return the character ranges of ``text`` that are boilerplate.

    Parameters
    ----------
    text : str
        Cleaned text (see :func:`mktsales.text.normalize`).
    words : collection of str, optional
        The lower-cased words of ``text`` (a set, or the token list) when the caller has them
        already; sentence patterns are only tried when one of their anchor words occurs, which
        keeps the common case cheap.
    lower : str, optional
        ``text.lower()``, when the caller has it.

    Returns
    -------
    list of tuple of int
        Sorted, non-overlapping ``(start, end)`` ranges.
    """
    low = text.lower() if lower is None else lower
    return spans_of(text, words, low, plain=len(low) == len(text) and only_ascii_words(low))


def spans_of(text: str, words: Collection[str] | None, low: str, *, plain: bool) -> list[tuple[int, int]]:
    """:func:`boilerplate_spans` with ``low = text.lower()`` and ``plain`` given by the caller.

    ``plain`` must be ``mktsales.text.only_ascii_words(low)`` (the caller's tokenizer needs it too).
    """
    pats = _patterns()
    # The text is lower-cased once, for the lines and the sentence patterns. When that keeps one
    # character per character (nearly always), low[i:j] is text[i:j].lower(): a line's lower-case
    # form is a slice.
    aligned = len(low) == len(text)
    if words is None:
        words = set(_WORD_RE.findall(low))
    spans = _line_spans(text, low if aligned else None, pats, plain)
    present = pats.anchors.intersection(words)
    if present:
        spans += _sentence_spans(text, low if aligned else None, present, pats)
    spans.sort()
    return spans


def _line_spans(text: str, low: str | None, pats: _Patterns, plain: bool) -> list[tuple[int, int]]:
    """Boilerplate sections, inline headings and company introductions, line by line.

    ``low`` is ``text.lower()`` when it has the same length as ``text``, else None. ``plain`` says
    that no character of ``text`` outside ASCII is a letter, a digit or a space (see
    :func:`mktsales.text.only_ascii_words`).

    Outside a boilerplate section, a line only matters if it opens a section, is an inline heading
    or introduces the company, and each of these starts with a phrase of the data file or holds
    " is "/" are ". On a plain text, two regex scans over the whole lower-cased text find every
    line that may do one of these (and a few more), and only those lines, and every line of the
    sections they open, are read (:meth:`_LineReader.read`). Reading every line, as the other texts
    are read, gives the same spans (tests check it on the corpus and on generated texts): the scans
    skip the Python work of the three quarters of a posting's lines that are neither. With the
    cue searches of :class:`_AnyOf`, 73 -> 41 us a posting on the speed benchmark's postings
    (measured); 97% of them are plain, the others are read line by line as before.
    """
    reader = _LineReader(text, low, pats)
    # (Eight substring tests take a tenth of the time of one character-class search, measured.)
    if low is None or not plain or any(c in low for c in _ODD_SPACES):
        end = -1
        for line in text.split("\n"):
            start = end + 1
            end = start + len(line)
            reader.read(line, start, end)
        return reader.spans
    n = len(text)
    resume = 0
    for start in _candidate_lines(low, pats):
        if start < resume:
            continue
        # Read the line, and while it leaves a section open, the lines after it.
        while True:
            end = text.find("\n", start)
            if end == -1:
                end = n
            reader.read(text[start:end], start, end)
            if not reader.in_section or end == n:
                break
            start = end + 1
        resume = end + 1
    return reader.spans


def _candidate_lines(low: str, pats: _Patterns) -> list[int]:
    """The start offsets of the lines of a plain text that may open a section, be an inline
    heading or introduce the company (see :func:`_line_spans`), in order."""
    # A match of the line scan is the line break before a line (one is put before the first line).
    starts = {m.start() for m in pats.line_scan.finditer("\n" + low)}
    # One " is "/" are " a line is enough: the search goes on from the next line (which also keeps
    # a long text without line breaks from being searched back to its start at each occurrence).
    m = _IS_ARE_RE.search(low)
    while m is not None:
        at = m.start()
        starts.add(low.rfind("\n", 0, at) + 1)
        following = low.find("\n", at)
        if following == -1:
            break
        m = _IS_ARE_RE.search(low, following)
    return sorted(starts)


class _LineReader:
    """Reads the lines of one text in order and collects their boilerplate spans.

    A line that is not read leaves the state as reading it would have, as long as it is outside a
    section and neither opens one, nor is an inline heading, nor introduces the company.
    """

    __slots__ = ("in_section", "low", "pats", "previous_end", "spans", "text")

    def __init__(self, text: str, low: str | None, pats: _Patterns) -> None:
        self.text, self.low, self.pats = text, low, pats
        self.spans: list[tuple[int, int]] = []
        self.in_section = False
        self.previous_end = 0

    def read(self, line: str, start: int, end: int) -> None:
        """Read ``line``, which is ``text[start:end]``."""
        if not line or line.isspace():
            return
        text, low, pats, spans = self.text, self.low, self.pats, self.spans
        gap_start, self.previous_end = self.previous_end, end
        # What the line says: without its leading spaces and a leading "- ", "* " or "+ " list
        # marker, which postings put before headings and company introductions too.
        stripped = line.lstrip()
        if stripped.startswith(_LIST_MARKERS):
            stripped = stripped[2:].lstrip()
        low_said = stripped.lower() if low is None else low[end - len(stripped) : end]
        if (
            len(stripped) <= _MAX_HEADING_CHARS
            and not stripped.rstrip().endswith(_SENTENCE_FINAL)
            and len(stripped.split()) <= MAX_HEADING_WORDS
        ):
            # On an ASCII line, the case-sensitive pattern on its lower-cased form (about half the
            # time of the case-insensitive one, measured).
            if low is not None and stripped.isascii():
                heading = pats.heading_lower.match(low_said)
            else:
                heading = pats.heading.match(stripped)
            if heading:
                self.in_section = heading.lastgroup == "section"
                if self.in_section:
                    spans.append((start, end))
                return
        if self.in_section:
            # A section ends at a line that starts the job description, or at a new paragraph
            # that speaks to the candidate ("you", "your").
            new_paragraph = text.count("\n", gap_start, start) >= 2
            if low is not None and line.isascii():
                subject, section_end, role = low[start:end], pats.section_end_lower, pats.role_lower
            else:
                subject, section_end, role = line, pats.section_end, pats.role
            if not (section_end.search(subject) or (new_paragraph and role.search(subject))):
                spans.append((start, end))
                return
            self.in_section = False
        head = stripped[:_INLINE_HEADING_CHARS]
        if (
            (":" in head or "-" in head or "–" in head or "—" in head)
            and pats.inline_heading.match(stripped)
            and not pats.keep_section.match(stripped.split(":")[0] + ":")
        ):
            spans.append((start, end))
            return
        # The cheap pre-check reads single spaces, as the patterns are written (see _spaced).
        probe = " ".join(low_said.split()) if ("  " in low_said or "\t" in low_said) else low_said
        if (
            (" is " in probe or " are " in probe or probe.startswith(_INTRO_STARTS))
            and (
                pats.intro_lower.match(low_said)
                if low is not None and stripped.isascii()
                else pats.intro.match(stripped)
            )
            and not (
                pats.role_lower.search(line.lower() if low is None else low[start:end])
                if line.isascii()
                else pats.role.search(line)
            )
        ):
            spans.append((start, end))


def _sentence_spans(text: str, low: str | None, present: frozenset[str], pats: _Patterns) -> list[tuple[int, int]]:
    """The sentences that hold one of the ``present`` anchor words and match one of its patterns.

    ``low`` is ``text.lower()`` when it has the same length as ``text``, else None.
    """
    # A sentence pattern is tried only on the sentences that hold one of its anchor words (found
    # with str.find), never across the whole text: scanning a posting with each pattern cost ten
    # times more (measured). An ASCII sentence is searched case-sensitively in its lower-cased form
    # (see _for_lower_ascii): a sixth less time for the sentence patterns (measured).
    spans: list[tuple[int, int]] = []
    where = text if low is None else low
    for anchor in present:
        rules, rules_lower = pats.anchor_rules[anchor], pats.anchor_rules_lower[anchor]
        pos = where.find(anchor)
        while pos != -1:
            start, end = _sentence_around(text, pos, pos + len(anchor))
            if low is not None and text[start:end].isascii():
                spans += [(start, end) for rx in rules_lower if rx.search(low, start, end)]
            else:
                spans += [(start, end) for rx in rules if rx.search(text, start, end)]
            pos = where.find(anchor, end)
    return spans


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (ended by . ! ? or a line break) that holds ``text[start:end]``."""
    # Punctuation is looked for after the last line break only: searching back to the start of the
    # text for a "?" that is not there took over a quarter of the sentence-pattern time (measured).
    newline = text.rfind("\n", 0, start)
    first = newline + 1
    begin = max(newline, text.rfind(".", first, start), text.rfind("!", first, start), text.rfind("?", first, start))
    m = _SENTENCE_END_RE.search(text, end)
    if m is None:
        return begin + 1, len(text)
    return begin + 1, (m.start() if m.group() == "\n" else m.end())


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
