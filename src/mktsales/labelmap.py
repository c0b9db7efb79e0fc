"""Label maps and input problems: your labels to marketing / sales / other, and rows that cannot be evaluated.

:func:`normalize_label_map` validates a label map and :func:`map_label` applies it to one label;
:func:`find_row_problems` lists the rows :func:`mktsales.evaluation.evaluate` cannot evaluate (empty
text, empty or unmapped labels) and :func:`describe_problems` explains them in a few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mktsales.dimensions import LABELS
from mktsales.exceptions import InputTypeError, ParameterError

__all__ = [
    "PROBLEM_REASONS",
    "RowProblem",
    "describe_problems",
    "find_row_problems",
    "map_label",
    "normalize_label_map",
]


#: Reasons a row cannot be evaluated, and the switch that leaves such rows out instead.
PROBLEM_REASONS: dict[str, str] = {
    "empty_text": "skip_empty",
    "empty_label": "skip_unmapped",
    "unmapped_label": "skip_unmapped",
    "not_binary": "skip_unmapped",
}
_BINARY_LABELS: tuple[str, str] = ("marketing", "sales")


# -- label maps ------------------------------------------------------------------------------------
def normalize_label_map(label_map: Mapping[str, str] | None) -> dict[str, str]:
    """Validate a label map and return it with stripped keys and lower-cased values.

    Parameters
    ----------
    label_map : mapping of str to str, optional
        Your labels to ``"marketing"``, ``"sales"`` or ``"other"``; the key ``"*"`` maps every
        label not listed (it never maps an empty label).

    Returns
    -------
    dict of str to str

    Raises
    ------
    InputTypeError
        When ``label_map`` is not a mapping.
    ParameterError
        When a key is empty, a value is not one of the three labels, or two keys differ only in
        case or surrounding spaces and map to different labels.

    Examples
    --------
    >>> normalize_label_map({"Business Development": "sales", "*": "Other"})
    {'Business Development': 'sales', '*': 'other'}
    """
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise InputTypeError(
            f"label_map must be a mapping of your labels to {list(LABELS)}, got {type(label_map).__name__}"
        )
    out: dict[str, str] = {}
    folded: dict[str, tuple[str, str]] = {}
    for key, value in label_map.items():
        if not isinstance(key, str) or not key.strip():
            raise ParameterError(f"label_map keys must be non-empty strings, got {key!r}")
        if not isinstance(value, str) or value.strip().lower() not in LABELS:
            raise ParameterError(f"label_map[{key!r}] must be one of {list(LABELS)}, got {value!r}")
        k, v = key.strip(), value.strip().lower()
        previous = folded.get(k.casefold())
        if previous is not None and previous[1] != v:
            raise ParameterError(
                f"label_map maps {previous[0]!r} to {previous[1]!r} and {key!r} to {value!r}: "
                "keys are matched ignoring case and surrounding spaces"
            )
        folded[k.casefold()] = (key, v)
        out[k] = v
    return out


def map_label(raw: str, label_map: Mapping[str, str]) -> str | None:
    """Turn one of your labels into marketing / sales / other, or None when it has no mapping.

    Parameters
    ----------
    raw : str
        The label as found in your data.
    label_map : mapping of str to str
        From :func:`normalize_label_map`.

    Returns
    -------
    str or None
        An exact key first, then a key equal ignoring case, then a label already named
        marketing / sales / other, then ``label_map["*"]``; None for an empty label or a label
        nothing maps.

    Examples
    --------
    >>> m = normalize_label_map({"Advertising": "marketing", "*": "other"})
    >>> map_label("advertising", m), map_label(" Sales ", m), map_label("HR", m), map_label("", m)
    ('marketing', 'sales', 'other', None)
    """
    value = raw.strip()
    if not value:
        return None
    if value in label_map:
        return label_map[value]
    folded = value.casefold()
    for key, label in label_map.items():
        if key != "*" and key.casefold() == folded:
            return label
    if folded in LABELS:
        return folded
    return label_map.get("*")


# -- row problems ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot be evaluated as it is.

    Attributes
    ----------
    index : int
        Position of the row in the input (0-based).
    id : str
        The row's id.
    reason : str
        ``"empty_text"``, ``"empty_label"``, ``"unmapped_label"`` (nothing maps the label) or
        ``"not_binary"`` (the label maps to other in binary mode).
    value : str
        The label as found in the data.
    """

    index: int
    id: str
    reason: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"index": self.index, "id": self.id, "reason": self.reason, "value": self.value}


