"""Features shared by training and prediction: rule evidence and TF-IDF word n-grams.

Both are computed from one :class:`~mktsales.document.Document`, so a text is tokenised once.

Rule evidence
    Each rule that matches contributes ``weight * (1 + log(count))`` to its (dimension, pole) cell;
    matches in a separate title count :data:`TITLE_WEIGHT` times. The model sees ``log1p`` of the
    ten cells, of the two pole totals, their balance, and ``log1p(count)`` of every rule it was
    trained with. Rules added later still inform it through the cells and totals.

TF-IDF
    Word n-grams of the lower-cased word tokens, sublinear term frequency, smoothed idf, l2 norm:
    the same definition as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``, computed here with
    a dictionary lookup per n-gram so that one text costs microseconds rather than the
    vectoriser's per-call overhead (a test checks both agree).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np

from mktsales.dimensions import Dimension, Pole

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mktsales.document import Document
    from mktsales.matching import Match
    from mktsales.rules import Rule

__all__ = [
    "N_AGGREGATE_FEATURES",
    "RULE_EVIDENCE_SCALE",
    "SHORT_TEXT_WORDS",
    "TITLE_WEIGHT",
    "FunctionNgrams",
    "RuleEvidence",
    "aggregate_vector",
    "check_function_ngrams",
    "drops_function_ngrams",
    "function_forms",
    "match_weight",
    "ngrams",
    "rule_evidence",
    "rules_only_scores",
]

#: Matches in the head (a separate title, or the first line) count this many times: a title names
#: the job in a few words, where a body line is one duty among many. A judgement, not a fitted value.
TITLE_WEIGHT = 2.0
#: Scale of rules-only confidence: total evidence E gives P(not other) = 1 - exp(-E / scale).
#: One ordinary cue (weight 1) gives 0.63, two give 0.86.
RULE_EVIDENCE_SCALE = 1.0

#: A text of at most this many words (after boilerplate) is short: a title or a single task. The
#: corpus's tasks have at most 38 words and its postings at least 74 (``drop_function_ngrams="short"``).
SHORT_TEXT_WORDS = 50
#: Which texts lose their function-word n-grams: none (False), all (True), or the short ones.
FunctionNgrams: TypeAlias = bool | Literal["short"]

_DIMS = tuple(Dimension)
_POLES = (Pole.MARKETING, Pole.SALES)
_CELL = {(d, p): i * 2 + j for i, d in enumerate(_DIMS) for j, p in enumerate(_POLES)}
#: Ten (dimension, pole) cells, two pole totals and the marketing-sales balance.
N_AGGREGATE_FEATURES = 13


@dataclass(frozen=True, slots=True)
class RuleEvidence:
    """The rule matches of one document and what they add up to.

    Attributes
    ----------
    matches : list of Match
        Non-overlapping matches in text order.
    counts : dict of int to int
        Matches per rule index.
    contributions : dict of int to float
        Evidence each matched rule adds, ``weight * (1 + log(count))`` (title matches weighted).
    cells : numpy.ndarray
        Shape (5, 2): evidence per dimension (rows, in :class:`Dimension` order) and pole
        (columns: marketing, sales).
    """

    matches: list[Match]
    counts: dict[int, int]
    contributions: dict[int, float]
    cells: np.ndarray = field(repr=False)

    @property
    def marketing(self) -> float:
        """Total marketing evidence."""
        return float(self.cells[:, 0].sum())

    @property
    def sales(self) -> float:
        """Total sales evidence."""
        return float(self.cells[:, 1].sum())


def match_weight(doc: Document, match: Match, rule: Rule) -> float:
    """A match's weight: the rule's weight, times :data:`TITLE_WEIGHT` when it lies in the head."""
    return rule.weight * (TITLE_WEIGHT if match.start < doc.head_tokens else 1.0)


def rule_evidence(doc: Document, matches: list[Match], rules: Sequence[Rule]) -> RuleEvidence:
    """Add up the matches of one document.

    Parameters
    ----------
    doc : Document
        The prepared text the matches came from.
    matches : list of Match
        From :meth:`mktsales.matching.RuleMatcher.match`.
    rules : sequence of Rule
        The matcher's rules, indexed by ``Match.rule``.

    Returns
    -------
    RuleEvidence
    """
    cells = np.zeros((len(_DIMS), 2))
    if not matches:
        return RuleEvidence(matches, {}, {}, cells)
    counts: dict[int, int] = {}
    best: dict[int, float] = {}
    for m in matches:
        w = match_weight(doc, m, rules[m.rule])
        counts[m.rule] = counts.get(m.rule, 0) + 1
        if w > best.get(m.rule, 0.0):
            best[m.rule] = w
    contributions: dict[int, float] = {}
    for r, c in counts.items():
        value = best[r] * (1.0 + math.log(c))
        contributions[r] = value
        rule = rules[r]
        cells.flat[_CELL[(rule.dimension, rule.pole)]] += value
    return RuleEvidence(matches, counts, contributions, cells)


def aggregate_vector(ev: RuleEvidence) -> np.ndarray:
    """Return the 13 rule-set-independent features of one document's evidence."""
    cells = ev.cells.ravel().tolist()
    m, s = sum(cells[0::2]), sum(cells[1::2])
    return np.array([*map(math.log1p, cells), math.log1p(m), math.log1p(s), (m - s) / (m + s + 1.0)])


