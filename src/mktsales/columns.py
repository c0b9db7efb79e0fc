"""One row in, the added columns out: the cells a row is labelled from, and the columns labelling adds.

:func:`row_input` turns the text and title cells of a row into what to classify, or a
:class:`RowProblem` naming why the row cannot be labelled (one of :data:`ROW_ERRORS`);
:func:`prediction_values` gives the values of :data:`ADDED_COLUMNS` for a prediction, with the
``evidence`` column from :func:`evidence_summary`; :func:`added_columns` names them with a prefix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mktsales.dimensions import Dimension
from mktsales.exceptions import InputTypeError, ParameterError

if TYPE_CHECKING:
    from mktsales.prediction import Prediction

__all__ = [
    "ADDED_COLUMNS",
    "EVIDENCE_RULES_PER_DIMENSION",
    "ROW_ERRORS",
    "RowProblem",
    "added_columns",
    "evidence_summary",
    "prediction_values",
    "row_input",
]


#: Columns added to every row, in order (each prefixed by ``prefix``).
ADDED_COLUMNS: tuple[str, ...] = (
    "label",
    "marketing",
    "sales",
    "other",
    "confidence",
    "uncertain",
    "reason",
    "evidence",
)
#: Why a row or record was not labelled (the ``reason`` of the errors file and of the output).
ROW_ERRORS: tuple[str, ...] = (
    "missing_text",  # no text and no title
    "text_not_string",  # the text cell holds a number, a list...
    "title_not_string",  # the same for the title cell
    "undecodable_bytes",  # bytes that are not valid in the input encoding
    "malformed_csv",  # a CSV/TSV record that cannot be split into the header's columns (errors file only)
    "invalid_json",  # a JSONL line that is not a JSON object (errors file only)
)
#: Rule ids shown per dimension in the ``evidence`` column: enough to see why, short enough to read.
EVIDENCE_RULES_PER_DIMENSION = 3


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row cannot be labelled.

    Attributes
    ----------
    code : str
        One of :data:`ROW_ERRORS`.
    detail : str
        A sentence naming the column and what it holds.
    """

    code: str
    detail: str


def _as_text(value: Any, column: str, code: str) -> str | RowProblem | None:
    if value is None:
        return None
    if isinstance(value, str):
        if _SURROGATE_RE.search(value):
            return RowProblem("undecodable_bytes", f"column {column!r} holds bytes that are not valid text")
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return RowProblem("undecodable_bytes", f"column {column!r} holds bytes that are not valid UTF-8")
    return RowProblem(code, f"column {column!r} holds a {type(value).__name__}, not a string")


def row_input(
    text: Any, title: Any = None, *, text_column: str = "text", title_column: str | None = None
) -> tuple[str, str | None] | RowProblem:
    """Return the ``(text, title)`` to classify for one row, or why it cannot be labelled.

    Missing values (None, NaN, empty or blank strings) are allowed in one of the two cells: a row
    with a title and no text is labelled from its title. Bytes are decoded as UTF-8.

    Parameters
    ----------
    text, title : object
        The cells of the row.
    text_column, title_column : str
        Column names, for the message.

    Returns
    -------
    tuple of (str, str or None), or RowProblem

    Examples
    --------
    >>> row_input("Close deals", None)
    ('Close deals', None)
    >>> row_input(None, "Realtor")
    ('', 'Realtor')
    >>> row_input(float("nan"), None, text_column="description").code
    'missing_text'
    >>> row_input(42, None).code
    'text_not_string'
    """
    t = _as_text(text, text_column, "text_not_string")
    if isinstance(t, RowProblem):
        return t
    ti = _as_text(title, title_column or "title", "title_not_string")
    if isinstance(ti, RowProblem):
        return ti
    if ti is not None and not ti.strip():
        ti = None
    if t is None or not t.strip():
        if ti is None:
            also = f" and so is {title_column!r}" if title_column else " and there is no title column"
            return RowProblem("missing_text", f"column {text_column!r} is empty{also}")
        return "", ti
    return t, ti


def evidence_summary(prediction: Prediction, per_dimension: int = EVIDENCE_RULES_PER_DIMENSION) -> str:
    """Summarise the evidence: the top rule ids of each dimension, by total weight.

    Examples
    --------
    >>> from mktsales import classify
    >>> evidence_summary(classify("Close deals and hit the quarterly quota")).split("; ")[0]
    'objective: ...'
    """
    parts = []
    for dim in Dimension:
        weights: dict[str, float] = {}
        for e in prediction.evidence:
            if e.dimension == dim.value:
                weights[e.rule_id] = weights.get(e.rule_id, 0.0) + e.weight
        if weights:
            top = sorted(weights, key=lambda r: -weights[r])[:per_dimension]  # stable: ties keep text order
            parts.append(f"{dim.value}: {', '.join(top)}")
    return "; ".join(parts)


def prediction_values(prediction: Prediction) -> tuple[Any, ...]:
    """The values of :data:`ADDED_COLUMNS` for one prediction."""
    s = prediction.scores
    return (
        prediction.label,
        s["marketing"],
        s["sales"],
        s["other"],
        prediction.confidence,
        prediction.uncertain,
        prediction.reason,
        evidence_summary(prediction),
    )


def _problem_values(problem: RowProblem) -> tuple[Any, ...]:
    return (None, None, None, None, None, None, problem.code, None)


def added_columns(prefix: str = "") -> list[str]:
    """Names of the added columns with a prefix.

    Examples
    --------
    >>> added_columns("mkt_")[:2]
    ['mkt_label', 'mkt_marketing']
    """
    if not isinstance(prefix, str):
        raise InputTypeError(f"prefix must be a str, got {type(prefix).__name__}")
    return [prefix + c for c in ADDED_COLUMNS]


def _check_clash(columns: Iterable[str], prefix: str) -> None:
    clash = [c for c in added_columns(prefix) if c in set(columns)]
    if clash:
        hint = "mktsales_" if not prefix else prefix + "mktsales_"
        raise ParameterError(
            f"the input already has column(s) {clash}, which labelling adds; choose a prefix for the added "
            f"columns (--prefix / prefix=), for example prefix={hint!r}"
        )
