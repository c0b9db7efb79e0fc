"""mktsales: tell marketing from sales (or neither) in job postings, titles and tasks, and say why.

>>> from mktsales import classify
>>> classify("Plan the annual brand campaign and commission consumer research").label
'marketing'

Importing the package loads nothing heavy: the model, the rules and spaCy load on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from mktsales.api import Classifier, classify, classify_many, default_classifier, load_classifier
from mktsales.dimensions import DIMENSIONS, LABELS, Dimension, Pole
from mktsales.exceptions import (
    InputTypeError,
    MktSalesError,
    ModelIntegrityError,
    ModelLoadError,
    ParameterError,
    RuleFileError,
    UntrustedModelError,
)
from mktsales.prediction import DimensionScore, Evidence, Prediction, Verdict
from mktsales.rules import Rule, RuleSet, load_rules

if TYPE_CHECKING:
    from mktsales.batch import label_dataframe, label_file
    from mktsales.evaluation import EvalReport, evaluate
    from mktsales.model import MktSalesClassifier

try:
    __version__ = version("mktsales")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "DIMENSIONS",
    "LABELS",
    "Classifier",
    "Dimension",
    "DimensionScore",
    "EvalReport",
    "Evidence",
    "InputTypeError",
    "MktSalesClassifier",
    "MktSalesError",
    "ModelIntegrityError",
    "ModelLoadError",
    "ParameterError",
    "Pole",
    "Prediction",
    "Rule",
    "RuleFileError",
    "RuleSet",
    "UntrustedModelError",
    "Verdict",
    "__version__",
    "classify",
    "classify_many",
    "default_classifier",
    "evaluate",
    "label_dataframe",
    "label_file",
    "load_classifier",
    "load_rules",
]

# Names whose modules import heavy libraries (scikit-learn, pandas, matplotlib) are loaded on first
# use, so that `import mktsales` stays light.
_LAZY = {
    "MktSalesClassifier": "mktsales.model",
    "evaluate": "mktsales.evaluation",
    "EvalReport": "mktsales.evaluation",
    "label_dataframe": "mktsales.batch",
    "label_file": "mktsales.batch",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mktsales' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
