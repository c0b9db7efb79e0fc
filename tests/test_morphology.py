"""Inflections and spellings used to expand rule patterns."""

from __future__ import annotations

from mktsales.morphology import phrase_forms, word_forms


def test_verb_forms() -> None:
    """Regular verbs get -s, -ed, -ing, with e-drop and consonant doubling."""
    assert {"close", "closes", "closed", "closing"} <= word_forms("close")
    assert {"plan", "planned", "planning", "plans"} <= word_forms("plan")
    assert {"identify", "identifies", "identified", "identifying"} <= word_forms("identify")


def test_irregular_forms() -> None:
    """Irregular verbs come from the data file."""
    assert {"sold", "selling", "sells"} <= word_forms("sell")
    assert "won" in word_forms("win")


def test_british_and_american_spellings() -> None:
    """-ise/-ize, -our/-or and listed pairs are both matched."""
    assert {"optimise", "optimize", "optimising", "optimizing"} <= word_forms("optimise")
    assert "behavior" in word_forms("behaviour")
    assert "program" in word_forms("programme")
    assert "analyzing" in word_forms("analyse")


def test_acronyms_only_pluralise() -> None:
    """Acronyms are not conjugated."""
    assert word_forms("SEO") == frozenset({"seo", "seos"})


def test_function_words_are_not_inflected_in_phrases() -> None:
    """'of' stays 'of' while the content words vary."""
    variants = phrase_forms(["head", "of", "sales"])
    assert all(v[1] == "of" for v in variants)
    assert ("heads", "of", "sales") in variants


def test_phrase_without_inflection_keeps_spellings_only() -> None:
    """inflect=False keeps the words but still allows the other spelling."""
    assert phrase_forms(["internal", "communications"], inflect=False) == [("internal", "communications")]
