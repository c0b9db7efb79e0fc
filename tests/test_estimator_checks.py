"""scikit-learn's own data-free estimator checks that apply to an estimator over raw text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sklearn.utils import estimator_checks as ec

from mktsales.model import MktSalesClassifier

# Checks that take no training data (or only check unfitted behaviour). The others feed numeric
# arrays to fit, which a text estimator rightly rejects; the contract they test is covered for
# text in test_model.py (clone, pickle, GridSearchCV in a Pipeline, NotFittedError...).
INSTANCE_CHECKS: list[Callable[..., Any]] = [
    ec.check_no_attributes_set_in_init,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_estimator_cloneable,
    ec.check_estimator_repr,
    ec.check_valid_tag_types,
    ec.check_estimator_tags_renamed,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_mixin_order,
    ec.check_estimators_unfitted,
]


@pytest.mark.parametrize("check", INSTANCE_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_data_free_check(check: Callable[..., Any]) -> None:
    """The estimator passes scikit-learn's check."""
    check("MktSalesClassifier", MktSalesClassifier())


def test_parameters_default_constructible() -> None:
    """Every __init__ parameter has a default that get_params returns unchanged."""
    ec.check_parameters_default_constructible("MktSalesClassifier", MktSalesClassifier())


def test_tags_declare_string_input() -> None:
    """The tags say the estimator takes strings, not 2-D arrays."""
    tags = MktSalesClassifier().__sklearn_tags__()
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array
    assert tags.estimator_type == "classifier"
