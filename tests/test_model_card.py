"""The shipped model, its checksum, its card and the shipped rules agree."""

from __future__ import annotations

import json
from pathlib import Path

from mktsales import load_rules
from mktsales.persistence import default_model_card, default_model_path, load_state, sha256_file

REPO = Path(__file__).resolve().parents[1]


def test_card_records_the_shipped_file() -> None:
    """The model card names the sha256 of the shipped model file."""
    card = default_model_card()
    assert card["sha256"] == sha256_file(default_model_path())
    assert json.loads((REPO / "models" / "model_card.json").read_text())["sha256"] == card["sha256"]


def test_model_was_trained_with_the_shipped_rules() -> None:
    """The rules inside the model are the rules shipped in the package (they cannot drift apart)."""
    state = load_state()
    assert state["rules_checksum"] == load_rules().checksum


def test_card_holds_data_metrics_versions_and_date() -> None:
    """The card records the data, held-out metrics, library versions, date and seed."""
    card = default_model_card()
    assert card["corpus"]["counts"]["train"]["total"] > 0
    for split in ("dev", "test"):
        assert 0.0 < card[split]["macro_f1"] <= 1.0
        assert 0.0 < card[split]["mvs_f1"] <= 1.0
    assert {"python", "scikit-learn", "spacy", "numpy"} <= set(card["versions"])
    assert card["trained_at"].endswith("Z")
    assert isinstance(card["seed"], int)
    assert card["thresholds"]["confidence"] > 0.5


def test_card_corpus_checksum_matches_the_corpus() -> None:
    """The card's corpus checksum is that of data/corpus as committed (retrain after changing it)."""
    import hashlib

    h = hashlib.sha256()
    for split in ("train", "dev", "test"):
        h.update((REPO / "data" / "corpus" / f"{split}.jsonl").read_bytes())
    assert default_model_card()["corpus"]["sha256"] == h.hexdigest()