def find_row_problems(
    texts: Sequence[str | None],
    raw_labels: Sequence[str],
    *,
    titles: Sequence[str | None] | None = None,
    ids: Sequence[str] | None = None,
    label_map: Mapping[str, str] | None = None,
    binary: bool = False,
) -> list[RowProblem]:
    """List the rows that cannot be evaluated: empty text, empty or unmapped labels.

    Parameters
    ----------
    texts : sequence of str or None
        The texts (None for a missing value).
    raw_labels : sequence of str
        Your labels (empty string for a missing value).
    titles : sequence of str or None, optional
        Separate titles; a row with an empty text but a title is not empty.
    ids : sequence of str, optional
        Row ids (default: the index).
    label_map : mapping, optional
        From :func:`normalize_label_map`.
    binary : bool, default=False
        In binary mode a label that maps to other is a problem too (``"not_binary"``).

    Returns
    -------
    list of RowProblem
        At most one problem per row, in row order.
    """
    lm = dict(label_map or {})
    out = []
    for i, (text, raw) in enumerate(zip(texts, raw_labels, strict=True)):
        rid = ids[i] if ids is not None else str(i)
        title = titles[i] if titles is not None else None
        if not (text or "").strip() and not (title or "").strip():
            out.append(RowProblem(i, rid, "empty_text", raw))
            continue
        label = map_label(raw, lm)
        if label is None:
            out.append(RowProblem(i, rid, "empty_label" if not raw.strip() else "unmapped_label", raw))
        elif binary and label not in _BINARY_LABELS:
            out.append(RowProblem(i, rid, "not_binary", raw))
    return out


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


_PROBLEM_TEXT = {
    "empty_text": "empty text",
    "empty_label": "empty label",
    "unmapped_label": "labels nothing maps to marketing/sales/other",
    "not_binary": "binary mode takes only marketing and sales rows; these labels map to other",
}


def describe_problems(
    problems: Sequence[RowProblem],
    name_row: Callable[[int], str] | None = None,
    hints: Mapping[str, str] | None = None,
    *,
    max_rows: int = 5,
) -> str:
    """Explain row problems in a few lines, with counts and the first rows of each kind.

    Parameters
    ----------
    problems : sequence of RowProblem
        From :func:`find_row_problems`.
    name_row : callable, optional
        Names a row from its index (default ``"row <index> (id <id>)"``).
    hints : mapping, optional
        What to do about each reason (default: the :func:`evaluate` parameters).
    max_rows : int, default=5
        Rows named per kind of problem.

    Returns
    -------
    str
    """
    ids = {p.index: p.id for p in problems}

    def default_name(i: int) -> str:
        return f"row {i} (id {ids[i]!r})"

    name = name_row or default_name
    hint = (
        dict(hints)
        if hints is not None
        else {r: f"pass {s}=True to leave these rows out" for r, s in PROBLEM_REASONS.items()}
    )
    lines = [f"cannot evaluate {_rows(len(problems))}:"]
    for reason in PROBLEM_REASONS:
        group = [p for p in problems if p.reason == reason]
        if not group:
            continue
        lines.append(f"  {_PROBLEM_TEXT[reason]} ({_rows(len(group))}; {hint.get(reason, '')}):")
        if reason in ("unmapped_label", "not_binary"):
            by_value: dict[str, list[RowProblem]] = {}
            for p in group:
                by_value.setdefault(p.value, []).append(p)
            for value, items in sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                shown = ", ".join(name(p.index) for p in items[:max_rows])
                more = ", ..." if len(items) > max_rows else ""
                lines.append(f"    {value!r}: {_rows(len(items))} ({shown}{more})")
        else:
            shown = ", ".join(name(p.index) for p in group[:max_rows])
            more = f", ... and {len(group) - max_rows} more" if len(group) > max_rows else ""
            lines.append(f"    {shown}{more}")
    return "\n".join(lines)