def rules_only_scores(ev: RuleEvidence) -> tuple[float, float, float]:
    """Rules-only probabilities ``(marketing, sales, other)``.

    The evidence E = marketing + sales sets how sure the rules are that the text is marketing or
    sales at all, ``1 - exp(-E / RULE_EVIDENCE_SCALE)``; that mass is split between the poles in
    proportion to their evidence. No evidence gives ``(0, 0, 1)``.
    """
    m, s = ev.marketing, ev.sales
    total = m + s
    if total <= 0.0:
        return 0.0, 0.0, 1.0
    sure = 1.0 - math.exp(-total / RULE_EVIDENCE_SCALE)
    return sure * m / total, sure * s / total, 1.0 - sure


def ngrams(words: list[str], ngram_range: tuple[int, int] = (1, 2), skip: frozenset[str] = frozenset()) -> list[str]:
    """Return the word n-grams of a token list, joined by spaces.

    Examples
    --------
    >>> ngrams(["close", "enterprise", "deals"])
    ['close', 'enterprise', 'deals', 'close enterprise', 'enterprise deals']

    ``skip`` leaves out the n-grams made only of its words:

    >>> ngrams(["sell", "to", "the", "trade"], skip=frozenset({"to", "the"}))
    ['sell', 'trade', 'sell to', 'the trade']
    """
    lo, hi = ngram_range
    out = [w for w in words if w not in skip] if lo <= 1 else []
    if lo <= 2 <= hi:
        out.extend([a + " " + b for a, b in itertools.pairwise(words) if a not in skip or b not in skip])
    for n in range(max(3, lo), hi + 1):
        out.extend(
            " ".join(words[i : i + n]) for i in range(len(words) - n + 1) if not skip.issuperset(words[i : i + n])
        )
    return out


@cache
def function_forms(stemmed: bool) -> frozenset[str]:
    """The English function words of ``data/function_words.json``, stemmed when ``stemmed``.

    A word n-gram made only of these forms says how a text is written ("such as", "of the"), not
    what job it describes; a model trained with ``drop_function_ngrams=True`` has no such features.
    The forms are compared after stemming, so a content word that stems to a function word's form
    is treated like it (at training and at prediction alike).

    Parameters
    ----------
    stemmed : bool
        Whether to return the words' stems (for a model trained on stemmed words).

    Returns
    -------
    frozenset of str
    """
    raw = json.loads(files("mktsales").joinpath("data/function_words.json").read_text("utf-8"))
    words = frozenset(raw["en"])
    return frozenset(stem(w) for w in words) if stemmed else words


def drops_function_ngrams(mode: FunctionNgrams, n_words: int) -> bool:
    """Whether a text of ``n_words`` words loses its function-word n-grams under ``mode``.

    Parameters
    ----------
    mode : bool or "short"
        A model's ``drop_function_ngrams`` setting: True for every text, ``"short"`` for texts of
        at most :data:`SHORT_TEXT_WORDS` words (titles and single tasks, where the corpus writers'
        phrasing says most; a posting keeps them), False for none.
    n_words : int
        The text's word count (a Document's ``words()``, the head included).

    Returns
    -------
    bool

    Examples
    --------
    >>> [drops_function_ngrams("short", n) for n in (12, 50, 51)]
    [True, True, False]
    """
    return mode is True or (mode == "short" and n_words <= SHORT_TEXT_WORDS)


