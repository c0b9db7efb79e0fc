"""The fast paths of text clean-up, boilerplate and language detection agree with plain references."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mktsales.boilerplate import _sentence_around, boilerplate_spans
from mktsales.document import tokenize
from mktsales.language import _stopwords, detect_language
from mktsales.text import normalize

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Printable ASCII without "<" and "&": nothing in it is cleaned, except run-together words.
PLAIN = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "<&") + "\n"


def _split_camel(text: str) -> list[tuple[str, int | None]]:
    """Reference: a line break before each upper-case letter of "abcDef" (3 lower before, 2 after).

    Returns each output character with the index of the input character it is (None: inserted).
    """
    out: list[tuple[str, int | None]] = []
    for i, ch in enumerate(text):
        around = text[max(i - 3, 0) : i] + text[i + 1 : i + 3]
        if "A" <= ch <= "Z" and i >= 3 and len(around) == 5 and all("a" <= c <= "z" for c in around):
            out.append(("\n", None))
        out.append((ch, i))
    return out


@SETTINGS
@given(st.text(alphabet=PLAIN, max_size=400))
def test_plain_ascii_is_only_split_at_run_together_words(text: str) -> None:
    """Plain ASCII comes back unchanged but for the line breaks of run-together words."""
    clean = normalize(text)
    assert clean.text == "".join(ch for ch, _ in _split_camel(text))
    if clean.text == text:
        assert clean._norm_starts == ()


@SETTINGS
@given(st.text(alphabet="abcdXYZ \n", max_size=200))
def test_run_together_words_map_back(text: str) -> None:
    """Every kept character maps back to itself; an inserted line break maps to the empty range."""
    clean = normalize(text)
    reference = _split_camel(text)
    assert clean.text == "".join(ch for ch, _ in reference)
    for j, (_, origin) in enumerate(reference):
        if origin is None:
            following = reference[j + 1][1]
            assert following is not None
            assert clean.to_original(j, j + 1) == (following, following)
        else:
            assert clean.to_original(j, j + 1) == (origin, origin + 1)


def _naive_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """Reference: walk back to the previous . ! ? or line break, and on to the next one."""
    begin = start
    while begin > 0 and text[begin - 1] not in ".!?\n":
        begin -= 1
    stop = end
    while stop < len(text) and text[stop] not in ".!?\n":
        stop += 1
    if stop < len(text) and text[stop] != "\n":
        while stop < len(text) and text[stop] in ".!?":
            stop += 1
    return begin, stop


@SETTINGS
@given(st.text(alphabet="ab .!?\n", min_size=1, max_size=120), st.data())
def test_sentence_around_matches_a_walk(text: str, data: st.DataObject) -> None:
    """The sentence found with bounded searches is the one a character-by-character walk finds."""
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert _sentence_around(text, start, end) == _naive_sentence(text, start, end)


LINES = [
    "About us",
    "  About us  ",
    "\tBenefits:",
    "ABOUT US:  we sell",
    "About the role",
    "about you",
    "Responsibilities",
    "   Hybrid   ",
    "Acme is a leading brand.",
    "We are a team of makers",
    "  we're a small firm",
    "İstanbul is a leading brand",
    "ΣΟΦΙΑ ΣΑΣ is a company",
    "You will sell.",
    "We are an equal opportunity employer.",
    "",
    " ",
]


@SETTINGS
@given(st.lists(st.sampled_from(LINES), max_size=20))
def test_word_set_does_not_change_spans(lines: list[str]) -> None:
    """Passing the text's own words (as a set or as the token list) and its lower-cased form gives
    the spans that finding them again gives."""
    text = "\n".join(lines)
    expected = boilerplate_spans(text)
    assert boilerplate_spans(text, set(tokenize(text))) == expected
    assert boilerplate_spans(text, tokenize(text), lower=text.lower()) == expected


def test_indented_heading_opens_a_section() -> None:
    """Leading spaces before a heading do not change what it opens."""
    for indent in ("", " ", "  \t", "\u00a0"):
        text = f"{indent}About us\nWe make things\nResponsibilities\nSell"
        line_end = len(indent) + len("About us")
        assert boilerplate_spans(text) == [(0, line_end), (line_end + 1, line_end + 15)]


WORDS = ["the", "and", "sales", "team", "der", "und", "die", "le", "la", "et", "est", "customers", "we", "are"]


@SETTINGS
@given(st.lists(st.sampled_from(WORDS), min_size=12, max_size=60))
def test_non_ascii_latin_word_does_not_change_language(words: list[str]) -> None:
    """An added Latin word with an accent (the counting path) leaves the function-word vote alone."""
    assert "zürich" not in _stopwords()
    assert detect_language([*words, "zürich"]) == detect_language(words)


CUE_WORDS = [
    "You",
    "YOUR",
    "you'll",
    "This Role",
    "the POSITION",
    "Looking For",
    "seeking",
    "Hiring",
    "responsibilities",
    "Join Us As",
    "we're hiring",
    "Reporting To",
    "recruiting",
    "is looking",
    "to join our sales team",
    "the",
    "sales",
    "brand",
    "-",
    ",",
    "'",
    "Ltd.",
    "JOIN",
    "team",
]


@SETTINGS
@given(st.lists(st.sampled_from(CUE_WORDS), max_size=25), st.data())
def test_lower_case_cue_patterns_agree_on_ascii_lines(words: list[str], data: st.DataObject) -> None:
    """On an ASCII line, the case-sensitive cue patterns on the lower-cased line find exactly what
    the case-insensitive ones find on the line."""
    from mktsales.boilerplate import _patterns

    line = data.draw(st.sampled_from([" ", "  ", ""])).join(words)
    pats = _patterns()
    for slow, fast in ((pats.role, pats.role_lower), (pats.section_end, pats.section_end_lower)):
        a, b = slow.search(line), fast.search(line.lower())
        assert (a.span() if a else None) == (b.span() if b else None)


INTRO_WORDS = [
    "Acme",
    "Acme Foods",
    "is",
    "are",
    "a",
    "An",
    "THE",
    "one of",
    "Europe's",
    "the UK's",
    "leading",
    "We",
    "we're",
    "Founded",
    "in",
    "BY",
    "Since",
    "for more than",
    "1998",
    "Our",
    "story",
    "At",
    "Acme.com",
    ",",
    "Join",
    "family",
    "on a mission",
    "This",
    "It",
    "role",
]


@SETTINGS
@given(st.lists(st.sampled_from(INTRO_WORDS), min_size=1, max_size=12), st.data())
def test_company_introduction_on_lower_cased_ascii_agrees(words: list[str], data: st.DataObject) -> None:
    """On an ASCII line, the case-sensitive company-introduction pattern on the lower-cased line
    matches exactly where the case-insensitive one matches the line."""
    from mktsales.boilerplate import _patterns

    line = data.draw(st.sampled_from([" ", "  ", "\t"])).join(words) + data.draw(st.sampled_from(["", " ", " x"]))
    pats = _patterns()
    a, b = pats.intro.match(line), pats.intro_lower.match(line.lower())
    assert (a.span() if a else None) == (b.span() if b else None)


EEO_WORDS = [
    "We",
    "are",
    "an",
    "EQUAL",
    "Opportunity",
    "employer",
    "without",
    "Regard",
    "to",
    "race",
    "Colour",
    "sexual",
    "orientation",
    "Veteran",
    "status",
    "reasonable",
    "Accommodations",
    "Diversity",
    "inclusion",
    "é",
    "–",
    ".",
    "\n",
]


@SETTINGS
@given(st.lists(st.sampled_from(EEO_WORDS), max_size=40))
def test_sentence_patterns_on_lower_cased_ascii_agree(words: list[str]) -> None:
    """The sentence patterns find the same sentences when an ASCII sentence is searched in its
    lower-cased form (the fast path) as when every sentence is searched ignoring case."""
    from mktsales.boilerplate import _patterns, _sentence_around, _sentence_spans

    text = " ".join(words)
    low = text.lower()
    pats = _patterns()
    present = pats.anchors.intersection(tokenize(text))
    expected = []
    for anchor in present:
        pos = low.find(anchor)
        while pos != -1:
            start, end = _sentence_around(text, pos, pos + len(anchor))
            expected += [(start, end) for rx in pats.anchor_rules[anchor] if rx.search(text, start, end)]
            pos = low.find(anchor, end)
    assert _sentence_spans(text, low, present, pats) == expected


def _plain_vote(words: list[str]) -> str:
    """Reference: the function-word vote over every word, without the early exit."""
    from mktsales.language import MIN_OTHER_HITS, OTHER_LANGUAGE_RATIO

    table = _stopwords()
    hits: dict[str, int] = {}
    for w in words:
        if w in table:
            hits[table[w]] = hits.get(table[w], 0) + 1
    english = hits.pop("en", 0)
    if not hits:
        return "en"
    lang, count = max(hits.items(), key=lambda kv: (kv[1], kv[0]))
    return lang if count >= MIN_OTHER_HITS and count > OTHER_LANGUAGE_RATIO * english else "en"


def _function_words() -> dict[str, list[str]]:
    by_language: dict[str, list[str]] = {}
    for word, lang in sorted(_stopwords().items()):
        by_language.setdefault(lang, []).append(word)
    return by_language


@SETTINGS
@given(st.data())
def test_language_vote_early_exit_agrees_with_the_full_vote(data: st.DataObject) -> None:
    """Stopping when the other languages' function words are too few gives the full vote's answer,
    on texts that mix English, one other language (near the vote's thresholds) and a second one."""
    by_language = _function_words()
    others = sorted(lang for lang in by_language if lang != "en")
    first, second = data.draw(st.sampled_from(others)), data.draw(st.sampled_from(others))
    pool = by_language["en"][:3] + by_language[first][:3] + by_language[second][:1] + ["sales", "team", "brand"]
    words = data.draw(st.lists(st.sampled_from(pool), min_size=12, max_size=30))
    assert detect_language(words) == _plain_vote(words)
