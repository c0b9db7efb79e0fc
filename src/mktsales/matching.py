"""Match rules against prepared documents.

- Phrase rules are expanded at build time into their inflections and spellings
  (:mod:`mktsales.morphology`) and stored in a trie of words; matching walks the trie from each
  rule word of a document. This finds exactly what spaCy's ``PhraseMatcher(attr="LOWER")`` finds on
  the same tokens (a test compares the two on the whole corpus), without building a spaCy ``Doc``
  for every posting, which cost more than the matching itself (measured: the matcher went from
  about 170 to 90 microseconds per posting).
- Token-pattern rules go to spaCy's ``Matcher(validate=True)`` on ``spacy.blank("en")``'s
  vocabulary (no downloaded model), ``LEMMA`` values expanded the same way into ``LOWER IN`` lists.
  Each rule's Matcher runs only on the short windows where it can match; the window becomes a
  ``Doc`` directly from the tokens of :func:`mktsales.document.prepare` (spaCy's own tokenizer is
  about ten times slower on postings), with every word no rule uses replaced by one placeholder,
  so the vocabulary (and memory) stays bounded however many postings are matched.

A document without any rule word skips matching altogether. Overlapping matches are resolved like
``spacy.util.filter_spans``: the longest wins, then the earliest.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from mktsales.document import tokenize
from mktsales.exceptions import RuleFileError
from mktsales.morphology import phrase_forms, word_forms

if TYPE_CHECKING:
    from mktsales.rules import Rule, RuleSet

__all__ = ["Match", "RuleMatcher"]

#: Stands for every word no rule uses. Tokens never contain "_" (see mktsales.document).
PLACEHOLDER = "_"
#: Key of a trie node's list of rules whose phrase ends there (never a token).
_END = ""
_AND = {"&": "and", "+": "and"}


class Match(NamedTuple):
    """One rule match, in token positions of the document (a named tuple: cheap to create)."""

    rule: int
    start: int
    end: int


def _repeats(op: object) -> tuple[int, int]:
    """(minimum, maximum) repetitions of a token pattern operator; maximum -1 means unbounded."""
    if op is None or op == "!":
        return (1, 1) if op is None else (0, 0)
    if op == "?":
        return 0, 1
    if op in ("*", "+"):
        return (0 if op == "*" else 1), -1
    if isinstance(op, str) and op.startswith("{") and op.endswith("}"):
        lo, _, hi = op[1:-1].partition(",")
        if not _:
            return int(lo), int(lo)
        return int(lo or 0), (int(hi) if hi else -1)
    return 1, 1


@dataclass(frozen=True, slots=True)
class _TokenRule:
    """What the matcher needs to know about one token-pattern rule."""

    matcher: Any
    before: int  # tokens that may precede the first required token
    reach: int  # most tokens the pattern can span
    required: tuple[frozenset[str], ...]  # word sets of the required tokens, in order


def _words_of(tok: dict[str, Any]) -> frozenset[str] | None:
    """The words a compiled token matches, or None when it is not restricted to a word list."""
    value = tok.get("LOWER")
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, dict) and "IN" in value:
        return frozenset(value["IN"])
    return None


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
        from spacy.matcher import Matcher
        from spacy.tokens import Doc

        self._Doc = Doc
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.nlp = spacy.blank("en")
        vocab = self.nlp.vocab
        # Phrase variants in a trie of words; a node's _END entry lists the rules ending there.
        self._trie: dict[str, Any] = {}
        self._key_to_rule: dict[int, int] = {}
        words: set[str] = set()
        # Token patterns: one validated Matcher per rule, run only on the windows where the rule can
        # match. spaCy's Matcher evaluates set predicates (IN, NOT_IN) in Python for every token and
        # pattern, about 10 microseconds a token with the shipped rules (measured), so running it over
        # whole postings cost several milliseconds; a window passes to the Matcher only when every
        # required token of the pattern has one of its words in it (a necessary condition).
        self._token_rules: dict[int, _TokenRule] = {}
        self._anchor_index: dict[str, list[int]] = {}
        self._unanchored: list[int] = []
        for index, rule in enumerate(self.rules):
            key = vocab.strings.add(f"mktsales-rule:{rule.id}")
            self._key_to_rule[key] = index
            if isinstance(rule.pattern, str):
                variants = phrase_forms(_pattern_words(rule.pattern), inflect=rule.inflect)
                for v in variants:
                    words.update(v)
                    node = self._trie
                    for w in v:
                        node = node.setdefault(w, {})
                    ends = node.setdefault(_END, [])
                    if index not in ends:
                        ends.append(index)
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
                    own = Matcher(vocab, validate=True)
                    own.add(f"mktsales-rule:{rule.id}", [compiled])
                except (ValueError, KeyError) as exc:
                    src, _, line = rule.source.rpartition(":")
                    raise RuleFileError(
                        f"rule {rule.id!r}: spaCy rejected the token pattern: {exc}",
                        source=src or rule.source,
                        line=int(line) if line.isdigit() else None,
                    ) from None
                self._index_token_rule(index, compiled, own)
        self.vocabulary: frozenset[str] = frozenset(words)
        self._word_map = {w: w for w in words}
        for symbol, word in _AND.items():
            if word in self.vocabulary:
                self._word_map[symbol] = word
        self._hit_words = frozenset(self._word_map)

    def _index_token_rule(self, index: int, pattern: list[dict[str, Any]], matcher: Any) -> None:
        """Record a token pattern's reach, required word sets and anchor words."""
        before = 0
        reach = 0
        required: list[frozenset[str]] = []
        unbounded = False
        for tok in pattern:
            lo, hi = _repeats(tok.get("OP"))
            if hi < 0:
                unbounded = True
            reach += max(hi, 0)
            words = _words_of(tok)
            if lo >= 1 and words is not None:
                required.append(words)
            elif not required:
                before += max(hi, 0)
        info = _TokenRule(matcher, before, reach, tuple(required))
        self._token_rules[index] = info
        if unbounded or not required:
            self._unanchored.append(index)
            return
        for w in required[0]:
            self._anchor_index.setdefault(w, []).append(index)

    @staticmethod
    def _window(tokens: list[str], mapped: list[str | None], lo: int, hi: int) -> list[str]:
        """The words spaCy sees for ``tokens[lo:hi]``: rule words (``mapped``) as they are, other
        words as the placeholder, punctuation kept."""
        return [w or (PLACEHOLDER if t[0].isalnum() else t) for w, t in zip(mapped[lo:hi], tokens[lo:hi], strict=True)]

    def _token_matches(
        self, tokens: list[str], positions: list[int], mapped: list[str | None], anchors: list[int]
    ) -> list[tuple[int, int, int]]:
        """Token-pattern matches, each rule's Matcher run only on its candidate windows.

        ``positions`` are the indices of the tokens that are rule words, ``mapped`` their rule
        words and ``anchors`` the positions of the words that can start a token rule's required
        part; a window passes to the Matcher only when every required token of the pattern has
        one of its words in it (a necessary condition).
        """
        out: set[tuple[int, int, int]] = set()
        n = len(tokens)
        if self._unanchored:
            doc = self._Doc(self.nlp.vocab, words=self._window(tokens, mapped, 0, n))
            for index in self._unanchored:
                out.update(self._token_rules[index].matcher(doc))
        anchor_index, token_rules = self._anchor_index, self._token_rules
        # The rule words of the whole document: a rule with a required word set none of them is in
        # cannot match anywhere in it (about half the anchors of a posting, measured). Which rules
        # of an anchor word pass is decided once per word, not at each of its occurrences ("a" and
        # "sales" occur several times in most postings).
        present: set[str | None] | None = None
        candidates: dict[str | None, list[_TokenRule]] = {}
        for i in anchors:
            word = mapped[i]
            infos = candidates.get(word)
            if infos is None:
                infos = []
                for index in anchor_index[word]:  # type: ignore[index]
                    info = token_rules[index]
                    if len(info.required) > 1:
                        if present is None:
                            present = set(mapped)
                        if any(req.isdisjoint(present) for req in info.required[1:]):
                            continue
                    infos.append(info)
                candidates[word] = infos
            k = -1
            for info in infos:
                lo = i - info.before
                if lo < 0:
                    lo = 0
                hi = i + info.reach
                if hi > n:
                    hi = n
                if len(info.required) > 1:
                    if k < 0:
                        k = bisect_left(positions, i) + 1
                    # The rule words after the anchor inside the window.
                    after = [mapped[j] for j in positions[k : bisect_left(positions, hi, k)]]
                    if any(req.isdisjoint(after) for req in info.required[1:]):
                        continue
                for key, start, end in info.matcher(
                    self._Doc(self.nlp.vocab, words=self._window(tokens, mapped, lo, hi))
                ):
                    out.add((key, start + lo, end + lo))
        return sorted(out, key=lambda m: (m[1], m[2]))

    def _scan(self, mapped: list[str | None], positions: list[int]) -> tuple[list[tuple[int, int, int]], list[int]]:
        """Every phrase-variant match ``(rule, start, end)``, overlapping ones included, found by
        walking the trie from each rule word (``mapped`` holds the rule word of every token, or
        None), and the positions of the token rules' anchor words, collected in the same pass."""
        out: list[tuple[int, int, int]] = []
        anchors: list[int] = []
        n = len(mapped)
        root = self._trie
        anchor_words = self._anchor_index
        for i in positions:
            w = mapped[i]
            if w in anchor_words:
                anchors.append(i)
            node = root.get(w)  # type: ignore[arg-type]
            j = i
            while node is not None:
                j += 1
                ends = node.get(_END)
                if ends is not None:
                    out += [(rule, i, j) for rule in ends]
                if j == n:
                    break
                w = mapped[j]
                node = node.get(w) if w is not None else None
        return out, anchors

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
        if self._hit_words.isdisjoint(tokens):
            return []
        mapped = list(map(self._word_map.get, tokens))
        positions = list(itertools.compress(range(len(tokens)), mapped))
        raw, anchors = self._scan(mapped, positions)
        if anchors or self._unanchored:
            key_to_rule = self._key_to_rule
            token_matches = self._token_matches(tokens, positions, mapped, anchors)
            raw += [(key_to_rule[key], start, end) for key, start, end in token_matches]
        if not raw:
            return []
        if len(raw) == 1:
            return [Match(*raw[0])]
        taken = bytearray(len(tokens))
        kept: list[Match] = []
        for rule, start, end in sorted(raw, key=lambda m: (m[1] - m[2], m[1], m[0])):
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            kept.append(Match(rule, start, end))
        kept.sort(key=lambda m: (m.start, m.end))
        return kept

    def __reduce__(self) -> tuple[Any, ...]:
        from mktsales.rules import RuleSet

        return (RuleMatcher, (RuleSet(self.rules, name="pickled"),))
