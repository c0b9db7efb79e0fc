"""Word forms for rule patterns: inflections and British/American spellings.

Rules are written with base forms ("close deal"). At load time every pattern word is expanded to the
forms a posting may use ("closes", "closed", "closing", "deals"), so matching stays an exact,
fast lookup on the lower-cased text and nobody writes a list of every form by hand. The expansion
over-generates on purpose: a form that no English text uses ("salesing") costs a dictionary entry
and can never match anything wrong.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

__all__ = ["FUNCTION_WORDS", "phrase_forms", "word_forms"]

#: Words that are never inflected when they appear inside a phrase.
FUNCTION_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "into",
        "per",
        "via",
        "&",
        "-",
        "/",
        "our",
        "your",
        "their",
        "its",
        "his",
        "her",
        "my",
        "we",
        "you",
        "they",
        "it",
        "this",
        "that",
        "these",
        "those",
        "new",
        "all",
    ]
)

_VOWELS = frozenset("aeiou")
#: Cap on the number of variants one phrase may expand to; past it only the last word is inflected.
#: 256 keeps the largest phrases of the shipped rules fully expanded (measured: max 144).
MAX_PHRASE_VARIANTS = 256


@cache
def _irregular() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    raw = json.loads(files("mktsales").joinpath("data/irregular_forms.json").read_text("utf-8"))
    forms = {k: tuple(v) for k, v in raw["forms"].items()}
    spellings: dict[str, str] = {}
    for uk, us in raw["spellings"].items():
        spellings[uk] = us
        spellings[us] = uk
    return forms, spellings


def _spelling_variants(word: str) -> set[str]:
    """British and American spellings of one word form."""
    out = {word}
    _, spellings = _irregular()
    if word in spellings:
        out.add(spellings[word])
    for uk, us in (
        ("isation", "ization"),
        ("isations", "izations"),
        ("ise", "ize"),
        ("ises", "izes"),
        ("ised", "ized"),
        ("ising", "izing"),
        ("iser", "izer"),
        ("isers", "izers"),
        ("yse", "yze"),
        ("ysed", "yzed"),
        ("yses", "yzes"),
        ("ysing", "yzing"),
    ):
        if len(word) > len(uk) + 2:
            if word.endswith(uk):
                out.add(word[: -len(uk)] + us)
            elif word.endswith(us):
                out.add(word[: -len(us)] + uk)
    if len(word) >= 6 and word.endswith("our"):
        out.add(word[:-3] + "or")
    if len(word) >= 6 and word.endswith("ours"):
        out.add(word[:-4] + "ors")
    if len(word) >= 5 and word.endswith("tre"):
        out.add(word[:-3] + "ter")
    if len(word) >= 6 and word.endswith("tres"):
        out.add(word[:-4] + "ters")
    return out


def _is_cvc(word: str) -> bool:
    """True when a word ends consonant-vowel-consonant, so its final consonant may double."""
    if len(word) < 3:
        return False
    a, b, c = word[-3], word[-2], word[-1]
    return a not in _VOWELS and b in _VOWELS and c not in _VOWELS and c not in "wxy"


@cache
def word_forms(word: str) -> frozenset[str]:
    """Return the lower-cased forms a pattern word can take in text.

    Parameters
    ----------
    word : str
        A base form as written in a rule ("close", "deal", "SEO").

    Returns
    -------
    frozenset of str
        The base form, its regular and irregular inflections (plural, third person, past,
        past participle, present participle) and their British/American spellings.

    Examples
    --------
    >>> sorted(word_forms("close"))
    ['close', 'closed', 'closes', 'closing']
    >>> "analyzing" in word_forms("analyse")
    True
    """
    if word.isupper() and len(word) > 1:
        low = word.lower()
        return frozenset({low, low + "s"})
    w = word.lower()
    if len(w) <= 2 or not w.isalpha() or w in FUNCTION_WORDS:
        return frozenset({w})
    forms = {w}
    if w.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(w + "es")
    elif w.endswith("y") and w[-2] not in _VOWELS:
        forms.update({w[:-1] + "ies", w[:-1] + "ied"})
    else:
        forms.add(w + "s")
    if w.endswith("e"):
        forms.add(w + "d")
        if w.endswith("ie"):
            forms.add(w[:-2] + "ying")
        elif w.endswith(("ee", "ye", "oe")):
            forms.add(w + "ing")
        else:
            forms.add(w[:-1] + "ing")
    else:
        forms.update({w + "ed", w + "ing"})
        if _is_cvc(w):
            forms.update({w + w[-1] + "ed", w + w[-1] + "ing"})
        if w.endswith("c"):
            forms.update({w + "ked", w + "king"})
    irregular, _ = _irregular()
    forms.update(irregular.get(w, ()))
    out: set[str] = set()
    for form in forms:
        out |= _spelling_variants(form)
    return frozenset(out)


def phrase_forms(words: list[str], *, inflect: bool = True) -> list[tuple[str, ...]]:
    """Return every variant of a multi-word pattern, each as a tuple of lower-cased words.

    Parameters
    ----------
    words : list of str
        The words of the phrase, as tokenised.
    inflect : bool, default=True
        When False only the lower-cased phrase itself (and its British/American spellings) is
        returned.

    Returns
    -------
    list of tuple of str
        Variants in a stable (sorted) order.
    """
    if not inflect:
        options = [sorted(_spelling_variants(w.lower())) for w in words]
    else:
        options = [sorted(word_forms(w)) for w in words]
        total = 1
        for opt in options:
            total *= len(opt)
        if total > MAX_PHRASE_VARIANTS:
            options = [sorted(_spelling_variants(w.lower())) for w in words[:-1]]
            options.append(sorted(word_forms(words[-1])))
    variants: list[tuple[str, ...]] = [()]
    for opt in options:
        variants = [(*v, o) for v in variants for o in opt]
    return sorted(set(variants))
