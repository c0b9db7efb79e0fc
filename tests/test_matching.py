"""Matching rules: inflections, spellings, overlaps, bounded vocabulary, agreement with spaCy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mktsales.document import prepare
from mktsales.matching import PLACEHOLDER, _pattern_words
from mktsales.morphology import phrase_forms
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


def _corpus_token_lists(repo: Path) -> list[list[str]]:
    out = []
    for split in ("train", "dev", "test"):
        with (repo / "data" / "corpus" / f"{split}.jsonl").open(encoding="utf-8") as fh:
            out += [prepare(json.loads(line)["text"]).tokens for line in fh if line.strip()]
    return out


def test_phrase_trie_finds_what_spacy_phrasematcher_finds(repo: Path) -> None:
    """The phrase trie returns the same matches, overlapping ones included, as spaCy's
    PhraseMatcher(attr="LOWER") given the same phrase variants, on every corpus text."""
    import spacy
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

    matcher = matcher_for(load_rules())
    nlp = spacy.blank("en")
    reference = PhraseMatcher(nlp.vocab, attr="LOWER")
    key_to_rule = {}
    for index, rule in enumerate(matcher.rules):
        if isinstance(rule.pattern, str):
            variants = phrase_forms(_pattern_words(rule.pattern), inflect=rule.inflect)
            key_to_rule[nlp.vocab.strings.add(rule.id)] = index
            reference.add(rule.id, [Doc(nlp.vocab, words=list(v)) for v in variants])
    n_matches = 0
    for tokens in _corpus_token_lists(repo):
        mapped = [matcher._word_map.get(t) for t in tokens]
        positions = [i for i, w in enumerate(mapped) if w is not None]
        ours = sorted(matcher._scan(mapped, positions)[0])
        doc = Doc(nlp.vocab, words=[w or PLACEHOLDER for w in mapped]) if tokens else None
        theirs = sorted((key_to_rule[k], s, e) for k, s, e in reference(doc)) if doc is not None else []
        assert ours == theirs
        n_matches += len(ours)
    assert n_matches > 10_000  # the comparison covered real matches


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We're looking for a hunter to open new accounts", ["sal.nature.hunter"]),
        ("Business Hunter (SaaS)", ["sal.nature.hunter"]),
        ("Hunter Sales Executive", ["sal.nature.hunter-mindset"]),
        ("You bring a hunter mentality", ["sal.nature.hunter"]),
        ("Bounty Hunter", []),
        ("Lion Hunter", []),
        ("Head Hunter for executive search", []),
    ],
)
def test_hunter_means_sales_only_in_sales_jargon(text: str, expected: list[str]) -> None:
    """'Hunter' is sales jargon for a new-business seller; a hunter of animals or bounties is not."""
    assert [i for i in _ids(text) if "hunter" in i] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Retail Assistants needed for the Christmas season", ["sal.nature.retail-assistant"]),
        ("Retail Clerk (part-time)", ["sal.nature.retail-clerk"]),
        ("Retail Worker", ["sal.nature.retail-worker"]),
        ("Join our retail colleagues on the shop floor", ["sal.nature.retail-colleague"]),
        ("Retail Team Member", ["sal.nature.retail-team-member"]),
        ("Salesclerks", ["sal.objective.salesclerk"]),
        ("Salesworker", ["sal.objective.salesworker"]),
        ("Salesgirl", ["sal.objective.salesgirl"]),
        ("Saleslady", ["sal.objective.saleslady"]),
        ("Cold Callers wanted", ["sal.nature.cold-caller"]),
        ("B2B Appointment Setter", ["sal.nature.appointment-setter"]),
        ("Appointment Scheduler (outpatient clinic)", []),
        ("Retail Pharmacy Assistant", []),
    ],
)
def test_shop_floor_and_telesales_job_nouns(text: str, expected: list[str]) -> None:
    """The job nouns of shop-floor selling and telesales match as their verbs and phrases do:
    "retail associate" had a rule and "retail assistant" (the usual UK title) had none, "cold call"
    had one and "cold caller" none, "salesperson" one and "salesclerk" none."""
    assert _ids(text) == expected


def test_token_rule_windows_find_what_whole_document_matching_finds(repo: Path) -> None:
    """Token-pattern rules run only on candidate windows, after a document-level check of their
    required words; on every corpus text they give the same matches as each rule's Matcher run
    over the whole document."""
    matcher = matcher_for(load_rules())
    token_rules = matcher._token_rules
    n_matches = 0
    for tokens in _corpus_token_lists(repo):
        mapped = [matcher._word_map.get(t) for t in tokens]
        positions = [i for i, w in enumerate(mapped) if w is not None]
        anchors = matcher._scan(mapped, positions)[1]
        ours = sorted(matcher._token_matches(tokens, positions, mapped, anchors))
        doc = matcher._Doc(matcher.nlp.vocab, words=matcher._window(tokens, mapped, 0, len(tokens)))
        theirs = sorted(m for info in token_rules.values() for m in info.matcher(doc)) if tokens else []
        assert ours == theirs
        n_matches += len(ours)
    assert n_matches > 500
