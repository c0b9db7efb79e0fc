"""Normalisation of posting text, with a map back to the characters the user passed.

Real postings arrive with HTML, entities, broken encodings (mojibake), bullet characters,
zero-width and control characters, and list items run together by exports ("targetsBuild").
:func:`normalize` cleans all of that in one regular-expression pass and keeps a segment map, so
every character range of the cleaned text can be mapped back to the range of the original text it
came from (:meth:`CleanText.to_original`). Evidence offsets therefore always point into the text the
user gave, whatever cleaning happened in between.

Very long input is capped: the first :data:`MAX_RAW_CHARS` characters are cleaned and the first
:data:`MAX_TEXT_CHARS` characters of the cleaned text are scored; ``truncated`` says when that
happened.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["MAX_RAW_CHARS", "MAX_TEXT_CHARS", "CleanText", "normalize", "only_ascii_words"]

#: Characters of cleaned text that are scored. 20,000 characters is about 3,000 words, over four
#: times the longest posting in the project corpus (and 99.9% of EMSCAD descriptions are shorter);
#: a posting's title, duties and requirements come first, so the cut loses little.
MAX_TEXT_CHARS = 20_000
#: Characters of raw input that are cleaned at all: ten times the scored length, so markup-heavy
#: HTML still yields a full scored text, while a 50 MB string costs no more than a 200 kB one.
MAX_RAW_CHARS = 200_000

_BLOCK_TAGS = frozenset(
    [
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "hr",
        "dd",
        "dt",
        "dl",
        "blockquote",
        "pre",
    ]
)
_BULLETS = "•▪◦●■□►▶▸‣⁃➢➤✓✔✗❖◆◇·"
_MOJI_TAIL = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
_CLEAN_RE = re.compile(
    # Every match starts with a character of the leading class, so the regex engine finds candidates
    # with its fast first-character scan instead of trying the pattern at every position (a leading
    # look-ahead did that: the pass took three times longer on 2,000-character postings, measured).
    # Each branch then checks the character it needs with a one-character look-behind and ends with
    # an empty group that names the branch (``m.lastgroup``).
    r"[<&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\uffffA-Z](?:"
    r"(?<=<)(?i:(?P<stag>script|style)\b[^>]*>.*?</(?P=stag)\s*>)(?P<script>)"
    r"|(?<=<)!--.*?-->(?P<comment>)"
    r"|(?<=<)/?(?P<tname>[a-zA-Z][a-zA-Z0-9]*)\b[^<>]{0,2000}>(?P<tag>)"
    r"|(?<=&)(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});(?P<entity>)"
    rf"|(?<=[\u00c2-\u00f4])[{_MOJI_TAIL}]{{1,3}}(?P<moji>)"
    rf"|(?<=[{_BULLETS}])(?P<bullet>)"
    r"|(?<=[\u200b-\u200d\u2060\ufeff\u00ad])(?P<zw>)"
    r"|(?<=[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029])(?P<ctrl>)"
    r"|(?<=[\ufb00-\ufb06\uff01-\uff5e])(?P<compat>)"
    # Run-together list items ("targetsBuild"): the match is the upper-case letter, which is kept;
    # a line break goes before it.
    r"|(?<=[a-z]{3}[A-Z])(?=[a-z]{2})(?P<camel>))",
    re.DOTALL,
)
# Length-preserving clean-up applied after the pass (it cannot shift offsets). A regex is ten
# times faster than str.translate with a table here (measured on 2,000-character postings).
_SPACES_RE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\r]")


def _unmojibake(s: str) -> str | None:
    """Undo UTF-8 bytes that were decoded as cp1252/latin-1; None when they were not mojibake."""
    raw = bytearray()
    for ch in s:
        try:
            raw += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                return None
            raw.append(ord(ch))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _replacement(m: re.Match[str]) -> str:
    kind = m.lastgroup
    if kind == "tag":
        return "\n" if (m.group("tname") or "").lower() in _BLOCK_TAGS else " "
    if kind in ("script", "comment"):
        return " "
    if kind == "entity":
        out = html.unescape(m.group())
        return "\n" if out in _BULLETS else out
    if kind == "moji":
        fixed = _unmojibake(m.group())
        if fixed is None:
            return m.group()
        return "\n" if fixed in _BULLETS else fixed
    if kind == "bullet":
        return "\n"
    if kind == "zw":
        return ""
    if kind == "ctrl":
        return "\n" if m.group() in "\u2028\u2029\x0b\x0c" else " "
    if kind == "compat":
        return unicodedata.normalize("NFKC", m.group())
    return m.group()  # pragma: no cover - every group is handled above


@dataclass(frozen=True, slots=True)
class CleanText:
    """Cleaned text and the map from its characters back to the original text.

    Attributes
    ----------
    text : str
        The cleaned text.
    original_length : int
        Length of the original text.
    truncated : bool
        True when the input was longer than the caps and only its beginning was cleaned or scored.
    """

    text: str
    original_length: int
    truncated: bool
    _norm_starts: tuple[int, ...]
    _orig_starts: tuple[int, ...]
    _orig_ends: tuple[int, ...]
    _verbatim: tuple[bool, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the cleaned range ``[start, end)`` to the original range it came from.

        Parameters
        ----------
        start, end : int
            A character range of :attr:`text` (``start < end``).

        Returns
        -------
        tuple of int
            ``(original_start, original_end)``; a character produced by a replacement (an entity,
            a tag, a fixed mojibake sequence) maps to the whole span it replaced.
        """
        if not self._norm_starts:
            return start, end
        i = bisect_right(self._norm_starts, start) - 1
        o_start = self._orig_starts[i] + (start - self._norm_starts[i]) if self._verbatim[i] else self._orig_starts[i]
        j = bisect_right(self._norm_starts, max(start, end - 1)) - 1
        o_end = self._orig_starts[j] + (end - self._norm_starts[j]) if self._verbatim[j] else self._orig_ends[j]
        return o_start, max(o_end, o_start)


