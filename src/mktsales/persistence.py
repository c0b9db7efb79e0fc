"""Saving and loading models, with checksums.

A model file is a joblib (pickle) file, and **loading a pickle runs code**. mktsales therefore
only unpickles a file whose sha256 is known to be right:

- the shipped default model is checked against the checksum shipped beside it
  (``mktsales-default.joblib.sha256``);
- any other file needs either a sidecar ``<file>.sha256`` that matches, an ``expected_sha256``
  from the caller, or an explicit ``trusted=True``; otherwise loading is refused with
  :class:`~mktsales.exceptions.UntrustedModelError`.

A checksum mismatch raises :class:`~mktsales.exceptions.ModelIntegrityError` before any byte is
unpickled; a file that passes the check but cannot be read raises
:class:`~mktsales.exceptions.ModelLoadError`, never an error from deep inside pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.resources import as_file, files
from os import PathLike
from pathlib import Path
from typing import Any

from mktsales.exceptions import InputTypeError, ModelIntegrityError, ModelLoadError, UntrustedModelError
from mktsales.scoring import FORMAT, FORMAT_VERSION

__all__ = [
    "DEFAULT_MODEL_NAME",
    "default_model_card",
    "default_model_path",
    "load_state",
    "save_model",
    "sha256_file",
]

DEFAULT_MODEL_NAME = "mktsales-default.joblib"
_SIDECAR = ".sha256"


def sha256_file(path: str | PathLike[str]) -> str:
    """Return the hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_sidecar(path: Path) -> str | None:
    side = path.with_name(path.name + _SIDECAR)
    if not side.is_file():
        return None
    text = side.read_text("utf-8").strip()
    return text.split()[0].lower() if text else ""


def default_model_path() -> Path:
    """Path of the model shipped inside the package.

    Raises
    ------
    ModelLoadError
        When the package was installed without its model (for example from a bare source tree).
    """
    resource = files("mktsales").joinpath("_models", DEFAULT_MODEL_NAME)
    with as_file(resource) as p:
        path = Path(p)
    if not path.is_file():
        raise ModelLoadError(
            "the default model is not installed with this copy of mktsales "
            f"(looked for {resource}); install the package with 'pip install .' from a checkout that "
            "has models/, or run 'mktsales train'"
        )
    return path


def default_model_card() -> dict[str, Any]:
    """The model card (JSON) shipped with the default model."""
    text = files("mktsales").joinpath("_models", "model_card.json").read_text("utf-8")
    card: dict[str, Any] = json.loads(text)
    return card


def save_model(state: dict[str, Any], path: str | PathLike[str]) -> str:
    """Write a model state with joblib, and its sha256 sidecar; return the checksum.

    The file is written to a temporary name and renamed, so a crash never leaves a half file.

    Parameters
    ----------
    state : dict
        From :meth:`mktsales.model.MktSalesClassifier.to_state`.
    path : str or path-like
        Where to write (conventionally ``*.joblib``).

    Returns
    -------
    str
        The hex sha256 of the written file.
    """
    import joblib

    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputTypeError("save_model takes a model state from MktSalesClassifier.to_state()")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        joblib.dump(state, tmp, compress=3)
        digest = sha256_file(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    target.with_name(target.name + _SIDECAR).write_text(f"{digest}  {target.name}\n", "utf-8")
    return digest


def load_state(
    path: str | PathLike[str] | None = None,
    *,
    trusted: bool = False,
    expected_sha256: str | None = None,
) -> dict[str, Any]:
    """Verify and load a model state.

    Parameters
    ----------
    path : str or path-like, optional
        The model file; ``None`` loads the shipped default model (always verified).
    trusted : bool, default=False
        Load a file that has no checksum to check. Only for files you made yourself: unpickling
        a file runs code.
    expected_sha256 : str, optional
        The checksum the file must have.

    Returns
    -------
    dict
        The model state.

    Raises
    ------
    UntrustedModelError
        No checksum to verify and ``trusted`` is False.
    ModelIntegrityError
        The file's sha256 differs from the expected one (corrupted or tampered).
    ModelLoadError
        The file is missing or is not a readable mktsales model.
    """
    import joblib

    if path is None:
        p = default_model_path()
        expected = _read_sidecar(p)
        if not expected:
            raise ModelIntegrityError(f"the default model has no checksum file beside it ({p}{_SIDECAR})")
    else:
        if not isinstance(path, str | PathLike):
            raise InputTypeError(f"path must be a str or path-like, got {type(path).__name__}")
        p = Path(path)
        if not p.is_file():
            raise ModelLoadError(f"model file not found: {p}")
        expected = expected_sha256.lower() if expected_sha256 else _read_sidecar(p)
        if not expected and not trusted:
            raise UntrustedModelError(
                f"refusing to load {p}: loading a model file runs pickle code, and there is no checksum to "
                f"verify it. Pass trusted=True if you made this file yourself, or put its sha256 in {p.name}{_SIDECAR}"
            )
    if expected:
        actual = sha256_file(p)
        if actual != expected:
            raise ModelIntegrityError(
                f"checksum mismatch for {p}: expected sha256 {expected}, file has {actual}; "
                "the file is corrupted or was modified, and was not loaded"
            )
    try:
        state = joblib.load(p)
    except Exception as exc:  # any failure inside unpickling becomes one clear error
        raise ModelLoadError(f"could not read model file {p}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelLoadError(f"{p} is not a mktsales model (no '{FORMAT}' state inside)")
    if state.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(
            f"{p} has model format version {state.get('format_version')}, this mktsales reads version {FORMAT_VERSION}"
        )
    return state
