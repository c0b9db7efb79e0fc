"""Invariants of the public API, tested with hypothesis."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mktsales import classify, classify_many, load_rules
from mktsales.corpus import load_split
from mktsales.document import prepare, tokenize
from mktsales.exceptions import RuleFileError
from mktsales.features import rule_evidence
from mktsales.rules import RuleSet
from mktsales.scoring import matcher_for
from mktsales.text import normalize

REPO = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CORPUS = [r.text for r in load_split(REPO / "data" / "corpus", "test")]
# Case changes cannot keep words that exports ran together ("targetsBuild") apart; such texts are
# left out of the case property (a documented limit of the clean-up).
CASE_SAFE = [t for t in CORPUS if not re.search(r"[a-z]{3}[A-Z][a-z]{2}", t)]
RULES = load_rules()
PHRASES = {
    pole: [r.pattern for r in RULES if r.pole.value == pole and isinstance(r.pattern, str)]
    for pole in ("marketing", "sales")
}

texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=2000),
    st.sampled_from(CORPUS),
    st.builds(lambda a, b: a + b, st.sampled_from(CORPUS), st.text(max_size=200)),
)


@SETTINGS
@given(texts)
def test_classify_never_raises_and_scores_are_probabilities(text: str) -> None:
    """Any str gives a prediction whose scores lie in [0, 1] and sum to 1."""
    p = classify(text)
    assert p.label in ("marketing", "sales", "other")
    assert all(0.0 <= v <= 1.0 for v in p.scores.values())
    assert sum(p.scores.values()) == pytest.approx(1.0)
    assert p.confidence == max(p.scores.values())
    assert (p.reason is None) == (not p.uncertain)


def test_classify_never_raises_on_megabytes() -> None:
    """A few megabytes of arbitrary unicode give a defined, truncated result."""
    big = "".join(chr(c) for c in range(32, 0x3000)) * 300
    p = classify(big)
    assert p.truncated
    assert sum(p.scores.values()) == pytest.approx(1.0)


@SETTINGS
@given(texts)
def test_deterministic_across_calls_and_batch_sizes(text: str) -> None:
    """The same text gives the same prediction alone, twice, and inside batches of any size."""
    first = classify(text)
    assert classify(text) == first
    batch = ["Senior Brand Manager", text, "Realtor"]
    for size in (1, 2, 3):
        assert list(classify_many(batch, batch_size=size))[1] == first


def test_deterministic_across_processes() -> None:
    """A fresh interpreter gives byte-identical JSON for the same texts."""
    sample = CORPUS[:25]
    code = (
        "import json, sys; from mktsales import classify;"
        "print(json.dumps([classify(t).to_dict() for t in json.load(sys.stdin)], sort_keys=True))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(sample), capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [json.loads(json.dumps(classify(t).to_dict(), sort_keys=True)) for t in sample]


@SETTINGS
@given(st.sampled_from(CASE_SAFE), st.sampled_from(["upper", "lower", "title"]))
def test_case_does_not_change_the_label(text: str, how: str) -> None:
    """Upper, lower or title case gives the same label."""
    assert classify(getattr(text, how)()).label == classify(text).label


@SETTINGS
@given(st.sampled_from(CORPUS), st.integers(min_value=2, max_value=4))
def test_repeated_whitespace_does_not_change_the_label(text: str, times: int) -> None:
    """Repeating every space, tab and line break gives the same label."""
    stretched = re.sub(r"\s", lambda m: m.group() * times, text)
    assert classify(stretched).label == classify(text).label


@SETTINGS
@given(st.sampled_from(CORPUS), st.sampled_from(["• ", "- ", "* ", "▪ ", "· "]))
def test_bullets_do_not_change_the_label(text: str, bullet: str) -> None:
    """Prefixing lines with bullet characters gives the same label."""
    bulleted = "\n".join(bullet + line if line.strip() else line for line in text.split("\n"))
    assert classify(bulleted).label == classify(text).label


def _rule_scores(text: str) -> tuple[float, float]:
    matcher = matcher_for(RULES)
    doc = prepare(text)
    ev = rule_evidence(doc, matcher.match(doc.tokens), matcher.rules)
    return ev.marketing, ev.sales


@SETTINGS
@given(texts, st.sampled_from(["marketing", "sales"]), st.data())
def test_rules_are_monotone(text: str, pole: str, data: st.DataObject) -> None:
    """Adding a phrase that fires a rule of one pole never lowers the rules' score for that pole."""
    phrase = data.draw(st.sampled_from(PHRASES[pole]))
    before = _rule_scores(text)
    after = _rule_scores(text + " . " + phrase)
    index = 0 if pole == "marketing" else 1
    assert after[index] >= before[index] - 1e-9


