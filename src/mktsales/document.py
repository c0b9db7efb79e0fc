"""A text made ready for scoring: cleaned, boilerplate blanked, tokenised once.

:func:`prepare` is the one place where input text is turned into what rules and model see, so
``classify``, ``label`` and ``evaluate`` all treat postings the same way. The tokens are produced
once and shared by the rule matcher and the TF-IDF features.

Tokens are runs of letters and digits, single punctuation marks, and line breaks (which stop a
phrase from matching across two list items). Hyphens and apostrophes separate words without being
tokens, so "cold-calling" and "cold calling" give the same words. ``&`` reads as ``and``.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from mktsales.boilerplate import blank_spans, spans_of
from mktsales.exceptions import InputTypeError
from mktsales.language import detect_language
from mktsales.text import CleanText, normalize, only_ascii_words

__all__ = ["HEAD_WORDS", "Document", "prepare", "tokenize"]

_TOKEN_RE = re.compile(r"[^\W_]+|\n|[^\w\s'’\-–—]")
_TITLE_SEPARATOR = "\n"
_SENTENCE_END = frozenset(".!?;,")
#: The head (title or first line) is cut after this many words: titles are rarely longer, and a
#: first line longer than this is a sentence of the body, not a title.
HEAD_WORDS = 12


def _head_length(tokens: list[str]) -> tuple[int, bool]:
    """Tokens up to the first line break (skipping leading ones), at most HEAD_WORDS words, and
    whether that head looks like a title (it ended at a line break, not at the word cap, and not
    on a full stop)."""
    words = 0
    for i, t in enumerate(tokens):
        if t == "\n":
            if words:
                return i, tokens[i - 1] not in _SENTENCE_END
            continue
        if t[0].isalnum():
            words += 1
            if words == HEAD_WORDS:
                return i + 1, False
    return len(tokens), False


def _lower(text: str, low: str | None = None) -> str:
    """``text`` lower-cased one character per character; ``low`` is ``text.lower()`` when the
    caller has it."""
    if low is None:
        low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two ("İ"); keep one character per character.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


_SPLIT_RE = re.compile(f"({_TOKEN_RE.pattern})")
# The same split for lower-cased text in which no character outside ASCII is a letter, a digit or
# a space (nearly all postings: typographic quotes, dashes and symbols are not): a word is then a
# run of [a-z0-9], the apostrophe, hyphens and dashes the general pattern skips are skipped, and
# every other character that is not a space (the line break aside) is a token of its own.
# Character ranges are checked much faster than the Unicode categories of the general pattern: 63
# against 91 us on 2,000-character postings (measured), for a 4 us check when the text is not
# ASCII. Tests check that both splits agree.
_SPLIT_FAST_RE = re.compile(r"([a-z0-9]+|[^a-z0-9_ \t\r\x0b\x0c\x1c-\x1f'\-\u2019\u2013\u2014])")


def _split(text: str) -> tuple[list[str], list[int]]:
    """Lower-cased tokens of ``text`` and their character offsets.

    ``re.split`` with a capturing group returns gaps and tokens in turn, and the running sum of
    their lengths gives every offset without a Python-level loop (about half the time of reading
    ``span()`` from each match, measured on postings): token ``i`` covers
    ``offsets[2 * i]:offsets[2 * i + 1]``.
    """
    return _split_lower(_lower(text))


def _split_lower(low: str, fast: bool | None = None) -> tuple[list[str], list[int]]:
    """:func:`_split` of a text already lower-cased by :func:`_lower`; ``fast`` is
    ``only_ascii_words(low)`` when the caller has it."""
    if fast is None:
        fast = only_ascii_words(low)
    parts = (_SPLIT_FAST_RE if fast else _SPLIT_RE).split(low)
    return parts[1::2], list(itertools.accumulate(map(len, parts)))


def _outside(tokens: list[str], offsets: list[int], blanked: list[tuple[int, int]]) -> tuple[list[str], list[int]]:
    """The tokens (and their offsets) that do not overlap the sorted ``blanked`` ranges.

    Each range removes the run of tokens that ends after its start and starts before its end,
    found by bisection, and the kept runs are joined by slicing: no loop over the tokens.
    """
    starts, ends = offsets[0::2], offsets[1::2]
    keep_tokens: list[str] = []
    keep_offsets: list[int] = []
    i = 0
    for start, end in blanked:
        first = max(bisect_right(ends, start), i)
        last = bisect_left(starts, end)
        if last <= first:
            continue
        keep_tokens += tokens[i:first]
        keep_offsets += offsets[2 * i : 2 * first]
        i = last
    keep_tokens += tokens[i:]
    keep_offsets += offsets[2 * i :]
    return keep_tokens, keep_offsets


def tokenize(text: str) -> list[str]:
    """Split text into lower-cased tokens, as rules and model see it.

    Parameters
    ----------
    text : str
        Cleaned text.

    Returns
    -------
    list of str
        Words, punctuation marks and ``"\\n"`` line-break tokens.

    Examples
    --------
    >>> tokenize("Cold-calling & B2B deals!")
    ['cold', 'calling', '&', 'b2b', 'deals', '!']
    """
    return _TOKEN_RE.findall(_lower(text))


@dataclass(frozen=True, slots=True)
class Document:
    """A prepared text.

    Attributes
    ----------
    text : str
        What is scored: the cleaned title (if any), a line break, and the cleaned body, with
        boilerplate blanked.
    tokens : list of str
        Lower-cased tokens of ``text``.
    title_length : int
        Characters of ``text`` that belong to the title, separator included (0 without a title).
    title_tokens : int
        Tokens of ``tokens`` that belong to the title, separator included (0 without a title).
    head_tokens : int
        Tokens of the *head*: the separate title when there is one, otherwise the first line of the
        text (a posting's title line, or a title or task itself), at most :data:`HEAD_WORDS` words.
        Rule matches in the head weigh more, and the model has features for the head's words.
    head_is_title : bool
        True for a separate title, or a first line that reads as a title (it ends at a line break
        within :data:`HEAD_WORDS` words, not on sentence punctuation).
    word_tokens : list of str
        The word tokens (no punctuation, no line breaks), computed once.
    head_word_count : int
        How many of ``word_tokens`` belong to the head.
    body_offsets : list of int
        Character offsets of the body's tokens in the body part of ``text``: body token ``i``
        covers ``body_offsets[2 * i]:body_offsets[2 * i + 1]`` (see :meth:`char_span`).
    title_offsets : list of int
        The same for the title's tokens in the title part of ``text`` (empty without a title).
    body : CleanText
        The cleaned body and its map back to the original body text.
    title : CleanText or None
        The same for the title.
    language : str
        ``"en"`` or the code of the language detected (see :mod:`mktsales.language`).
    """

    text: str
    tokens: list[str]
    title_length: int
    title_tokens: int
    head_tokens: int
    head_is_title: bool
    word_tokens: list[str]
    head_word_count: int
    body_offsets: list[int]
    title_offsets: list[int]
    body: CleanText
    title: CleanText | None
    language: str

    @property
    def truncated(self) -> bool:
        """True when the input was longer than the caps of :mod:`mktsales.text`."""
        return self.body.truncated or (self.title is not None and self.title.truncated)

    def words(self) -> list[str]:
        """Return the word tokens (no punctuation or line breaks); do not modify the list."""
        return self.word_tokens

    def head_words(self) -> list[str]:
        """Return the word tokens of the head (see :attr:`head_tokens`)."""
        return self.word_tokens[: self.head_word_count]

    def _token_start_end(self, i: int) -> tuple[int, int]:
        t = self.title_tokens
        if i >= t:
            k = 2 * (i - t)
            shift = self.title_length
            return self.body_offsets[k] + shift, self.body_offsets[k + 1] + shift
        if i == t - 1:  # the line break between title and body
            return self.title_length - len(_TITLE_SEPARATOR), self.title_length
        return self.title_offsets[2 * i], self.title_offsets[2 * i + 1]

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the character range of :attr:`text` covered by tokens ``start`` to ``end - 1``."""
        return self._token_start_end(start)[0], self._token_start_end(end - 1)[1]

    @property
    def spans(self) -> list[tuple[int, int]]:
        """The character range of :attr:`text` of every token (built on each access)."""
        return [self._token_start_end(i) for i in range(len(self.tokens))]

    def to_original(self, start: int, end: int) -> tuple[str, int, int]:
        """Map a range of :attr:`text` to ``(field, start, end)`` in the text the user passed.

        ``field`` is ``"title"`` or ``"text"``.
        """
        if self.title is not None and start < self.title_length:
            end = min(end, len(self.title.text))
            s, e = self.title.to_original(start, max(end, start + 1))
            return "title", s, e
        offset = self.title_length
        s, e = self.body.to_original(start - offset, end - offset)
        return "text", s, e


def _check_text(value: object, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        raise InputTypeError(
            f"{name} must be str, got {type(value).__name__}: decode it first "
            "(for example value.decode('utf-8', 'replace'))"
        )
    raise InputTypeError(f"{name} must be str, got {type(value).__name__}")


def prepare(text: str, title: str | None = None) -> Document:
    """Clean, blank boilerplate, tokenise and check the language of one text.

    Parameters
    ----------
    text : str
        A job title, task or posting.
    title : str, optional
        A separate title; its evidence is reported with ``field="title"``.

    Returns
    -------
    Document

    Raises
    ------
    InputTypeError
        When ``text`` (or ``title``) is not a ``str``.
    """
    body = normalize(_check_text(text, "text"))
    body_text = body.text
    # One lower-casing serves the tokens and the boilerplate search.
    low = body_text.lower()
    lowered = _lower(body_text, low)
    plain = only_ascii_words(lowered)
    tokens, offsets = _split_lower(lowered, plain)
    if tokens:
        blanked = spans_of(body_text, tokens, low, plain=plain and lowered is low)
        if blanked:
            body_text = blank_spans(body_text, blanked)
            tokens, offsets = _outside(tokens, offsets, blanked)
    title_clean: CleanText | None = None
    title_length = 0
    title_tokens = 0
    title_offsets: list[int] = []
    full_text = body_text
    if title is not None:
        title_clean = normalize(_check_text(title, "title"))
        title_text = title_clean.text.replace("\n", " ")
        title_length = len(title_text) + len(_TITLE_SEPARATOR)
        full_text = title_text + _TITLE_SEPARATOR + body_text
        title_tok, title_offsets = _split(title_text)
        head = [*title_tok, "\n"]
        title_tokens = len(head)
        tokens = head + tokens
    # Word tokens are runs of alphanumeric characters, every other token is one non-word character.
    words = list(filter(str.isalnum, tokens))
    head_tokens, head_is_title = _head_length(tokens)
    if title_tokens:
        head_tokens, head_is_title = min(title_tokens, head_tokens), True
    return Document(
        text=full_text,
        tokens=tokens,
        title_length=title_length,
        title_tokens=title_tokens,
        head_tokens=head_tokens,
        head_is_title=head_is_title,
        word_tokens=words,
        head_word_count=sum(1 for t in tokens[:head_tokens] if t[0].isalnum()),
        body_offsets=offsets,
        title_offsets=title_offsets,
        body=body,
        title=title_clean,
        language=detect_language(words),
    )
