"""Preparing a text: tokens, title handling, mapping back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mktsales.document import _SPLIT_FAST_RE, _SPLIT_RE, _lower, _split, prepare, tokenize
from mktsales.exceptions import InputTypeError


def test_tokenize_splits_hyphens_and_keeps_punctuation_and_breaks() -> None:
    """Hyphens separate words; punctuation and line breaks are tokens."""
    assert tokenize("Cold-calling, B2B!\nSEO") == ["cold", "calling", ",", "b2b", "!", "\n", "seo"]


def test_title_tokens_come_first_and_map_to_title_field() -> None:
    """A separate title is scored before the body and maps back to the title string."""
    doc = prepare("We close deals.", title="Sales Manager")
    assert doc.tokens[:3] == ["sales", "manager", "\n"]
    assert doc.title_tokens == 3
    field, s, e = doc.to_original(0, 5)
    assert (field, s, e) == ("title", 0, 5)
    body_start = doc.title_length + 3
    field, s, e = doc.to_original(body_start, body_start + 5)
    assert (field, s, e) == ("text", 3, 8)


def test_boilerplate_is_not_tokenised() -> None:
    """Words of an EEO sentence do not reach the tokens."""
    doc = prepare("Close deals. We are an equal opportunity employer.")
    assert "opportunity" not in doc.tokens
    assert "deals" in doc.tokens


@pytest.mark.parametrize("bad", [None, 3, 4.5, b"bytes", ["a list"], {"a": 1}])
def test_non_string_is_a_type_error_naming_the_type(bad: object) -> None:
    """Wrong types raise TypeError naming what was received."""
    with pytest.raises(TypeError, match=type(bad).__name__):
        prepare(bad)  # type: ignore[arg-type]


def test_type_error_is_mktsales_error() -> None:
    """The TypeError is also a mktsales error."""
    with pytest.raises(InputTypeError):
        prepare(None)  # type: ignore[arg-type]


_ASCII = "".join(map(chr, range(128)))
# Characters outside ASCII that postings hold: typographic punctuation and symbols (the fast split
# applies), and letters, digits and spaces (it does not).
_NON_ASCII = "’‘“”–—…•€£®™°×→\u00e9\u00c9İß\u00b2\u0663\u4e2d\u00a0\u2028\u3000\u1680\u0301"


@pytest.mark.parametrize("context", ["{}", "ab{}cd", "ab {} cd", "12{}\n{}x", "{}{}", "a’{}–b"])
def test_fast_split_agrees_with_the_general_split_on_every_ascii_character(context: str) -> None:
    """The fast split treats each of the 128 ASCII characters as the general one does, also
    next to the typographic characters it skips."""
    for ch in _ASCII:
        low = _lower(context.format(ch, ch))
        assert _SPLIT_FAST_RE.split(low) == _SPLIT_RE.split(low), repr(ch)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(_ASCII + _NON_ASCII), max_size=200)
    | st.text(alphabet=st.characters(max_codepoint=127), max_size=200)
)
def test_split_agrees_with_the_general_split(text: str) -> None:
    """Whichever split a text takes, it gives the tokens and offsets of the general one."""
    low = _lower(text)
    tokens, offsets = _split(text)
    assert tokens == _SPLIT_RE.split(low)[1::2]
    assert [low[offsets[2 * i] : offsets[2 * i + 1]] for i in range(len(tokens))] == tokens


def test_the_fast_split_is_taken_only_where_it_agrees() -> None:
    """A letter outside ASCII in a word ("café") or a space outside ASCII keeps the word whole or
    separates it as the general split does."""
    assert _split("Café sales – B2B’s “best” team")[0] == ["café", "sales", "b2b", "s", "“", "best", "”", "team"]
    assert _split("sales\u00a0lead")[0] == ["sales", "lead"]
    assert _split("x² growth")[0] == ["x²", "growth"]


def test_token_spans_align_with_tokens() -> None:
    """Every token span slices back to its token."""
    doc = prepare("İstanbul sales & marketing — brand")
    spans = doc.spans
    assert len(spans) == len(doc.tokens)
    for tok, (s, e) in zip(doc.tokens, spans, strict=True):
        assert doc.text[s:e].casefold() == tok.casefold()


def test_tokens_outside_boilerplate_equal_the_tokens_of_the_blanked_text(repo: Path) -> None:
    """Dropping the tokens under blanked boilerplate (by bisection over the offsets) gives exactly
    the tokens of the blanked text, and every offset slices back to its token, on every corpus
    posting (with and without a separate title)."""
    with (repo / "data" / "corpus" / "train.jsonl").open(encoding="utf-8") as fh:
        postings = [r["text"] for r in map(json.loads, fh) if r["kind"] == "posting"]
    blanked = 0
    for text in postings:
        doc = prepare(text)
        assert doc.tokens == tokenize(doc.text)
        blanked += doc.text.count("  ") > text.count("  ")
        titled = prepare(text, title="Account Executive")
        for tok, (s, e) in zip(titled.tokens, titled.spans, strict=True):
            assert titled.text[s:e].casefold() == tok.casefold()
    assert blanked > 50  # boilerplate was really removed in many of them