def check_function_ngrams(mode: object) -> FunctionNgrams:
    """Return ``mode`` as a valid ``drop_function_ngrams`` setting, or raise ValueError."""
    if isinstance(mode, (bool, np.bool_)):
        return bool(mode)
    if mode == "short":
        return "short"
    raise ValueError(f"drop_function_ngrams must be True, False or 'short', not {mode!r}")


_KEEP_S = ("ss", "us", "is", "ous", "ics")
#: Names of functions and trades that look like inflected verbs but must stay whole words.
_NOT_STEMMED = frozenset(
    "marketing advertising branding pricing housing training accounting engineering nursing banking building "
    "clothing catering manufacturing consulting recruiting purchasing merchandising publishing printing "
    "plumbing roofing shipping staffing lending landscaping".split()
)


def stem(word: str) -> str:
    """Strip the common English inflections of a word, so that "sells", "selling" and "sell" share
    one feature (a deliberately light stemmer: suffixes -s, -es, -ies, -ed, -ing only).

    Examples
    --------
    >>> [stem(w) for w in ("sells", "selling", "sold", "companies", "planned", "business", "sales")]
    ['sell', 'sell', 'sold', 'company', 'plan', 'business', 'sale']
    """
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    out = _stem(word)
    if len(_STEMS) < _MAX_STEMS:
        _STEMS[word] = out
    return out


#: Cache of stems (a plain dict, read inline in text_terms: a function call per word costs more
#: than the stemming it saves). Bounded, so that an endless stream of new words cannot grow it.
_STEMS: dict[str, str] = {}
_MAX_STEMS = 200_000


def _stem(word: str) -> str:
    w = word
    if len(w) <= 3 or not w.isalpha() or w in _NOT_STEMMED:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    elif w.endswith("es") and w[-3] in "sxz" and len(w) > 4:
        return w[:-2]
    elif w.endswith("s") and not w.endswith(_KEEP_S):
        return w[:-1]
    else:
        return w
    if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # planned -> plan, running -> run
    return w


def text_terms(
    words: list[str],
    ngram_range: tuple[int, int] = (1, 2),
    *,
    stemmed: bool = False,
    head: list[str] | None = None,
    drop_function: FunctionNgrams = False,
) -> list[str]:
    """All TF-IDF terms of a text: word n-grams (optionally stemmed), and the head's words again
    as unigrams and bigrams tagged ``^`` (so a word in the title is a feature of its own).

    With ``drop_function``, the n-grams made only of function words (:func:`function_forms`) are
    left out: from every text (True), or ("short") only when ``words`` has at most
    :data:`SHORT_TEXT_WORDS` words (see :func:`drops_function_ngrams`).

    Examples
    --------
    >>> text_terms(["sales", "manager", "selling"], stemmed=True, head=["sales", "manager"])
    ['sale', 'manager', 'sell', 'sale manager', 'manager sell', '^sale', '^manager', '^sale manager']
    >>> text_terms(["such", "as", "cold", "calls"], stemmed=True, drop_function=True)
    ['cold', 'call', 'as cold', 'cold call']
    """
    skip = function_forms(stemmed) if drops_function_ngrams(drop_function, len(words)) else frozenset()
    base = [_STEMS.get(w) or stem(w) for w in words] if stemmed else words
    terms = ngrams(base, ngram_range, skip)
    if head:
        top = [_STEMS.get(w) or stem(w) for w in head] if stemmed else head
        terms.extend("^" + t for t in ngrams(top, (1, 2), skip))
    return terms


def tfidf_row(terms: list[str], vocabulary: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TF-IDF of one document as ``(indices, values)``: sublinear tf, idf, l2 norm."""
    counts: dict[int, int] = {}
    get = vocabulary.get
    for t, n in Counter(terms).items():
        j = get(t)
        if j is not None:
            counts[j] = n
    if not counts:
        return np.empty(0, dtype=np.int64), np.empty(0)
    idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    vals = (np.log(tf) + 1.0) * idf[idx]
    norm = math.sqrt(float(vals @ vals))
    if norm > 0.0:
        vals /= norm
    return idx, vals