@SETTINGS
@given(st.sampled_from(CORPUS), st.sampled_from(["marketing", "sales"]), st.data())
def test_a_rule_phrase_added_to_job_text_counts(text: str, pole: str, data: st.DataObject) -> None:
    """A rule phrase added as a line after a corpus text's first line raises that pole's score."""
    phrase = data.draw(st.sampled_from(PHRASES[pole]))
    clean = normalize(text).text.strip()  # so that the first line is the title, also in HTML postings
    first, _, rest = clean.partition("\n")
    before = _rule_scores(clean)
    after = _rule_scores(f"{first}\n{phrase}.\n{rest}")
    index = 0 if pole == "marketing" else 1
    assert after[index] > before[index]


fragments = st.sampled_from(
    ["<p>", "</p>", "<b>", "</b>", "&amp;", "&nbsp;", "\u200b", "â€™", "Ã©", "•", "\u00a0", "<br/>", "&#39;", "\t"]
)


@SETTINGS
@given(
    st.lists(st.one_of(fragments, st.sampled_from(PHRASES["sales"] + PHRASES["marketing"])), min_size=1, max_size=12)
)
def test_evidence_offsets_point_at_the_matched_words(parts: list[str]) -> None:
    """After HTML and unicode clean-up, every evidence span slices back to the words it matched."""
    text = " ".join(parts)
    p = classify(text)
    for e in p.evidence:
        assert text[e.start_char : e.end_char] == e.text
        cleaned = [t for t in tokenize(prepare(e.text).text) if t[0].isalnum()]
        matched = [t for t in tokenize(e.matched) if t[0].isalnum()]
        assert cleaned == matched


rule_objects = st.fixed_dictionaries(
    {
        "dimension": st.sampled_from(["objective", "level", "scope", "nature", "horizon"]),
        "pole": st.sampled_from(["marketing", "sales"]),
        "weight": st.floats(min_value=0.1, max_value=5.0),
        "pattern": st.lists(
            st.sampled_from(["zorble", "quint", "flange", "bork", "wibble"]), min_size=1, max_size=3
        ).map(" ".join),
    }
)


@SETTINGS
@given(st.lists(rule_objects, min_size=1, max_size=6, unique_by=lambda r: r["pattern"]))
def test_random_valid_rule_sets_load_and_match(objs: list[dict[str, object]]) -> None:
    """Any valid rule set loads, and each phrase matches itself in a text."""
    rules = RuleSet.from_dicts([{**o, "id": f"r{i}"} for i, o in enumerate(objs)])
    matcher = matcher_for(rules)
    for i, o in enumerate(objs):
        hits = {matcher.rules[m.rule].id for m in matcher.match(tokenize(f"we {o['pattern']} here"))}
        assert hits, o
        assert any(h == f"r{i}" or o["pattern"] in str(rules[h].pattern) for h in hits)


@SETTINGS
@given(
    st.integers(min_value=0, max_value=4),
    st.sampled_from(
        [
            "{bad json",
            '{"id": "x"}',
            '"just a string"',
            '{"id": "y", "dimension": "tone", "pole": "sales", "weight": 1, "pattern": "a"}',
            '{"id": "y", "dimension": "scope", "pole": "sales", "weight": 99, "pattern": "a"}',
            '{"id": "y", "dimension": "scope", "pole": "sales", "weight": 1, "pattern": []}',
        ]
    ),
)
def test_any_malformed_line_is_reported_with_file_and_line(
    tmp_path_factory: pytest.TempPathFactory, at: int, bad: str
) -> None:
    """A malformed line anywhere in a file is reported with the file name and its line number."""
    good = [
        json.dumps({"id": f"g{i}", "dimension": "scope", "pole": "sales", "weight": 1, "pattern": f"word{i}"})
        for i in range(4)
    ]
    lines = [*good[:at], bad, *good[at:]]
    path = tmp_path_factory.mktemp("rules") / "r.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RuleFileError) as info:
        RuleSet.from_file(path)
    assert info.value.line == at + 1
    assert f"{path}:{at + 1}:" in str(info.value)
