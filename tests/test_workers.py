"""Worker processes: predictions come back whole and in order, and the garbage collector's state is
restored whatever happens."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pandas as pd
import pytest

from mktsales import classify, classify_many, label_dataframe, workers

TEXTS = [
    "Prospect new accounts by phone and close deals before quarter end.",
    "Own the brand platform, the five-year positioning and the media plan.",
    "Reconcile supplier invoices and run the month-end close.",
    "Realtor",
    "",
    "Responsable marketing digital: SEO, réseaux sociaux et contenus.",
]


@pytest.fixture(autouse=True)
def _nothing_frozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_two_processes_give_the_same_predictions_with_titles_in_order() -> None:
    """Predictions unpickled from the workers equal those computed here, titles included."""
    titles = ["Sales Rep", None, "Accountant", None, "Buyer", None]
    here = [classify(t, title=ti) for t, ti in zip(TEXTS, titles, strict=True)]
    assert list(classify_many(TEXTS * 3, titles=titles * 3, n_process=2, batch_size=2)) == here * 3


def test_heap_is_frozen_while_the_pool_lives_and_thawed_after() -> None:
    """The parent's heap is frozen while workers run, and unfrozen when the generator ends."""
    seen = []
    for _ in classify_many(TEXTS, n_process=2, batch_size=2):
        seen.append(gc.get_freeze_count())
    assert min(seen) > 0
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_heap_is_thawed_when_the_caller_stops_early() -> None:
    """Closing the generator half-way (a break, an exception in the caller) thaws the heap too."""
    stream = classify_many(TEXTS * 4, n_process=2, batch_size=2)
    next(stream)
    assert gc.get_freeze_count() > 0
    stream.close()
    assert gc.get_freeze_count() == 0


def test_a_callers_own_freeze_is_left_alone() -> None:
    """When the caller froze objects before, they stay frozen after the pool closes."""
    gc.freeze()
    before = gc.get_freeze_count()
    assert before > 0
    list(classify_many(TEXTS, n_process=2, batch_size=2))
    assert gc.get_freeze_count() >= before


def test_nested_freezes_thaw_with_the_last() -> None:
    """Two pools at once (threads, or label_dataframe inside a run): the heap thaws once both close."""
    workers.freeze_heap()
    workers.freeze_heap()
    workers.thaw_heap()
    assert gc.get_freeze_count() > 0
    workers.thaw_heap()
    assert gc.get_freeze_count() == 0


def _failing_batch(batch: list[tuple[str, str | None]]) -> list[object]:
    raise RuntimeError("worker failed")


def test_label_dataframe_pool_thaws_the_heap_also_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The labelling pool back end thaws the heap when it closes, and when a worker's batch fails."""
    df = pd.DataFrame({"description": TEXTS})
    out = label_dataframe(df, text_column="description", n_process=2)
    assert list(out["label"][:3]) == ["sales", "marketing", "other"]
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr("mktsales.backends._work_values", _failing_batch)
    with pytest.raises(RuntimeError, match="worker failed"):
        label_dataframe(df, text_column="description", n_process=2)
    assert gc.get_freeze_count() == 0
