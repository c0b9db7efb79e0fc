"""Result types: what ``classify`` returns.

All are frozen dataclasses with a ``to_dict()`` that gives JSON-ready data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mktsales.dimensions import LABELS, Dimension

__all__ = ["REASONS", "DimensionScore", "Evidence", "Prediction", "Verdict"]

#: Why a prediction can be flagged uncertain.
REASONS: tuple[str, ...] = (
    "empty",  # no text at all (empty or whitespace)
    "too_short",  # fewer than two letters
    "unsupported_language",  # not English: not scored
    "no_evidence",  # no rule matched, and the model knows too few of the words, or is unsure
    "conflict",  # rules and model point to opposite poles
    "low_margin",  # the top probability is below the threshold chosen on dev
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One rule match.

    Attributes
    ----------
    rule_id, dimension, pole : str
        The rule and what it points to.
    weight : float
        The rule's weight (times the title weight when matched in a separate title).
    text : str
        The matched characters exactly as in the input: ``input[start_char:end_char]``.
    matched : str
        The same span after cleaning (entities decoded, tags removed).
    start_char, end_char : int
        Offsets into the input text (or the title, when ``field == "title"``).
    field : str
        ``"text"`` or ``"title"``.
    """

    rule_id: str
    dimension: str
    pole: str
    weight: float
    text: str
    matched: str
    start_char: int
    end_char: int
    field: str = "text"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "rule_id": self.rule_id,
            "dimension": self.dimension,
            "pole": self.pole,
            "weight": self.weight,
            "text": self.text,
            "matched": self.matched,
            "start_char": self.start_char,
            "end_char": self.end_char,
            "field": self.field,
        }


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """How one dimension leans.

    Attributes
    ----------
    dimension : str
        One of the five dimensions.
    score : float
        In ``[-1, 1]``: +1 all evidence at the marketing pole, -1 all at the sales pole, 0 balanced
        or no evidence.
    marketing, sales : float
        Evidence at each pole.
    lean : str or None
        ``"marketing"``, ``"sales"`` or None when balanced or silent.
    evidence : tuple of Evidence
        The matches of this dimension.
    """

    dimension: str
    score: float
    marketing: float
    sales: float
    lean: str | None
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "dimension": self.dimension,
            "score": self.score,
            "marketing": self.marketing,
            "sales": self.sales,
            "lean": self.lean,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """A label with its probabilities, from one source (rules only or model only)."""

    label: str
    scores: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"label": self.label, "scores": dict(self.scores)}


@dataclass(frozen=True, slots=True)
class Prediction:
    """The verdict on one text, with its evidence.

    Attributes
    ----------
    label : str
        ``"marketing"``, ``"sales"`` or ``"other"``.
    scores : dict of str to float
        Calibrated probabilities of the three labels; they sum to 1.
    confidence : float
        The top probability.
    uncertain : bool
        True when a person should check the label.
    reason : str or None
        Why it is uncertain (see :data:`REASONS`); None when it is not.
    dimensions : tuple of DimensionScore
        The five dimensions, in :class:`~mktsales.dimensions.Dimension` order.
    evidence : tuple of Evidence
        Every rule match, in text order.
    rules : Verdict
        What the rules alone say.
    model : Verdict
        What the text model alone (no rule features) says.
    agreement : str
        ``"agree"``, ``"conflict"`` (opposite poles), ``"differ"`` (one says other) or
        ``"rules_silent"`` (no rule matched).
    language : str
        ``"en"`` or the code of the language detected.
    truncated : bool
        True when only the beginning of a very long text was scored.
    """

    label: str
    scores: dict[str, float]
    confidence: float
    uncertain: bool
    reason: str | None
    dimensions: tuple[DimensionScore, ...]
    evidence: tuple[Evidence, ...]
    rules: Verdict
    model: Verdict
    agreement: str
    language: str = "en"
    truncated: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as plain tuples, each Evidence once (the dimensions refer to it by position):
        # about half the time of pickling the dataclasses one by one (measured), which counts
        # when worker processes send predictions back (classify_many with n_process > 1).
        items = list(self.evidence)
        position = {id(e): i for i, e in enumerate(items)}
        dims = []
        for d in self.dimensions:
            refs = []
            for e in d.evidence:
                if id(e) not in position:  # not among the prediction's own evidence
                    position[id(e)] = len(items)
                    items.append(e)
                refs.append(position[id(e)])
            dims.append((d.dimension, d.score, d.marketing, d.sales, d.lean, tuple(refs)))
        evidence = [
            (e.rule_id, e.dimension, e.pole, e.weight, e.text, e.matched, e.start_char, e.end_char, e.field)
            for e in items
        ]
        head = (self.label, self.scores, self.confidence, self.uncertain, self.reason, len(self.evidence))
        verdicts = (self.rules.label, self.rules.scores, self.model.label, self.model.scores)
        return _rebuild_prediction, (
            head,
            tuple(dims),
            tuple(evidence),
            verdicts,
            self.agreement,
            self.language,
            self.truncated,
        )

    def dimension(self, name: str | Dimension) -> DimensionScore:
        """Return the score of one dimension by name."""
        key = str(name)
        for d in self.dimensions:
            if d.dimension == key:
                return d
        raise KeyError(f"no dimension {key!r}; dimensions are {[d.dimension for d in self.dimensions]}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (all keys always present)."""
        return {
            "label": self.label,
            "scores": {k: self.scores[k] for k in LABELS},
            "confidence": self.confidence,
            "uncertain": self.uncertain,
            "reason": self.reason,
            "agreement": self.agreement,
            "language": self.language,
            "truncated": self.truncated,
            "rules": self.rules.to_dict(),
            "model": self.model.to_dict(),
            "dimensions": [d.to_dict() for d in self.dimensions],
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _rebuild_prediction(
    head: tuple[Any, ...],
    dims: tuple[tuple[Any, ...], ...],
    evidence: tuple[tuple[Any, ...], ...],
    verdicts: tuple[Any, ...],
    agreement: str,
    language: str,
    truncated: bool,
) -> Prediction:
    """Inverse of ``Prediction.__reduce__``."""
    items = [Evidence(*e) for e in evidence]
    dimensions = tuple(DimensionScore(d[0], d[1], d[2], d[3], d[4], tuple(items[i] for i in d[5])) for d in dims)
    label, scores, confidence, uncertain, reason, n_evidence = head
    return Prediction(
        label=label,
        scores=scores,
        confidence=confidence,
        uncertain=uncertain,
        reason=reason,
        dimensions=dimensions,
        evidence=tuple(items[:n_evidence]),
        rules=Verdict(verdicts[0], verdicts[1]),
        model=Verdict(verdicts[2], verdicts[3]),
        agreement=agreement,
        language=language,
        truncated=truncated,
    )
