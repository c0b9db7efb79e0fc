"""Progress of a file run: what :func:`mktsales.batch.label_file` passes to its ``progress`` callback."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Progress"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a file run stands; passed to the ``progress`` callback after every chunk.

    Attributes
    ----------
    records : int
        Input records done, including those of an earlier, resumed session.
    session_records : int
        Records done by this session.
    seconds : float
        Time this session has run.
    fraction : float or None
        Share of the input read (bytes or rows), None when unknown (standard input).
    start_fraction : float
        ``fraction`` when this session started (non-zero after a resume).
    """

    records: int
    session_records: int
    seconds: float
    fraction: float | None
    start_fraction: float = 0.0
