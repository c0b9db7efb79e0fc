"""The public scoring API: classify, classify_many and the Prediction."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mktsales import Classifier, classify, classify_many
from mktsales.exceptions import InputTypeError, ParameterError

SALES = "Own the quarterly pipeline and close enterprise deals"


def test_readme_example() -> None:
    """The README's example behaves as shown."""
    p = classify(SALES)
    assert p.label == "sales"
    assert set(p.scores) == {"marketing", "sales", "other"}
    assert sum(p.scores.values()) == pytest.approx(1.0)
    assert p.scores["sales"] > 0.8
    assert [d.dimension for d in p.dimensions] == ["objective", "level", "scope", "nature", "horizon"]
    assert p.evidence
    assert all(e.pole in ("marketing", "sales") for e in p.evidence)
    assert p.rules.label == "sales"
    assert p.model.label in ("marketing", "sales", "other")
    assert p.agreement in ("agree", "conflict", "differ", "rules_silent")


@pytest.mark.parametrize(
    "text",
    [
        SALES,
        "<p>Senior Brand Manager &ndash; own brand strategy &amp; consumer insight</p>",
        "Youâ€™ll prospect and close new business • hit monthly targets",
        "Plan SEO and PPC campaigns; analyse conversion rate",
    ],
)
def test_evidence_offsets_slice_back_to_the_input(text: str) -> None:
    """Every evidence span is the exact slice of the input it reports."""
    p = classify(text)
    assert p.evidence
    for e in p.evidence:
        assert text[e.start_char : e.end_char] == e.text
        assert e.matched.lower().split()[0][:3] in e.text.lower()


def test_dimensions_summarise_the_evidence() -> None:
    """Each dimension holds its own evidence and leans towards the pole with more weight."""
    p = classify("Build brand awareness. Exceed quarterly quota.")
    for d in p.dimensions:
        assert all(e.dimension == d.dimension for e in d.evidence)
        assert -1.0 <= d.score <= 1.0
        if d.marketing > d.sales:
            assert d.lean == "marketing"
        elif d.sales > d.marketing:
            assert d.lean == "sales"
    assert p.dimension("objective").marketing > 0


def test_title_is_weighted_and_reported_separately() -> None:
    """Title evidence carries field='title' and offsets into the title."""
    p = classify("Manage a book of accounts.", title="Key Account Manager")
    title_ev = [e for e in p.evidence if e.field == "title"]
    assert title_ev
    assert title_ev[0].text == "Key Account Manager"[title_ev[0].start_char : title_ev[0].end_char]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("?", "too_short"),
        ("x", "too_short"),
        ("qwxz blorf snarg", "no_evidence"),
        ("🙂🙂🙂", "too_short"),
    ],
)
def test_texts_with_nothing_to_score_are_other_and_uncertain(text: str, reason: str) -> None:
    """No evidence: label other, uncertain, with the reason."""
    p = classify(text)
    assert (p.label, p.uncertain, p.reason) == ("other", True, reason)
    assert sum(p.scores.values()) == pytest.approx(1.0)


def test_non_english_is_not_scored() -> None:
    """A German posting is other + uncertain with reason unsupported_language."""
    p = classify(
        "Wir suchen für unser Team eine erfahrene Vertriebsleiterin. Sie sind für die Betreuung unserer Kunden "
        "zuständig und haben Erfahrung im Vertrieb und mit der Neukundengewinnung."
    )
    assert (p.label, p.uncertain, p.reason, p.language) == ("other", True, "unsupported_language", "de")


@pytest.mark.parametrize("bad", [None, 42, 3.0, b"close deals", ["close deals"]])
def test_wrong_types_raise_type_error(bad: object) -> None:
    """Wrong types raise TypeError naming the type."""
    with pytest.raises(TypeError, match=type(bad).__name__):
        classify(bad)  # type: ignore[arg-type]


def test_odd_inputs_never_crash() -> None:
    """Huge, binary, HTML and emoji inputs give a defined result."""
    huge = ("We close deals and hit quota. " * 200_000)[: 5 * 1024 * 1024]
    p = classify(huge)
    assert p.label == "sales"
    assert p.truncated
    junk = bytes(range(256)).decode("latin-1") * 50
    assert classify(junk).label in ("marketing", "sales", "other")
    deep = "<div>" * 5000 + "SEO manager" + "</div>" * 5000
    assert classify(deep).label == "marketing"
    assert classify("🚀 Closing deals 💰 every month 📈").label == "sales"


