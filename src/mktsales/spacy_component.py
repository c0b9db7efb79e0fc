"""A spaCy pipeline component: ``nlp.add_pipe("mktsales")``.

Registered through the ``spacy_factories`` entry point, so it is available in any spaCy pipeline
once mktsales is installed::

    import spacy
    nlp = spacy.blank("en")
    nlp.add_pipe("mktsales")
    doc = nlp("Own the quarterly pipeline and close enterprise deals")
    doc.cats            # {"marketing": ..., "sales": ..., "other": ...}
    doc._.mktsales      # the full mktsales.Prediction

The component classifies ``doc.text`` with mktsales' own preprocessing; it does not depend on the
pipeline's tokenizer or other components.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

__all__ = ["MktSalesComponent", "make_mktsales_component"]

EXTENSION = "mktsales"


class MktSalesComponent:
    """Sets ``doc.cats`` (the three probabilities) and ``doc._.mktsales`` (the Prediction).

    Parameters
    ----------
    nlp : Language
        The pipeline (unused; spaCy passes it to every factory).
    name : str
        The component's name in the pipeline.
    model : str, optional
        A model file instead of the shipped model.
    trusted : bool, default=False
        Load ``model`` without a checksum (it runs pickle code).
    rules, extra_rules : str, optional
        Rules files replacing or extending the model's rules.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        model: str | None = None,
        trusted: bool = False,
        rules: str | None = None,
        extra_rules: str | None = None,
    ) -> None:
        from mktsales.api import Classifier, default_classifier

        self.name = name
        if model is None and rules is None and extra_rules is None:
            self.classifier = default_classifier()
        else:
            self.classifier = Classifier.load(model, trusted=trusted, rules=rules, extra_rules=extra_rules)
        if not Doc.has_extension(EXTENSION):
            Doc.set_extension(EXTENSION, default=None)

    def _set(self, doc: Doc, prediction: Any) -> Doc:
        doc.cats = {**doc.cats, **prediction.scores}
        doc._.set(EXTENSION, prediction)
        return doc

    def __call__(self, doc: Doc) -> Doc:
        """Classify one document."""
        return self._set(doc, self.classifier.classify(doc.text))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Classify a stream of documents (used by ``nlp.pipe``), ``batch_size`` at a time."""
        docs = iter(stream)
        while batch := list(itertools.islice(docs, batch_size)):
            predictions = self.classifier.classify_many([doc.text for doc in batch], batch_size=batch_size)
            for doc, prediction in zip(batch, predictions, strict=True):
                yield self._set(doc, prediction)


@Language.factory(
    "mktsales",
    default_config={"model": None, "trusted": False, "rules": None, "extra_rules": None},
)
def make_mktsales_component(
    nlp: Language,
    name: str,
    model: str | None,
    trusted: bool,
    rules: str | None,
    extra_rules: str | None,
) -> MktSalesComponent:
    """spaCy factory of :class:`MktSalesComponent`."""
    return MktSalesComponent(nlp, name, model=model, trusted=trusted, rules=rules, extra_rules=extra_rules)
