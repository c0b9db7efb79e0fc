"""Exceptions raised by mktsales.

Every error the library raises on purpose derives from :class:`MktSalesError`, and also from the
built-in exception that fits it (``ValueError``, ``TypeError``...), so callers can catch either.
"""

from __future__ import annotations

__all__ = [
    "InputTypeError",
    "MktSalesError",
    "ModelIntegrityError",
    "ModelLoadError",
    "ParameterError",
    "RuleFileError",
    "UntrustedModelError",
]


class MktSalesError(Exception):
    """Base class of every error mktsales raises on purpose."""


class InputTypeError(MktSalesError, TypeError):
    """A value of the wrong type was passed (for example ``None`` where a text is expected)."""


class ParameterError(MktSalesError, ValueError):
    """A parameter has a value outside its allowed range or set."""


class RuleFileError(MktSalesError, ValueError):
    """A rules file is malformed; the message names the file and the line."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}:{line}: " if source and line is not None else (f"{source}: " if source else "")
        super().__init__(f"{where}{message}")


class ModelLoadError(MktSalesError, ValueError):
    """A model file could not be read (missing, corrupted, or from an incompatible version)."""


class ModelIntegrityError(ModelLoadError):
    """A model file's sha256 does not match the checksum recorded for it."""


class UntrustedModelError(ModelLoadError):
    """A model file outside the package was given without ``trusted=True`` or a matching checksum."""
