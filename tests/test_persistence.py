"""Saving and loading models safely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mktsales import Classifier
from mktsales.exceptions import ModelIntegrityError, ModelLoadError, UntrustedModelError
from mktsales.persistence import default_model_path, load_state, save_model, sha256_file


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "model.joblib"
    shutil.copyfile(default_model_path(), target)
    return target


def test_default_model_is_verified_and_loads() -> None:
    """The shipped model matches its shipped checksum."""
    path = default_model_path()
    expected = Path(str(path) + ".sha256").read_text().split()[0]
    assert sha256_file(path) == expected
    assert load_state()["format"] == "mktsales-model"


def test_file_without_checksum_is_refused_unless_trusted(model_copy: Path) -> None:
    """No sidecar, no trusted=True: clear refusal; with trusted=True it loads."""
    with pytest.raises(UntrustedModelError, match="runs pickle code"):
        load_state(model_copy)
    assert load_state(model_copy, trusted=True)["format"] == "mktsales-model"


def test_matching_sidecar_is_accepted(model_copy: Path) -> None:
    """A sidecar checksum that matches is enough."""
    Path(str(model_copy) + ".sha256").write_text(sha256_file(model_copy) + "  model.joblib\n")
    assert Classifier.load(model_copy).classify("close deals").label == "sales"


def test_flipped_byte_is_refused_before_unpickling(model_copy: Path) -> None:
    """A single flipped byte fails the checksum; nothing is unpickled."""
    good = sha256_file(model_copy)
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        load_state(model_copy, expected_sha256=good)
    Path(str(model_copy) + ".sha256").write_text(good + "\n")
    with pytest.raises(ModelIntegrityError):
        load_state(model_copy)


def test_corrupt_trusted_file_gives_a_clear_error(tmp_path: Path) -> None:
    """A trusted file that is not a model gives ModelLoadError, not a pickle traceback."""
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"\x80\x04not really a pickle" * 10)
    with pytest.raises(ModelLoadError, match="could not read model file"):
        load_state(junk, trusted=True)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is named."""
    with pytest.raises(ModelLoadError, match="not found"):
        load_state(tmp_path / "none.joblib", trusted=True)


def test_save_writes_model_and_sidecar(tmp_path: Path) -> None:
    """save_model writes the file and a matching sidecar, atomically (no temporary files left)."""
    state = load_state()
    target = tmp_path / "sub" / "m.joblib"
    digest = save_model(state, target)
    assert sha256_file(target) == digest
    assert Path(str(target) + ".sha256").read_text().startswith(digest)
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.joblib", "m.joblib.sha256"]
    again = load_state(target)
    assert again["vocabulary"] == state["vocabulary"]
    assert (again["hybrid"]["coef"] == state["hybrid"]["coef"]).all()