def normalize(raw: str) -> CleanText:
    """Clean one text and keep the map back to it.

    Parameters
    ----------
    raw : str
        The text as the user passed it.

    Returns
    -------
    CleanText
        Tags, entities, mojibake, bullets, zero-width and control characters handled; run-together
        list items split; unicode spaces made plain spaces.

    Examples
    --------
    >>> c = normalize("<p>Close deals &amp; grow accounts</p>")
    >>> c.text.strip()
    'Close deals & grow accounts'
    >>> c.to_original(c.text.index("&"), c.text.index("&") + 1)
    (15, 20)
    """
    truncated = len(raw) > MAX_RAW_CHARS
    src = raw[:MAX_RAW_CHARS] if truncated else raw
    pieces: list[str] = []
    norm_starts: list[int] = []
    orig_starts: list[int] = []
    orig_ends: list[int] = []
    verbatim: list[bool] = []
    npos = 0
    last = 0
    for m in _CLEAN_RE.finditer(src):
        start, end = m.span()
        if m.lastgroup == "camel":
            # The upper-case letter stays; the line break replaces the empty range before it.
            rep, end = "\n", start
        else:
            rep = _replacement(m)
            if rep == m.group():
                continue
        if start > last:
            norm_starts.append(npos)
            orig_starts.append(last)
            orig_ends.append(start)
            verbatim.append(True)
            pieces.append(src[last:start])
            npos += start - last
        norm_starts.append(npos)
        orig_starts.append(start)
        orig_ends.append(end)
        verbatim.append(False)
        pieces.append(rep)
        npos += len(rep)
        last = end
    if not pieces:
        text = src
    else:
        if last < len(src):
            norm_starts.append(npos)
            orig_starts.append(last)
            orig_ends.append(len(src))
            verbatim.append(True)
            pieces.append(src[last:])
        text = "".join(pieces)
    # Of the characters _SPACES_RE replaces, ASCII text can only hold the tab and the carriage
    # return: two substring tests skip the regex pass for most cleaned texts (83% of the corpus).
    if not text.isascii() or "\t" in text or "\r" in text:
        text = _SPACES_RE.sub(" ", text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        truncated = True
    return CleanText(
        text=text,
        original_length=len(raw),
        truncated=truncated,
        _norm_starts=tuple(norm_starts),
        _orig_starts=tuple(orig_starts),
        _orig_ends=tuple(orig_ends),
        _verbatim=tuple(verbatim),
    )


_ASCII_RUNS_RE = re.compile(r"[\x00-\x7f]+")
_WORDLIKE_RE = re.compile(r"[\w\s]")


def only_ascii_words(text: str) -> bool:
    """Tell whether every letter, digit and space of ``text`` is ASCII.

    Nearly every posting passes: typographic quotes, dashes and symbols are neither letters nor
    spaces. On such a text, words are runs of ``[A-Za-z0-9]`` and ignoring case only pairs ASCII
    letters, which the tokenizer and the boilerplate search use for faster paths. Lower-casing
    changes the answer for one character only (checked over every code point by a test): the
    Kelvin sign, which becomes an ASCII "k", and which ignoring case pairs with "k" anyway.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    bool

    Examples
    --------
    >>> only_ascii_words("Sell “more” – now"), only_ascii_words("Verkäufer")
    (True, False)
    """
    # The characters outside ASCII, by deleting the ASCII runs, then a look at those few: a third
    # of the time of searching the whole text for one that is a letter, a digit or a space
    # (3.7 against 10.5 us on 2,000-character postings, measured).
    return text.isascii() or _WORDLIKE_RE.search(_ASCII_RUNS_RE.sub("", text)) is None
