"""The spaCy pipeline component registered through the spacy_factories entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
import spacy

from mktsales import Prediction, classify


def test_entry_point_is_declared() -> None:
    """The installed package declares the factory under spacy_factories."""
    names = {ep.name: ep.value for ep in entry_points(group="spacy_factories")}
    assert names.get("mktsales") == "mktsales.spacy_component:make_mktsales_component"


def test_add_pipe_sets_cats_and_extension() -> None:
    """nlp.add_pipe('mktsales') works in a fresh pipeline and sets doc.cats and doc._.mktsales."""
    nlp = spacy.blank("en")
    nlp.add_pipe("mktsales")
    text = "Own the quarterly pipeline and close enterprise deals"
    doc = nlp(text)
    expected = classify(text)
    assert doc.cats == expected.scores
    assert isinstance(doc._.mktsales, Prediction)
    assert doc._.mktsales == expected
    assert max(doc.cats, key=doc.cats.__getitem__) == "sales"


def test_nlp_pipe_keeps_order() -> None:
    """nlp.pipe gives the same predictions in the same order."""
    nlp = spacy.blank("en")
    nlp.add_pipe("mktsales")
    texts = ["Senior Brand Manager", "Realtor", "Registered nurse on a surgical ward"] * 3
    docs = list(nlp.pipe(texts, batch_size=2))
    assert [d._.mktsales.label for d in docs] == [classify(t).label for t in texts]


def test_component_with_extra_rules(tmp_path: pytest.TempPathFactory) -> None:
    """Config options reach the classifier (extra rules file)."""
    rules = tmp_path / "extra.jsonl"  # type: ignore[operator]
    rules.write_text(
        '{"id": "mine.till", "dimension": "nature", "pole": "sales", "weight": 2, "pattern": "till roll"}\n'
    )
    nlp = spacy.blank("en")
    nlp.add_pipe("mktsales", config={"extra_rules": str(rules)})
    doc = nlp("Replace the till rolls.")
    assert [e.rule_id for e in doc._.mktsales.evidence] == ["mine.till"]
