"""Matching rules with spaCy: inflections, spellings, overlaps, bounded vocabulary."""

from __future__ import annotations

import pytest

from mktsales.document import prepare
from mktsales.rules import RuleSet, load_rules
from mktsales.scoring import matcher_for


def _ids(text: str, rules: RuleSet | None = None) -> list[str]:
    matcher = matcher_for(rules or load_rules())
    return [matcher.rules[m.rule].id for m in matcher.match(prepare(text).tokens)]


@pytest.mark.parametrize("text", ["closes deals", "closed the deal", "closing deals", "Close big enterprise deals"])
def test_inflections_hit_one_token_rule(text: str) -> None:
    """All inflections of 'close deal' hit the same rule."""
    assert _ids(text) == ["sal.objective.close-deals"]


@pytest.mark.parametrize(
    "text", ["search engine optimisation", "Search Engine Optimization", "search-engine optimizations"]
)
def test_phrase_rules_match_spellings_and_inflections(text: str) -> None:
    """British/American spelling and plural forms of a phrase rule match."""
    assert _ids(text) == ["mkt.nature.search-engine-optimisation"]


def test_longest_match_wins_overlaps() -> None:
    """'key account manager' is one match, not 'key account' plus 'account manager'."""
    assert _ids("Key Account Manager") == ["sal.scope.key-account-manager"]


def test_phrases_do_not_match_across_list_items() -> None:
    """A line break stops a phrase."""
    assert "mkt.objective.brand-manager" not in _ids("Brand\nManager")


def test_custom_phrase_and_token_rules() -> None:
    """User rules (phrase and token pattern) match with their own ids."""
    rules = RuleSet.from_dicts(
        [
            {"id": "u.till", "dimension": "scope", "pole": "sales", "weight": 1, "pattern": "till roll"},
            {
                "id": "u.ring",
                "dimension": "nature",
                "pole": "sales",
                "weight": 1,
                "pattern": [{"LEMMA": "ring"}, {"LOWER": "up"}],
            },
        ]
    )
    assert _ids("changed the till rolls and rang up purchases", rules) == ["u.till", "u.ring"]


def test_vocabulary_stays_bounded() -> None:
    """Matching unseen words does not grow spaCy's string store."""
    matcher = matcher_for(load_rules())
    matcher.match(prepare("warm up the sales team").tokens)
    before = len(matcher.nlp.vocab.strings)
    for i in range(2000):
        matcher.match(prepare(f"sell zqx{i} widgets to wholesaler{i}").tokens)
    assert len(matcher.nlp.vocab.strings) == before


def test_text_without_rule_words_has_no_matches() -> None:
    """No rule word, no match (and spaCy is not called)."""
    assert _ids("Registered nurse on a surgical ward") == []
