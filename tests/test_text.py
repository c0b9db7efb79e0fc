"""Normalisation of posting text and the map back to the original."""

from __future__ import annotations

import re

import pytest

from mktsales.text import MAX_RAW_CHARS, MAX_TEXT_CHARS, normalize


def _words_map_back(raw: str) -> list[tuple[str, str]]:
    clean = normalize(raw)
    out = []
    for m in re.finditer(r"[^\W_]+", clean.text):
        s, e = clean.to_original(*m.span())
        out.append((m.group(), raw[s:e]))
    return out


@pytest.mark.parametrize(
    ("raw", "expected_words"),
    [
        ("<p>Close <b>deals</b> &amp; grow</p>", "Close deals grow"),
        ("You\u00e2\u20ac\u2122ll own the pipeline", "You ll own the pipeline"),
        ("caf\u00c3\u00a9 sales", "café sales"),
        ("\u2022 Prospect \u25aa Close", "Prospect Close"),
        ("Sa\u200bles\u00ad team", "Sales team"),
        ("hit weekly targetsBuild relationships", "hit weekly targets Build relationships"),
        ("<script>var x = 'marketing';</script>Sales role", "Sales role"),
        ("<!-- marketing -->Sales", "Sales"),
        ("\ufb01eld sales", "field sales"),
    ],
)
def test_normalize_cleans_postings(raw: str, expected_words: str) -> None:
    """Tags, entities, mojibake, bullets, invisible characters and run-together items are cleaned."""
    assert " ".join(re.findall(r"[^\W_]+", normalize(raw).text)) == expected_words


def test_every_clean_word_maps_back_to_its_source() -> None:
    """Each word of the cleaned text maps to the span of the original it came from."""
    raw = "<ul><li>Close&nbsp;deals</li><li>Youâ€™ll sell</li></ul>targetsBuild"
    for word, source in _words_map_back(raw):
        assert word.lower() in source.lower().replace("\u00e2\u20ac\u2122", "'") or source.startswith(word)


def test_entity_maps_to_whole_entity() -> None:
    """A character produced by an entity maps back to the whole entity."""
    raw = "sales &amp; marketing"
    clean = normalize(raw)
    i = clean.text.index("&")
    assert clean.to_original(i, i + 1) == (6, 11)
    assert raw[6:11] == "&amp;"


def test_plain_text_is_unchanged_and_maps_identically() -> None:
    """Clean text passes through untouched, with the identity map."""
    raw = "Own the quarterly pipeline and close enterprise deals"
    clean = normalize(raw)
    assert clean.text == raw
    assert clean.to_original(4, 7) == (4, 7)
    assert not clean.truncated


def test_huge_input_is_capped_and_flagged() -> None:
    """Input beyond the caps is cut and reported as truncated."""
    raw = "sell " * (MAX_RAW_CHARS // 2)
    clean = normalize(raw)
    assert clean.truncated
    assert len(clean.text) <= MAX_TEXT_CHARS
    assert clean.original_length == len(raw)


def test_not_mojibake_is_left_alone() -> None:
    """Accented text that is not mojibake is not 'fixed'."""
    assert normalize("São Paulo, été").text == "São Paulo, été"
