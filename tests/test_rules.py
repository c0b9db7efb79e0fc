"""Loading and validating rule files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mktsales.dimensions import Dimension, Pole
from mktsales.exceptions import RuleFileError
from mktsales.rules import EmptyRuleSetWarning, RuleSet, load_rules
from mktsales.scoring import matcher_for

GOOD = {"id": "t.one", "dimension": "objective", "pole": "sales", "weight": 1.0, "pattern": "close deals"}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "rules.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_shipped_rules_cover_every_dimension_and_pole() -> None:
    """At least 200 rules, and at least 15 in every (dimension, pole) cell."""
    rules = load_rules()
    assert len(rules) >= 200
    cells = Counter((r.dimension, r.pole) for r in rules)
    for dim in Dimension:
        for pole in Pole:
            assert cells[(dim, pole)] >= 15, (dim, pole)


def test_shipped_rules_cover_the_subfunctions_people_post_for() -> None:
    """The vocabulary of the common sub-functions is present."""
    subs = {r.subfunction for r in load_rules()}
    for needed in (
        "brand", "advertising", "market_research", "product_marketing", "pricing", "seo_sem", "content",
        "social_media", "pr_communications", "events", "crm_lifecycle", "inside_sales", "outside_sales",
        "business_development", "account_management", "key_accounts", "retail_sales", "counter_sales",
        "sales_operations", "telesales", "real_estate", "insurance_sales",
    ):  # fmt: skip
        assert needed in subs, needed


def test_shipped_token_patterns_pass_spacy_validation() -> None:
    """Every shipped token pattern is accepted by Matcher(validate=True)."""
    matcher = matcher_for(load_rules())
    assert len(matcher.vocabulary) > 500


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "weight"}), "missing key"),
        (json.dumps({**GOOD, "colour": "red"}), "unknown key"),
        (json.dumps({**GOOD, "dimension": "tone"}), "dimension must be one of"),
        (json.dumps({**GOOD, "pole": "finance"}), "pole must be one of"),
        (json.dumps({**GOOD, "weight": -1}), "weight must be in"),
        (json.dumps({**GOOD, "weight": "heavy"}), "weight must be a number"),
        (json.dumps({**GOOD, "id": "Bad Id"}), "id must match"),
        (json.dumps({**GOOD, "pattern": ""}), "no word"),
        (json.dumps({**GOOD, "pattern": [{"SHAPE": "Xxx"}]}), "unsupported key"),
        (json.dumps({**GOOD, "pattern": [{"LOWER": {"IN": []}}]}), "non-empty list"),
        (json.dumps({**GOOD, "pattern": [{"LOWER": "x", "OP": "?"}]}), "can match nothing"),
        (json.dumps({**GOOD, "inflect": "yes"}), "inflect must be"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    """A malformed rule raises RuleFileError naming the file, the line and the problem."""
    path = _write(tmp_path, ["# a comment", json.dumps(GOOD), line])
    with pytest.raises(RuleFileError, match=message) as info:
        RuleSet.from_file(path)
    assert f"{path}:3:" in str(info.value)
    assert info.value.line == 3


def test_spacy_rejected_pattern_names_the_rule(tmp_path: Path) -> None:
    """A token pattern spaCy rejects is reported with its rule and line."""
    bad = {**GOOD, "id": "t.bad", "pattern": [{"LOWER": "x", "OP": "!!"}]}
    rules = RuleSet.from_file(_write(tmp_path, [json.dumps(bad)]))
    with pytest.raises(RuleFileError, match=r"t\.bad"):
        matcher_for(rules)


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    """Two rules with one id: error naming the second line and the first."""
    path = _write(tmp_path, [json.dumps(GOOD), json.dumps({**GOOD, "pattern": "win deals"})])
    with pytest.raises(RuleFileError, match=r"duplicate rule id 't\.one'") as info:
        RuleSet.from_file(path)
    assert info.value.line == 2
    assert ":1" in str(info.value)


def test_empty_rule_set_warns(tmp_path: Path) -> None:
    """An empty file loads, with a warning that nothing can match."""
    with pytest.warns(EmptyRuleSetWarning, match="empty"):
        rules = RuleSet.from_file(_write(tmp_path, ["# nothing here"]))
    assert len(rules) == 0


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    """Missing and non-UTF-8 files give RuleFileError naming the file."""
    with pytest.raises(RuleFileError, match="not found"):
        RuleSet.from_file(tmp_path / "nope.jsonl")
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(b'{"id": "caf\xe9"}\n')
    with pytest.raises(RuleFileError, match="UTF-8"):
        RuleSet.from_file(bad)


def test_user_rules_extend_the_default_set(tmp_path: Path) -> None:
    """Extra rules are added to the shipped ones; clashing ids are refused."""
    base = load_rules()
    extra = {**GOOD, "id": "mine.till", "pattern": "till roll"}
    combined = load_rules(extra=[extra])
    assert len(combined) == len(base) + 1
    assert combined["mine.till"].pole is Pole.SALES
    clash = {**GOOD, "id": next(iter(base)).id}
    with pytest.raises(RuleFileError, match="duplicate"):
        load_rules(extra=[clash])
    path = _write(tmp_path, [json.dumps(extra)])
    assert "mine.till" in load_rules(extra=path)


def test_round_trip_through_dicts_keeps_checksum() -> None:
    """to_dicts/from_dicts round-trips, and the checksum ignores formatting."""
    rules = load_rules()
    again = RuleSet.from_dicts(rules.to_dicts())
    assert again == rules
    assert again.checksum == rules.checksum
