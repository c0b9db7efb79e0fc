"""Match rules against prepared documents with spaCy.

The matcher runs on ``spacy.blank("en")``'s vocabulary, with no downloaded model:

- phrase rules go to a ``PhraseMatcher(attr="LOWER")``, each phrase expanded at build time into its
  inflections and spellings (:mod:`mktsales.morphology`);
- token-pattern rules go to a ``Matcher(validate=True)``, ``LEMMA`` values expanded the same way
  into ``LOWER IN`` lists.

Documents are not re-tokenised by spaCy: the tokens of :func:`mktsales.document.prepare` become a
``Doc`` directly (spaCy's own tokenizer is about ten times slower on postings). Words that no rule
uses are replaced by one placeholder, so the vocabulary (and memory) stays bounded however many
postings are matched, and a document without any rule word skips spaCy altogether.

Overlapping matches are resolved like ``spacy.util.filter_spans``: the longest wins, then the
earliest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mktsales.document import tokenize
from mktsales.exceptions import RuleFileError
from mktsales.morphology import phrase_forms, word_forms

if TYPE_CHECKING:
    from mktsales.rules import Rule, RuleSet

__all__ = ["Match", "RuleMatcher"]

#: Stands for every word no rule uses. Tokens never contain "_" (see mktsales.document).
PLACEHOLDER = "_"
_AND = {"&": "and", "+": "and"}


@dataclass(frozen=True, slots=True)
class Match:
    """One rule match, in token positions of the document."""

    rule: int
    start: int
    end: int


def _pattern_words(phrase: str) -> list[str]:
    return [_AND.get(t, t) for t in tokenize(phrase) if t != "\n"]


def _compile_value(key: str, value: Any) -> tuple[str, Any, set[str]]:
    """Turn one LOWER/LEMMA/TEXT/ORTH value into a LOWER value, and the words it uses."""
    expand = key == "LEMMA"

    def forms(word: str) -> set[str]:
        low = _AND.get(word.lower(), word.lower())
        return set(word_forms(low)) if expand else {low}

    if isinstance(value, str):
        words = forms(value)
        return "LOWER", (next(iter(words)) if len(words) == 1 else {"IN": sorted(words)}), words
    out: dict[str, list[str]] = {}
    used: set[str] = set()
    for op, items in value.items():
        expanded: set[str] = set()
        for item in items:
            expanded |= forms(item)
        out[op] = sorted(expanded)
        if op == "IN":
            used |= expanded
    return "LOWER", out, used


class RuleMatcher:
    """Finds rule matches in token lists.

    Parameters
    ----------
    rules : RuleSet
        The rules to match. Build once and reuse: building costs about a second for the shipped
        rules, matching a posting well under a millisecond.
    """

    def __init__(self, rules: RuleSet) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        self._Doc = Doc
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.nlp = spacy.blank("en")
        vocab = self.nlp.vocab
        self._phrase = PhraseMatcher(vocab, attr="LOWER")
        self._matcher = Matcher(vocab, validate=True)
        self._key_to_rule: dict[int, int] = {}
        words: set[str] = set()
        self._has_token_patterns = False
        for index, rule in enumerate(self.rules):
            key = vocab.strings.add(f"mktsales-rule:{rule.id}")
            self._key_to_rule[key] = index
            if isinstance(rule.pattern, str):
                variants = phrase_forms(_pattern_words(rule.pattern), inflect=rule.inflect)
                for v in variants:
                    words.update(v)
                self._phrase.add(f"mktsales-rule:{rule.id}", [Doc(vocab, words=list(v)) for v in variants])
            else:
                compiled = []
                for tok in rule.pattern:
                    ctok: dict[str, Any] = {}
                    for k, v in tok.items():
                        if k in ("LOWER", "LEMMA", "TEXT", "ORTH"):
                            nk, nv, used = _compile_value(k, v)
                            ctok[nk] = nv
                            words |= used
                        else:
                            ctok[k] = v
                    compiled.append(ctok)
                try:
                    self._matcher.add(f"mktsales-rule:{rule.id}", [compiled])
                except (ValueError, KeyError) as exc:
                    src, _, line = rule.source.rpartition(":")
                    raise RuleFileError(
                        f"rule {rule.id!r}: spaCy rejected the token pattern: {exc}",
                        source=src or rule.source,
                        line=int(line) if line.isdigit() else None,
                    ) from None
                self._has_token_patterns = True
        self.vocabulary: frozenset[str] = frozenset(words)

    def _words(self, tokens: list[str]) -> list[str] | None:
        vocab = self.vocabulary
        hit = False
        out = []
        for t in tokens:
            t = _AND.get(t, t)
            if t in vocab:
                hit = True
                out.append(t)
            elif t[0].isalnum():
                out.append(PLACEHOLDER)
            else:
                out.append(t)
        return out if hit else None

    def match(self, tokens: list[str]) -> list[Match]:
        """Return the non-overlapping rule matches in one token list, in text order.

        Parameters
        ----------
        tokens : list of str
            Tokens from :func:`mktsales.document.tokenize`.

        Returns
        -------
        list of Match
        """
        words = self._words(tokens)
        if words is None:
            return []
        doc = self._Doc(self.nlp.vocab, words=words)
        raw = self._phrase(doc)
        if self._has_token_patterns:
            raw = raw + self._matcher(doc)
        if not raw:
            return []
        key_to_rule = self._key_to_rule
        if len(raw) == 1:
            key, start, end = raw[0]
            return [Match(key_to_rule[key], start, end)]
        taken = bytearray(len(words))
        kept: list[Match] = []
        for key, start, end in sorted(raw, key=lambda m: (m[1] - m[2], m[1], key_to_rule[m[0]])):
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            kept.append(Match(key_to_rule[key], start, end))
        kept.sort(key=lambda m: (m.start, m.end))
        return kept

    def __reduce__(self) -> tuple[Any, ...]:
        from mktsales.rules import RuleSet

        return (RuleMatcher, (RuleSet(self.rules, name="pickled"),))
