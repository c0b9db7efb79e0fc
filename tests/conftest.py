"""Shared fixtures. Tests run against the installed package (``make test`` installs a wheel)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MKTSALES_SHARED_DATA", REPO.parent / "shared" / "data"))


def load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (the folder is not a package) for testing its helpers."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", REPO / "benchmarks" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_dataset(name: str) -> Path:
    """Path of a shared evaluation data set, or skip the test with a clear message."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(
            f"shared evaluation data not found at {path}: these checks need ../shared/data "
            "(present in CI; set MKTSALES_SHARED_DATA to point elsewhere)"
        )
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def clf():  # type: ignore[no-untyped-def]
    """The shipped classifier."""
    from mktsales import default_classifier

    return default_classifier()


@pytest.fixture(scope="session")
def small_training_set() -> tuple[list[str], list[str]]:
    """A small, balanced training set taken from the corpus train split (fast to fit)."""
    with (REPO / "data" / "corpus" / "train.jsonl").open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    out: dict[str, list[str]] = {"marketing": [], "sales": [], "other": []}
    for r in records:
        if r["kind"] != "posting" and len(out[r["label"]]) < 40:
            out[r["label"]].append(r["text"])
    X = [t for label in out for t in out[label]]
    y = [label for label in out for _ in out[label]]
    return X, y
