"""The public surface: __all__, typing marker, docstring examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from importlib.resources import files

import pytest

import mktsales


def test_all_names_are_importable() -> None:
    """Every name in __all__ exists, and every public attribute is in __all__."""
    for name in mktsales.__all__:
        assert getattr(mktsales, name) is not None, name
    public = {n for n in vars(mktsales) if not n.startswith("_")}
    modules = {n for n in public if n in {m.name for m in pkgutil.iter_modules(mktsales.__path__)}}
    assert public - modules - {"annotations", "version", "PackageNotFoundError", "TYPE_CHECKING", "Any"} <= set(
        mktsales.__all__
    )


def test_package_is_typed() -> None:
    """py.typed ships with the package."""
    assert files("mktsales").joinpath("py.typed").is_file()


# dask needs the optional extra (its examples run in test_dask); __main__ runs the CLI when imported
SKIPPED = {"mktsales.dask", "mktsales.__main__"}
MODULES = sorted(m.name for m in pkgutil.iter_modules(mktsales.__path__, "mktsales.") if m.name not in SKIPPED)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Examples in docstrings are correct."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
