"""The five dimensions that tell marketing from sales, and their two poles.

The dimensions come from the project's reference text, which contrasts the two departments on
their objective, their level (strategy or tactics), their scope (global or local), the nature of
their work (theory or practice) and their horizon (long or short term).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DIMENSIONS", "LABELS", "Dimension", "DimensionInfo", "Pole"]


class Pole(StrEnum):
    """The two poles a rule can point to."""

    MARKETING = "marketing"
    SALES = "sales"


class Dimension(StrEnum):
    """The five dimensions of the reference text."""

    OBJECTIVE = "objective"
    LEVEL = "level"
    SCOPE = "scope"
    NATURE = "nature"
    HORIZON = "horizon"


@dataclass(frozen=True)
class DimensionInfo:
    """What each pole of one dimension stands for."""

    dimension: Dimension
    marketing: str
    sales: str


DIMENSIONS: tuple[DimensionInfo, ...] = (
    DimensionInfo(
        Dimension.OBJECTIVE,
        marketing="build the brand, awareness, reputation and reasons to buy",
        sales="put the product in front of the buyer, close and collect the money",
    ),
    DimensionInfo(
        Dimension.LEVEL,
        marketing="strategic: research, positioning, pricing, channel and promotion policy",
        sales="tactical: carry out the plan, run channels, logistics and cash flow",
    ),
    DimensionInfo(
        Dimension.SCOPE,
        marketing="global: the whole company's interest, hard to quantify",
        sales="local: goods sold and money returned",
    ),
    DimensionInfo(
        Dimension.NATURE,
        marketing="theoretical: research, analysis and planning",
        sales="pragmatic field practice",
    ),
    DimensionInfo(
        Dimension.HORIZON,
        marketing="long term: yearly, five- and ten-year cycles",
        sales="short term: monthly, quarterly, at most yearly",
    ),
)

#: The labels a prediction can take, in the order used for score vectors.
LABELS: tuple[str, str, str] = ("marketing", "sales", "other")