def test_to_dict_is_json_ready() -> None:
    """to_dict round-trips through JSON with every key."""
    d = json.loads(json.dumps(classify(SALES).to_dict()))
    assert set(d) >= {
        "label",
        "scores",
        "confidence",
        "uncertain",
        "reason",
        "dimensions",
        "evidence",
        "rules",
        "model",
    }
    assert len(d["dimensions"]) == 5


TEXTS = [
    SALES,
    "Senior Brand Manager",
    "Registered Nurse",
    "",
    "Realtor",
    "<b>PPC</b> specialist",
    "Wir suchen eine erfahrene Vertriebsleiterin für unser Team und Sie sind für die Kunden zuständig.",
    "Manage the payroll team",
] * 5


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_classify_many_equals_classify(batch_size: int) -> None:
    """Batch results equal single results, in input order, whatever the batch size."""
    single = [classify(t) for t in TEXTS]
    assert list(classify_many(TEXTS, batch_size=batch_size)) == single
    assert list(classify_many(iter(TEXTS), batch_size=batch_size)) == single


def test_classify_many_with_two_processes_equals_classify() -> None:
    """Two worker processes give the same results in the same order."""
    single = [classify(t) for t in TEXTS]
    assert list(classify_many(TEXTS, batch_size=4, n_process=2)) == single


def test_classify_many_with_titles() -> None:
    """Titles pair with texts one to one."""
    out = list(classify_many(["Manage accounts.", "Write copy."], titles=["Key Account Manager", None]))
    assert out[0] == classify("Manage accounts.", title="Key Account Manager")
    with pytest.raises(ValueError):  # noqa: PT011 - zip(strict=True) reports the length mismatch
        list(classify_many(["a", "b"], titles=["x"]))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ParameterError, "batch_size"),
        ({"n_process": 0}, ParameterError, "n_process"),
        ({"batch_size": "10"}, ParameterError, "batch_size"),
    ],
)
def test_classify_many_bad_parameters(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    """Bad parameters raise ValueError naming parameter and value."""
    with pytest.raises(error, match=message):
        list(classify_many(["x"], **kwargs))  # type: ignore[arg-type]


def test_classify_many_rejects_a_bare_string() -> None:
    """A single string is not a batch."""
    with pytest.raises(InputTypeError):
        list(classify_many("close deals"))


def test_import_loads_nothing_heavy() -> None:
    """Importing mktsales does not load the model, spaCy or scikit-learn."""
    code = (
        "import sys, mktsales; from mktsales import api;"
        "print(api._loaded(), 'spacy' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_custom_extra_rules_show_up_as_evidence() -> None:
    """Rules added by the user are matched and reported."""
    clf = Classifier.load(
        extra_rules=[{"id": "mine.till", "dimension": "nature", "pole": "sales", "weight": 2, "pattern": "till roll"}]
    )
    p = clf.classify("Replace the till rolls.")
    assert [e.rule_id for e in p.evidence] == ["mine.till"]


def test_predictions_pickle_to_equal_predictions() -> None:
    """A pickled prediction comes back equal, its dimensions sharing its evidence objects; a
    hand-made one whose dimensions hold other evidence also survives."""
    import dataclasses
    import pickle

    original = classify("Senior Brand Manager\nOwn brand positioning and close key accounts", title="Brand lead")
    again = pickle.loads(pickle.dumps(original))
    assert again == original
    assert again.evidence
    assert all(any(e is f for f in again.evidence) for d in again.dimensions for e in d.evidence)
    stray = dataclasses.replace(original.evidence[0], rule_id="user.stray")
    dims = (dataclasses.replace(original.dimensions[0], evidence=(stray,)), *original.dimensions[1:])
    odd = dataclasses.replace(original, dimensions=dims)
    back = pickle.loads(pickle.dumps(odd))
    assert back == odd
    assert back.evidence == original.evidence


def test_garbage_collector_is_paused_during_a_batch_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """classify_many pauses the cyclic collector while it scores a batch and restores the caller's
    setting afterwards, also when the batch raises, and leaves a disabled collector disabled."""
    import gc

    from mktsales import api

    seen: list[bool] = []
    real_prepare = api.prepare

    def spy(text: str, title: str | None = None):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real_prepare(text, title)

    monkeypatch.setattr(api, "prepare", spy)
    assert gc.isenabled()
    assert [p.label for p in classify_many(["Realtor", "SEO specialist"])] == ["sales", "marketing"]
    assert seen == [False, False]
    assert gc.isenabled()
    with pytest.raises(InputTypeError):
        list(classify_many(["Realtor", None]))  # type: ignore[list-item]
    assert gc.isenabled()
    gc.disable()
    try:
        list(classify_many(["Realtor"]))
        assert not gc.isenabled()
    finally:
        gc.enable()
