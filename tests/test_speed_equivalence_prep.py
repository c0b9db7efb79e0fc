"""The fast paths of text clean-up, boilerplate and language detection agree with plain references."""

from __future__ import annotations

import json
import re
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mktsales.boilerplate import _sentence_around, boilerplate_spans
from mktsales.document import tokenize
from mktsales.language import _stopwords, detect_language
from mktsales.text import normalize, only_ascii_words

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
        assert slow.search(line) is fast.search(line.lower())


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


# -- lines read through the candidate scans --------------------------------------------------------

SCAN_LINES = [
    *LINES,
    "- About us",
    "* Benefits",
    "+  we're a small firm",
    "Our story is a long one",
    "Acme  Foods   is   a leading brand",
    "We sell to the people who are a big deal",
    "There is a lot to do",
    "Join the family business",
    "Founded in 1998 by two friends",
    "for more than 20 years we have sold",
    "Company overview - we make things",
    "Benefits: pension, gym",
    "About the role: sell",
    "you will be responsible for sales",
    "Free lunches",
    "We are looking for a closer",
    "- Hybrid working",
    "is",
    " are ",
]


def _line_spans_both_ways(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    from mktsales.boilerplate import _line_spans, _patterns

    low: str | None = text.lower()
    if len(low) != len(text):  # "İ": no lower-cased slices, every line is read
        low = None
    pats = _patterns()
    every_line = _line_spans(text, low, pats, False)
    return _line_spans(text, low, pats, low is not None and only_ascii_words(low)), every_line


@SETTINGS
@given(st.lists(st.sampled_from(SCAN_LINES), max_size=25), st.sampled_from(["\n", "\n\n"]))
def test_candidate_lines_give_the_spans_of_reading_every_line(lines: list[str], sep: str) -> None:
    """Reading only the lines the scans pick (and the sections they open) gives the spans that
    reading every line gives."""
    scanned, every_line = _line_spans_both_ways(sep.join(lines))
    assert scanned == every_line


def test_candidate_lines_give_the_spans_of_reading_every_line_on_the_corpus(repo: Path) -> None:
    """The same on every corpus text, cleaned as prepare() cleans it."""
    compared = 0
    for split in ("train", "dev", "test"):
        with (repo / "data" / "corpus" / f"{split}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                text = normalize(json.loads(line)["text"]).text
                if len(text.lower()) != len(text):
                    continue
                scanned, every_line = _line_spans_both_ways(text)
                assert scanned == every_line, text[:200]
                compared += 1
    assert compared > 10_000


def test_the_scans_skip_most_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the scans: on a posting, lines that cannot matter are not read."""
    from mktsales import boilerplate

    text = "\n".join(
        ["Sales Executive", "About us", "Acme is a leading maker of tools.", "Responsibilities"]
        + [f"- Call {i} prospects a day and book meetings" for i in range(40)]
    )
    read: list[int] = []
    original = boilerplate._LineReader.read

    def counting(self: object, line: str, start: int, end: int) -> None:
        read.append(start)
        original(self, line, start, end)  # type: ignore[arg-type]

    monkeypatch.setattr(boilerplate._LineReader, "read", counting)
    scanned, every_line = _line_spans_both_ways(text)
    assert scanned == every_line
    assert scanned[0] == (text.index("About us"), text.index("About us") + len("About us"))
    # Both ways read all 44 lines once; the scans alone read 3 (heading, the section's line, and
    # the heading that ends it).
    assert len(read) - 44 == 3


def test_top_level_alternatives_split_outside_groups_and_classes() -> None:
    from mktsales.boilerplate import _top_level_alternatives

    assert _top_level_alternatives(r"a|b(c|d)|[|x]e|\|f|[]|]g|[^]|]h") == [
        "a",
        "b(c|d)",
        "[|x]e",
        r"\|f",
        "[]|]g",
        "[^]|]h",
    ]
    assert _top_level_alternatives("plain") == ["plain"]


@SETTINGS
@given(st.lists(st.sampled_from(CUE_WORDS + EEO_WORDS + INTRO_WORDS), max_size=40), st.data())
def test_any_of_finds_what_the_whole_alternation_finds(words: list[str], data: st.DataObject) -> None:
    """Searching the alternatives one by one (a leading word boundary checked apart) says "found"
    exactly when the whole alternation does, for the cue and sentence patterns as _patterns() builds
    them, anywhere in a range of the text, ignoring case or on the lower-cased ASCII text."""
    from mktsales.boilerplate import (
        _alt,
        _AnyOf,
        _for_lower_ascii,
        _ignoring_case,
        _patterns,
        _spaced,
        _top_level_alternatives,
    )

    raw = json.loads(files("mktsales").joinpath("data/boilerplate.json").read_text("utf-8"))
    text = data.draw(st.sampled_from([" ", "  ", ""])).join(words)
    pos = data.draw(st.integers(0, len(text)))
    endpos = data.draw(st.integers(pos, len(text)))
    pats = _patterns()
    cases = [
        (_alt(raw["role_cues"]), pats.role, pats.role_lower),
        (_alt(raw["section_end_cues"]), pats.section_end, pats.section_end_lower),
    ]
    for rule in raw["sentences"]:
        pattern = _spaced(rule["pattern"])
        pieces = _top_level_alternatives(pattern)
        cases.append((pattern, _AnyOf(pieces, _ignoring_case), _AnyOf(pieces, _for_lower_ascii)))
    for pattern, slow, fast in cases:
        expected = re.compile(pattern, re.IGNORECASE).search(text, pos, endpos) is not None
        assert slow.search(text, pos, endpos) is expected, pattern
        if text.isascii():
            assert fast.search(text.lower(), pos, endpos) is expected, pattern


def test_only_ascii_words_changes_with_lower_casing_only_for_the_kelvin_sign() -> None:
    """Of the code points that lower-case to one character, only the Kelvin sign gets another
    answer from only_ascii_words than its lower-case form: it becomes an ASCII "k", which ignoring
    case pairs with it too. So the tokenizer and the boilerplate search may ask the lower-cased
    text."""
    differ = []
    for code in range(0x80, sys.maxunicode + 1):
        c = chr(code)
        low = c.lower()
        if len(low) == 1 and only_ascii_words(c) != only_ascii_words(low):
            differ.append(code)
    assert differ == [0x212A]
    assert re.fullmatch("k", "\u212a", re.IGNORECASE)


@SETTINGS
@given(
    st.text(
        alphabet=st.sampled_from(["a", "Z", "1", " ", "\n", "-", "’", "–", "•", "é", "\u00a0", "ß", "٣", "_", "€"]),
        max_size=60,
    )
)
def test_only_ascii_words_reads_every_character(text: str) -> None:
    """only_ascii_words agrees with a check of every character in turn."""
    expected = all(c.isascii() or not (c.isalnum() or c.isspace() or c == "_") for c in text)
    assert only_ascii_words(text) is expected
